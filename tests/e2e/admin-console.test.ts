// The admin console (/admin) in headless Chromium against a real stack (2 gateways, 2 workers,
// heartbeats every 500 ms): a wrong key sees only the refusal; the right one sees every gateway and
// worker and the last hour's charts; blocking a user in the console refuses their chats on every
// gateway until they are unblocked; a streaming reply found in the console is cancelled from it and
// its session deleted; a SIGKILLed worker is marked stale within the heartbeat window.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { connect, http, newSession, sendChat, tokensOf, type Session } from '../support/chat-client.js';
import { type ContextOptions, screenshot, simConfig, useBrowserStack, waitCount } from '../support/browser.js';
import { sleep, waitUntil } from '../support/probes.js';
import { SIM_DEFAULTS } from '../support/test-stack.js';

// No response cache: every message reaches a worker, so the charts and usage move.
const { stack, newContext, closeContexts } = useBrowserStack('admin-console', { gateways: 2, workers: 2, env: { HEARTBEAT_MS: '500', CACHE_TTL_SECONDS: '0' } });

// A console polls while open; closing it after each test keeps the next under the admin rate limit.
afterEach(closeContexts);

async function openConsole(key: string, options: ContextOptions = {}): Promise<Page> {
  const context = await newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  await page.goto(`${stack.gateways[0]!.url}/admin`);
  // Keyboard only: the key field has the focus, Enter signs in.
  await page.getByTestId('admin-key-input').waitFor();
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  return page;
}

async function signedIn(options: ContextOptions = {}): Promise<Page> {
  const page = await openConsole(stack.adminApiKey, options);
  await page.getByTestId('admin-console').waitFor({ timeout: 10_000 });
  return page;
}

/** One message over REST, answered whole; returns the HTTP status and error code if refused. */
async function chat(base: string, session: Session, content: string): Promise<{ status: number; code?: string }> {
  const r = await http<{ error?: { code: string } }>(base, 'POST', '/chat/message', { token: session.token, body: { sessionId: session.sessionId, content } });
  return r.json?.error === undefined ? { status: r.status } : { status: r.status, code: r.json.error.code };
}

/**
 * Chats from a few users over both gateways until stopped, so the charts and usage have something;
 * about 50 messages a minute each, under the per-user limit of 60.
 */
function traffic(): { stop: () => Promise<void> } {
  let running = true;
  const loop = async (i: number): Promise<void> => {
    const base = stack.gateways[i % 2]!.url;
    const session = await newSession(base, { userId: `steady-${i}` });
    for (let n = 0; running; n++) {
      await chat(base, session, `Question ${n} from user ${i}: what is the weather like?`);
      await sleep(1_000);
    }
  };
  const loops = [0, 1, 2].map((i) => loop(i));
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const roles = (page: Page): Promise<string[][]> =>
  page.getByTestId('admin-instance').evaluateAll((els) => els.map((e) => [e.getAttribute('data-instance') ?? '', e.getAttribute('data-role') ?? '', e.getAttribute('data-stale') ?? '']));

describe('admin console', () => {
  it('serves the page at /admin with a strict CSP, and shows a wrong key nothing but the refusal', async () => {
    const served = await http(stack.gateways[1]!.url, 'GET', '/admin');
    expect(served.status).toBe(200);
    expect(served.text).toContain('<div id="admin"></div>');
    expect(served.headers.get('content-security-policy')).toContain("default-src 'none'");

    const page = await openConsole('not-the-admin-key-at-all');
    await expect(page.getByTestId('admin-error').innerText()).resolves.toMatch(/not accepted/);
    expect(await page.getByTestId('admin-fleet').count()).toBe(0);
    expect(await page.getByTestId('admin-console').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
    await screenshot(page, 'admin-wrong-key');
  });

  it('signs in with the key and shows both gateways and both workers, the queue and the charts', async () => {
    const load = traffic();
    // Tall enough for the fleet and every chart in one screenshot.
    const viewport = { width: 1280, height: 1160 };
    try {
      const page = await signedIn({ viewport });
      // The key is kept in this tab's sessionStorage only: no cookie, nothing in localStorage.
      expect(await page.evaluate(() => sessionStorage.getItem('chat-fleet:admin-key'))).toBe(stack.adminApiKey);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      expect(await page.context().cookies()).toEqual([]);
      expect(await page.getByTestId('admin-who').innerText()).toBe('admin-key');

      await waitCount(page.getByTestId('admin-instance'), 4, 10_000);
      expect(await roles(page)).toEqual([
        ['gateway-1', 'gateway', 'false'],
        ['gateway-2', 'gateway', 'false'],
        ['worker-1', 'worker', 'false'],
        ['worker-2', 'worker', 'false'],
      ]);
      await page.getByTestId('admin-queue').waitFor();

      // Each chart says what it shows and its latest value; the messages chart sees the traffic
      // once a 10 s bucket with it has ended (the console asks every 10 s).
      await waitCount(page.getByTestId('admin-chart'), 5);
      const messages = page.locator('[data-chart="messages"]');
      await page.waitForFunction(
        () => {
          const text = document.querySelector('[data-chart="messages"] .chart-latest')?.textContent ?? '';
          return text.startsWith('latest:') && text !== 'latest: 0/s';
        },
        undefined,
        { timeout: 30_000 },
      );
      expect(await messages.locator('svg[role="img"]').getAttribute('aria-labelledby')).toBeTruthy();
      expect(await messages.locator('figcaption').innerText()).toMatch(/^Messages\s+latest: [\d.]+\/s$/);
      await page.waitForFunction(() => /latest: p50 \d+ ms/.test(document.querySelector('[data-chart="first-token"] .chart-latest')?.textContent ?? ''), undefined, {
        timeout: 15_000,
      });
      await screenshot(page, 'admin-fleet');

      const dark = await signedIn({ viewport, colorScheme: 'dark' });
      await waitCount(dark.getByTestId('admin-instance'), 4, 10_000);
      await dark.locator('[data-chart="messages"] path.chart-line').waitFor();
      await screenshot(dark, 'admin-fleet-dark');
    } finally {
      await load.stop();
    }
  }, 90_000);

  it('blocks a user: their chats are refused with forbidden on every gateway until unblocked, and the audit shows both', async () => {
    const [g1, g2] = [stack.gateways[0]!, stack.gateways[1]!];
    const userId = `blockee-${Date.now()}`;
    const session = await newSession(g1.url, { userId });
    // One reply so the user is among the heaviest this month.
    expect(await chat(g1.url, session, 'Hello, who are you?')).toEqual({ status: 200 });

    const page = await signedIn();
    await page.getByTestId('admin-nav-users').click();
    const row = page.locator(`[data-testid="admin-user-row"][data-user="${userId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('button').click();
    await page.locator(`[data-testid="admin-user"][data-user="${userId}"]`).waitFor();

    await page.getByTestId('admin-block').click();
    // Nothing happens before the confirm dialog says yes.
    await page.getByTestId('admin-confirm').waitFor();
    await screenshot(page, 'admin-block-confirm');
    await page.getByTestId('admin-confirm').click();
    await page.locator('[data-testid="admin-user-status"][data-blocked="true"]').waitFor({ timeout: 5_000 });

    // A gateway may cache the block list for 2 s.
    await waitUntil(async () => (await chat(g2.url, session, 'Still there?')).code === 'forbidden', 5_000, 'a refused message on gateway-2');
    expect(await chat(g1.url, session, 'Still there?')).toEqual({ status: 403, code: 'forbidden' });
    const created = await http<{ error: { code: string } }>(g2.url, 'POST', '/chat/session', { body: { userId } });
    expect([created.status, created.json.error.code]).toEqual([403, 'forbidden']);
    const socket = await connect(g2.wsUrl, session.sessionId, 'blocked-tab', session.token);
    const sent = await sendChat(socket, 'Over the socket then?');
    expect('error' in sent && sent.error.code).toBe('forbidden');
    socket.close();

    await page.getByTestId('admin-unblock').click();
    await page.getByTestId('admin-confirm').click();
    await page.locator('[data-testid="admin-user-status"][data-blocked="false"]').waitFor({ timeout: 5_000 });
    await waitUntil(async () => (await chat(g2.url, session, 'Back again?')).status === 200, 5_000, 'an answered message on gateway-2');
    expect(await chat(g1.url, session, 'And here?')).toEqual({ status: 200 });

    await page.getByTestId('admin-nav-audit').click();
    const entries = page.locator('[data-testid="admin-audit-entry"]', { hasText: userId });
    await waitCount(entries, 2, 5_000);
    const actions = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-action') ?? ''));
    expect(actions[0]).toMatch(/unblock/);
    expect(actions[1]).toMatch(/block/);
    expect(actions[1]).not.toMatch(/unblock/);
    await screenshot(page, 'admin-audit');
  }, 60_000);

  it('finds a streaming reply by its user, cancels it (the client gets done, cancelled) and deletes the session', async () => {
    await simConfig(stack.sim!.url, { replyTokens: 200, tokensPerSec: 10 });
    try {
      const gateway = stack.gateways[1]!;
      const userId = `streamer-${Date.now()}`;
      const session = await newSession(gateway.url, { userId });
      const socket = await connect(gateway.wsUrl, session.sessionId, 'reader', session.token);
      const sent = await sendChat(socket, 'Tell me a very long story about a lighthouse.');
      if (!('messageId' in sent)) throw new Error(`refused: ${JSON.stringify(sent.error)}`);
      const { messageId } = sent;
      await socket.until((fs) => tokensOf(fs, messageId).length >= 3 || undefined, 15_000, 'the first tokens');

      const page = await signedIn();
      await page.getByTestId('admin-nav-sessions').click();
      await page.getByTestId('admin-session-search').fill(userId);
      await page.getByTestId('admin-session-search').press('Enter');
      const row = page.locator(`[data-testid="admin-session-row"][data-session="${session.sessionId}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.getByRole('button').click();

      const inflight = page.locator(`[data-testid="admin-inflight"][data-message="${messageId}"]`);
      await inflight.waitFor({ timeout: 10_000 });
      // The text so far, as the reply stream holds it, grows while the console watches.
      const before = await page.getByTestId('admin-inflight-text').innerText();
      await page.waitForFunction((n) => (document.querySelector('[data-testid="admin-inflight-text"]')?.textContent ?? '').length > n, before.length, { timeout: 10_000 });
      expect(await page.getByTestId('admin-message').evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual(['user']);
      await screenshot(page, 'admin-session-streaming');

      await page.getByTestId('admin-cancel-reply').click();
      const done = await socket.until((fs) => fs.find((f) => f.type === 'done' && f.messageId === messageId), 10_000, 'done');
      expect(done.type === 'done' && done.finishReason).toBe('cancelled');
      expect(tokensOf(socket.frames, messageId).length).toBeLessThan(200);
      // The console shows the reply stored as cancelled, and nothing in flight.
      await page.locator('[data-testid="admin-message"][data-role="assistant"]').waitFor({ timeout: 5_000 });
      await waitCount(page.getByTestId('admin-inflight'), 0, 5_000);

      await page.getByTestId('admin-delete-session').click();
      await page.getByTestId('admin-confirm').click();
      await waitUntil(() => socket.closed, 5_000, 'the socket closed');
      expect(socket.closed?.code).toBe(4100);
      // The console asks again once its DELETE is answered, which may be after the socket closed.
      await page.getByTestId('admin-session').getByText(/no longer exists/).waitFor({ timeout: 5_000 });
      expect((await http(gateway.url, 'GET', `/chat/session/${session.sessionId}`, { token: session.token })).status).toBe(404);
    } finally {
      await simConfig(stack.sim!.url, { replyTokens: Number(SIM_DEFAULTS.SIM_REPLY_TOKENS), tokensPerSec: Number(SIM_DEFAULTS.SIM_TOKENS_PER_SEC) });
    }
  }, 60_000);

  it('marks a SIGKILLed worker stale (or drops it) within the heartbeat window', async () => {
    const page = await signedIn();
    await waitCount(page.getByTestId('admin-instance'), 4, 10_000);
    const killed = Date.now();
    stack.workers[1]!.process.kill('SIGKILL');
    const card = page.locator('[data-testid="admin-instance"][data-instance="worker-2"]');
    // 3 heartbeats of 500 ms, then the console's next poll (2 s); the contract allows 15 s.
    await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid="admin-instance"][data-instance="worker-2"]');
        return el === null || el.getAttribute('data-stale') === 'true';
      },
      undefined,
      { timeout: 15_000 },
    );
    expect(Date.now() - killed).toBeLessThan(15_000);
    if ((await card.count()) === 1) expect(await card.getByTestId('admin-stale-note').innerText()).toMatch(/^no heartbeat for \d+ (s|min)$/);
    expect(await page.locator('[data-testid="admin-instance"][data-stale="false"]').count()).toBe(3);
    await screenshot(page, 'admin-stale-worker');
  }, 30_000);
});
