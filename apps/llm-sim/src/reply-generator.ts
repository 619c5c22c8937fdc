// Deterministic replies: the same prompt, model and seed always give the same tokens, so tests know what to expect.
import { messageText, type MessageLike } from './chat-request.js';
import { createRandom, hashSeed } from './seeded-random.js';
import type { SimSettings } from './sim-settings.js';

const VOCABULARY: readonly string[] = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word ' +
  'but not what all were we when your can said there use an each which she do how their if will up other about ' +
  'out many then them these so some her would make like him into time has look two more write go see number no ' +
  'way could people my than first water been call who oil its now find long down day did get come made may part ' +
  'over new sound take only little work know place year live me back give most very after thing our just name ' +
  'good sentence man think say great where help through much before line right too mean old any same tell boy ' +
  'follow came want show also around form three small set put end does another well large must big even such ' +
  'because turn here why ask went men read need land different home us move try kind hand picture again change ' +
  'off play spell air away animal house point page letter mother answer found study still learn should world'
).split(' ');

export const REPLY_VOCABULARY_SIZE = VOCABULARY.length;

/** The PRNG seed of one reply: sha256 of the messages' roles and text, the model and the settings seed. */
export function replySeed(messages: readonly MessageLike[], model: string, seed: number): number {
  const canonical = JSON.stringify(messages.map((m) => [m.role, messageText(m)]));
  return hashSeed(`${canonical}\n${model}\n${seed}`);
}

/**
 * The full reply as tokens: one word each, a leading space on all but the first,
 * sentences of 8–14 words with a capitalized start and a closing period.
 * Joining the tokens gives the text the simulator sends (before any max_tokens cut).
 */
export function generateReply(
  messages: readonly MessageLike[],
  model: string,
  settings: Pick<SimSettings, 'replyTokens' | 'seed'>,
): string[] {
  const random = createRandom(replySeed(messages, model, settings.seed));
  const count = settings.replyTokens;
  const tokens = new Array<string>(count);
  let left = 0;
  for (let i = 0; i < count; i++) {
    const sentenceStart = left === 0;
    if (sentenceStart) left = 8 + Math.floor(random() * 7);
    let word = VOCABULARY[Math.floor(random() * VOCABULARY.length)] ?? 'the';
    if (sentenceStart) word = word.charAt(0).toUpperCase() + word.slice(1);
    left--;
    if (left === 0 || i === count - 1) word += '.';
    tokens[i] = i === 0 ? word : ` ${word}`;
  }
  return tokens;
}
