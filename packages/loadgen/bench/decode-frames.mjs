// Frames per second of the load runner's decode path, two ways in the same process: the SDK's own
// decoder (JSON.parse of every frame) and the runner's token scanner (src/frame-reader.ts), each
// followed by what the runner does next (the SDK's ReplyAssembler, keepText false). Each frame
// starts as the bytes `ws` hands over, turned into text as the SDK's socket receives it.
// The rounds alternate so that both ways see the same machine; the median round is reported.
//
//   npm run build -w @chat-fleet/client -w @chat-fleet/loadgen && node packages/loadgen/bench/decode-frames.mjs
import { decodeServerFrame, ReplyAssembler } from '@chat-fleet/client';
import { decodeWithoutTokenText } from '../dist/frame-reader.js';

const REPLIES = 2_000;
const TOKENS = 48;
const ROUNDS = Number(process.argv[2] ?? 7);
const words = ['the', ' tide', ' rises', ',', ' because', ' the', ' moon', "'s", ' pull', ' "seq":3', ' \\u00e9t\u00e9', ' ocean'];

/** The frames of REPLIES replies as the gateway relays them: ack, TOKENS tokens, done. */
const replies = [];
for (let r = 0; r < REPLIES; r++) {
  const messageId = `msg_${r.toString(36)}_${'x'.repeat(20)}`;
  const frames = [Buffer.from(JSON.stringify({ type: 'ack', id: `t${r}`, messageId }))];
  for (let seq = 1; seq <= TOKENS; seq++) frames.push(Buffer.from(JSON.stringify({ type: 'token', messageId, seq, text: words[(r + seq) % words.length] })));
  frames.push(Buffer.from(JSON.stringify({ type: 'done', messageId, seq: TOKENS, cached: false, usage: { promptTokens: 30, completionTokens: TOKENS }, finishReason: 'stop' })));
  replies.push(frames);
}
const frameCount = REPLIES * (TOKENS + 2);

function run(decode) {
  let whole = 0;
  const t0 = performance.now();
  for (const frames of replies) {
    const a = new ReplyAssembler({ keepText: false });
    for (const bytes of frames) {
      const frame = decode(bytes.toString('utf8'));
      if (frame === undefined || frame.type === 'ack') continue;
      if (a.apply(frame) === 'done') whole++;
    }
  }
  const ms = performance.now() - t0;
  if (whole !== REPLIES) throw new Error(`only ${whole} of ${REPLIES} replies whole`);
  return frameCount / (ms / 1000);
}

const ways = { 'SDK decodeServerFrame': decodeServerFrame, 'token scanner (frame-reader)': decodeWithoutTokenText };
const rates = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (const decode of Object.values(ways)) run(decode); // warm-up
for (let i = 0; i < ROUNDS; i++) for (const [name, decode] of Object.entries(ways)) rates[name].push(run(decode));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${frameCount} frames per round (${REPLIES} replies of ${TOKENS} tokens), ${ROUNDS} rounds, median:`);
for (const [name, xs] of Object.entries(rates)) console.log(`  ${name.padEnd(30)} ${Math.round(median(xs)).toLocaleString('en-US').padStart(12)} frames/s`);
const [a, b] = Object.values(rates).map(median);
console.log(`  scanner / SDK: ${(b / a).toFixed(2)}x`);
