// tone_check: a deterministic reading of a message's tone from word lists, exclamation marks and
// words in capitals. Crude on purpose: the same text always gets the same answer, and each verdict
// names the words that led to it.
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export const TONES = ['polite', 'neutral', 'rude', 'urgent'] as const;

export const ToneResultSchema = z.object({
  tone: z.enum(TONES),
  /** -1 (hostile) to 1 (warm), two decimals. */
  sentiment: z.number().min(-1).max(1),
  notes: z.array(z.string()),
});

export type ToneResult = z.infer<typeof ToneResultSchema>;

const words = (list: string): ReadonlySet<string> => new Set(list.split(' '));

const POLITE = words('please thank thanks thx appreciate appreciated kindly grateful sorry apologies apologise apologize pardon excuse welcome');
const RUDE = words(
  'stupid idiot idiots idiotic dumb useless pathetic incompetent ridiculous moron morons crap damn hell garbage rubbish joke clowns clown sucks suck disgrace disgraceful',
);
const URGENT = words('urgent urgently asap immediately emergency quickly hurry deadline critical');
const NEGATIVE = words(
  'bad angry annoyed upset disappointed disappointing terrible awful worst horrible unacceptable hate lost missed cancelled delayed problem problems wrong broken never complaint furious',
);
const POSITIVE = words('good great happy love excellent wonderful helpful nice perfect amazing glad pleased fantastic best lovely');

/** Phrases whose words alone say nothing ("now", "shut"). */
const PHRASES: readonly [RegExp, 'polite' | 'rude' | 'urgent'][] = [
  [/\bwould you mind\b/i, 'polite'],
  [/\bshut up\b/i, 'rude'],
  [/\bright (now|away)\b/i, 'urgent'],
  [/\bas soon as possible\b/i, 'urgent'],
];

const clamp = (n: number): number => Math.max(-1, Math.min(1, n));

export function checkTone(text: string): ToneResult {
  const tokens = text.match(/[\p{L}\p{N}']+/gu) ?? [];
  const lower = tokens.map((t) => t.toLowerCase().replace(/'s$/, ''));
  const found = (list: ReadonlySet<string>) => [...new Set(lower.filter((w) => list.has(w)))];
  const polite = found(POLITE);
  const rude = found(RUDE);
  const urgent = found(URGENT);
  const negative = found(NEGATIVE);
  const positive = found(POSITIVE);
  for (const [pattern, kind] of PHRASES) {
    const match = pattern.exec(text)?.[0].toLowerCase();
    if (match === undefined) continue;
    if (kind === 'polite') polite.push(match);
    else if (kind === 'rude') rude.push(match);
    else urgent.push(match);
  }
  const exclamations = (text.match(/!/g) ?? []).length;
  // Shouting: words of three letters or more in capitals; EU or a flight number like XY123 is not shouting.
  const shouted = tokens.filter((t) => t.length >= 3 && /\p{L}/u.test(t) && t === t.toUpperCase() && t !== t.toLowerCase() && !/\d/.test(t));
  const shouting = shouted.length >= 2 || (shouted.length === 1 && tokens.length <= 3);

  const notes: string[] = [];
  if (polite.length > 0) notes.push(`polite words: ${polite.join(', ')}`);
  if (rude.length > 0) notes.push(`rude words: ${rude.join(', ')}`);
  if (urgent.length > 0) notes.push(`urgent words: ${urgent.join(', ')}`);
  if (negative.length > 0) notes.push(`negative words: ${negative.join(', ')}`);
  if (positive.length > 0) notes.push(`positive words: ${positive.join(', ')}`);
  if (exclamations > 0) notes.push(`${exclamations} exclamation mark${exclamations === 1 ? '' : 's'}`);
  if (shouting) notes.push(`in capitals: ${shouted.join(' ')}`);

  const warmth = positive.length + polite.length - negative.length - 2 * rude.length - (shouting ? 1 : 0);
  // Exclamation marks strengthen whichever way the text already leans.
  const intensity = 1 + Math.min(exclamations, 3) * 0.15;
  const sentiment = Math.round(clamp((warmth / Math.max(3, lower.length / 4)) * intensity) * 100) / 100;

  let tone: ToneResult['tone'] = 'neutral';
  if (rude.length > 0 || (shouting && negative.length > 0)) tone = 'rude';
  else if (urgent.length > 0 || exclamations >= 3) tone = 'urgent';
  else if (polite.length > 0) tone = 'polite';
  return { tone, sentiment: Object.is(sentiment, -0) ? 0 : sentiment, notes };
}

/** One sentence a model can quote. */
export function describeTone(r: ToneResult): string {
  const lean = r.sentiment > 0.2 ? 'positive' : r.sentiment < -0.2 ? 'negative' : 'even';
  const why = r.notes.length === 0 ? 'no marked words or punctuation' : r.notes.join('; ');
  return `The tone is ${r.tone}, the sentiment ${lean} (${r.sentiment.toFixed(2)}): ${why}.`;
}

export function registerToneCheck(server: McpServer): RegisteredTool {
  return server.registerTool(
    'tone_check',
    {
      title: 'Tone check',
      description:
        "Reads the tone of a text: polite, neutral, rude or urgent, a sentiment from -1 to 1, and notes naming the words and punctuation behind it. Use it to gauge a customer's message before answering, or to check a draft reply.",
      inputSchema: {
        text: z.string().min(1).max(20_000).describe('The text to read'),
      },
      outputSchema: ToneResultSchema.shape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text }) => {
      const result = checkTone(text);
      return { content: [{ type: 'text', text: describeTone(result) }], structuredContent: result };
    },
  );
}
