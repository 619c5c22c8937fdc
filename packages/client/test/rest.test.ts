// The REST calls as they go on the wire: method, path, query, bearer and body, over a recording fetch.
import { describe, expect, it } from '@jest/globals';
import { ChatApi } from '../src/index.js';

interface Sent {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

function recordingApi(answer: unknown, status = 200): { api: ChatApi; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    sent.push({ method: init?.method ?? 'GET', url: typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, authorization: headers.authorization, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    return Promise.resolve(new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } }));
  };
  return { api: new ChatApi({ gateways: ['http://gw'], fetch }), sent };
}

describe('ChatApi conversations', () => {
  it('lists the caller\'s sessions a page at a time with the token given', async () => {
    const page = { sessions: [{ sessionId: 's2', title: 'Trip to Lyon', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-02T00:00:00Z' }], nextBefore: 'c1' };
    const { api, sent } = recordingApi(page);
    await expect(api.listSessions('tok')).resolves.toEqual(page);
    await api.listSessions('tok', { limit: 20, before: 'c1' });
    expect(sent).toEqual([
      { method: 'GET', url: 'http://gw/chat/sessions', authorization: 'Bearer tok', body: undefined },
      { method: 'GET', url: 'http://gw/chat/sessions?limit=20&before=c1', authorization: 'Bearer tok', body: undefined },
    ]);
  });

  it('renames a session, gets a fresh token for one, and sends the locale when creating one', async () => {
    const { api, sent } = recordingApi({ sessionId: 's/1', title: 'Plans', token: 't2', expiresAt: '2999-01-01T00:00:00Z' }, 201);
    await api.renameSession({ sessionId: 's/1', token: 't1' }, 'Plans');
    await api.sessionToken('s/1', 'other');
    await api.createSession({ userId: 'web-1', locale: 'zh-CN' });
    expect(sent).toEqual([
      { method: 'PATCH', url: 'http://gw/chat/session/s%2F1', authorization: 'Bearer t1', body: { title: 'Plans' } },
      { method: 'POST', url: 'http://gw/chat/session/s%2F1/token', authorization: 'Bearer other', body: undefined },
      { method: 'POST', url: 'http://gw/chat/session', authorization: undefined, body: { userId: 'web-1', locale: 'zh-CN' } },
    ]);
  });
});
