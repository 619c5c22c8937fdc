// Issue 13, item 10: personal data in the forms people paste (full-width, dotted, `00` and a
// country code, over two lines, with invisible characters between the digits), national ids
// included, is replaced at the gateway: what the model receives (the simulator's request log) and
// what the history holds carry the placeholders, never the value.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { http, newSession } from '../support/chat-client.js';
import { simRequests } from '../support/probes.js';
import { useTestStack } from '../support/test-stack.js';

const FORMS = [
  { name: 'full-width @', raw: 'taro＠example.com', kind: 'EMAIL', say: (v: string) => `Mail ${v} please`, expected: 'Mail [EMAIL] please' },
  { name: 'full-width phone', raw: '０９０-１２３４-５６７８', kind: 'PHONE', say: (v: string) => `携帯は${v}です`, expected: '携帯は[PHONE]です' },
  { name: 'full-width card', raw: '４１１１ １１１１ １１１１ １１１１', kind: 'CARD', say: (v: string) => `カード ${v} で`, expected: 'カード [CARD] で' },
  { name: 'dotted card', raw: '4111.1111.1111.1111', kind: 'CARD', say: (v: string) => `card ${v} ok`, expected: 'card [CARD] ok' },
  { name: '00 and a country code', raw: '0049 30 12345678', kind: 'PHONE', say: (v: string) => `ruf ${v} an`, expected: 'ruf [PHONE] an' },
  { name: 'card over two lines', raw: '5555 5555\n5555 4444', kind: 'CARD', say: (v: string) => `my card:\n${v}\nthanks`, expected: 'my card:\n[CARD]\nthanks' },
  { name: 'word joiners', raw: '4111\u20601111\u20601111\u20601111', kind: 'CARD', say: (v: string) => `pay ${v} now`, expected: 'pay [CARD] now' },
  { name: 'soft hyphens', raw: '+44\u00ad20\u00ad7946\u00ad0958', kind: 'PHONE', say: (v: string) => `ring ${v} today`, expected: 'ring [PHONE] today' },
  { name: 'Chinese resident id in Chinese text', raw: '11010519491231002X', kind: 'NATIONAL_ID', say: (v: string) => `身份证号${v}谢谢`, expected: '身份证号[NATIONAL_ID]谢谢' },
  { name: 'UK National Insurance number in pairs', raw: 'AB 12 34 56 C', kind: 'NATIONAL_ID', say: (v: string) => `my NINO is ${v}, ok`, expected: 'my NINO is [NATIONAL_ID], ok' },
  { name: 'Saudi id in Arabic-Indic digits', raw: '١٠٠٠٠٠٠٠٠٨', kind: 'NATIONAL_ID', say: (v: string) => `رقم الهوية ${v} شكرا`, expected: 'رقم الهوية [NATIONAL_ID] شكرا' },
  { name: 'full-width DNI', raw: '１２３４５６７８Ｚ', kind: 'NATIONAL_ID', say: (v: string) => `DNI ${v} gracias`, expected: 'DNI [NATIONAL_ID] gracias' },
] as const;

const stack = useTestStack('pii-forms', { gateways: 1, workers: 1 });

describe('personal data in the forms people paste', () => {
  it.each(FORMS)('$name: replaced before the model and the history see it', async ({ raw, kind, say, expected }) => {
    const gw = stack.gateways[0]!;
    const session = await newSession(gw.url);
    // A tag of letters only, so the scrubber leaves it and it finds this message's model call.
    const tag = `case ${Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 8)}`;
    const sent = await http<{ messageId: string; reply: string; scrubbed?: Record<string, number> }>(gw.url, 'POST', '/chat/message', {
      token: session.token,
      body: { sessionId: session.sessionId, content: `${tag}: ${say(raw)}` },
    });
    expect(sent.status).toBe(200);
    expect(sent.json.scrubbed).toEqual({ [kind]: 1 });

    const requests = await simRequests(stack, 1000);
    const seen = requests.map((r) => r.messages.at(-1)?.content ?? '').filter((c) => c.startsWith(tag));
    expect(seen).toEqual([`${tag}: ${expected}`]);

    const history = await http<{ messages: Array<{ role: string; content: string }> }>(gw.url, 'GET', `/chat/session/${session.sessionId}`, { token: session.token });
    expect(history.status).toBe(200);
    expect(history.json.messages[0]).toMatchObject({ role: 'user', content: `${tag}: ${expected}` });
    for (const text of [seen[0]!, ...history.json.messages.map((m) => m.content)]) expect(text).not.toContain(raw);
  });

  it('never writes any of them to a log line', () => {
    const logs = readdirSync(stack.logDir)
      .map((f) => readFileSync(join(stack.logDir, f), 'utf8'))
      .join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const { raw } of FORMS) {
      expect(logs).not.toContain(raw);
      expect(logs).not.toContain(JSON.stringify(raw).slice(1, -1));
    }
  });
});
