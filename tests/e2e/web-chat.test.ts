// The web client in headless Chromium against a real stack (2 gateways, a worker, the simulator):
// streaming, stop, a gateway restart mid-reply, reload and new chat, and a phone-sized screen.
import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { http } from '../support/chat-client.js';
import { SIM_DEFAULTS } from '../support/test-stack.js';
import {
  assistantMessages,
  type ContextOptions,
  lastReplyText,
  pageSession,
  recorded,
  screenshot,
  simConfig,
  startRecording,
  storedHistory,
  useBrowserStack,
  userMessages,
  waitConnected,
  waitCount,
  waitReplyStatus,
  waitReplyWords,
} from '../support/browser.js';

// No response cache: the same question streams again at the simulator's pace in every test.
const { stack, newContext } = useBrowserStack('web-chat', { gateways: 2, workers: 1, env: { CACHE_TTL_SECONDS: '0' } });

async function openPage(url: string, options: ContextOptions = {}): Promise<Page> {
  const context = await newContext({ viewport: { width: 1000, height: 720 }, ...options });
  const page = await context.newPage();
  await page.goto(url);
  await waitConnected(page);
  return page;
}

/** Sets the simulator's pace for the next reply: `tokens` tokens at `perSec`, first after `ttftMs`. */
function pace(tokens: number, perSec: number, ttftMs = Number(SIM_DEFAULTS.SIM_TTFT_MS)): Promise<void> {
  return simConfig(stack.sim!.url, { replyTokens: tokens, tokensPerSec: perSec, ttftMs });
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

describe('web client', () => {
  it('streams a reply in place, with keyboard sending, an aria-live log and the reply timings', async () => {
    const page = await openPage(stack.gateways[0]!.url);
    await expect(page.locator('[role="log"][aria-live="polite"]').count()).resolves.toBe(1);
    expect(await page.getByTestId('chat-stop').count()).toBe(0);

    // A first, quick turn so the page shows a conversation.
    await pace(20, 400);
    await send(page, 'Hello! What can you do?');
    await waitReplyStatus(page, 'done');
    await expect(page.getByTestId('chat-input').inputValue()).resolves.toBe('');

    // Shift+Enter breaks the line, Enter sends.
    // 8 s of streaming: room for the mid-stream checks on a busy machine.
    await pace(40, 5, 300);
    const input = page.getByTestId('chat-input');
    await input.click();
    await input.pressSequentially('Tell me a story');
    await input.press('Shift+Enter');
    await input.pressSequentially('in two lines');
    expect(await input.inputValue()).toBe('Tell me a story\nin two lines');
    await startRecording(page);
    await input.press('Enter');

    await waitCount(userMessages(page), 2);
    expect(await userMessages(page).last().innerText()).toBe('Tell me a story\nin two lines');
    expect(await input.inputValue()).toBe('');
    // Mid-stream: the stop button is there, the reply is marked busy, the log holds it.
    await page.getByTestId('chat-stop').waitFor({ state: 'visible', timeout: 5_000 });
    await page.locator('[data-testid="chat-message-assistant"][aria-busy="true"]').waitFor({ timeout: 5_000 });
    await waitReplyWords(page, 10);
    expect(await page.locator('[aria-live="polite"] [data-testid="chat-message-assistant"]').count()).toBe(2);
    await screenshot(page, 'stream-mid');

    await waitReplyStatus(page, 'done');
    expect(await page.getByTestId('chat-stop').count()).toBe(0);
    const finalText = await lastReplyText(page);
    const { texts } = await recorded(page);
    // Seen growing frame by frame: many distinct states, each a prefix of the next, ending whole.
    expect(texts.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
    expect(texts.at(-1)).toBe(finalText);
    expect(finalText.split(' ')).toHaveLength(40);

    const history = await storedHistory(stack.gateways[1]!.url, await pageSession(page));
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(history[3]!.content).toBe(finalText);
    expect(history[2]!.content).toBe('Tell me a story\nin two lines');

    // The panel: first token no sooner than the simulator's 300 ms, and a rate near its 5 tokens/s.
    const ttft = Number((await page.getByTestId('stats-ttft').innerText()).replace(/ ms$/, ''));
    expect(ttft).toBeGreaterThanOrEqual(300);
    const rate = Number((await page.getByTestId('stats-rate').innerText()).replace(/ tok\/s$/, ''));
    expect(rate).toBeGreaterThan(2);
    expect(rate).toBeLessThan(50);
    await screenshot(page, 'stream-done');
  });

  it('stops a long reply: the text stops growing and the history keeps it as cancelled', async () => {
    const page = await openPage(stack.gateways[0]!.url);
    await pace(400, 25);
    await send(page, 'Write at length');
    await waitReplyWords(page, 6);
    await page.getByTestId('chat-stop').click();
    await waitReplyStatus(page, 'cancelled', 5_000);
    expect(await page.getByTestId('chat-stop').count()).toBe(0);
    await expect(page.getByText('Stopped.').count()).resolves.toBe(1);
    const stopped = await lastReplyText(page);
    await page.waitForTimeout(600);
    expect(await lastReplyText(page)).toBe(stopped);
    const words = stopped.split(' ').length;
    expect(words).toBeGreaterThanOrEqual(6);
    expect(words).toBeLessThan(400);

    const history = await storedHistory(stack.gateways[0]!.url, await pageSession(page));
    expect(history.at(-1)).toMatchObject({ role: 'assistant', status: 'cancelled', content: stopped });
    // The composer is free again.
    await page.getByTestId('chat-input').fill('next');
    expect(await page.getByTestId('chat-send').isEnabled()).toBe(true);
    await screenshot(page, 'stopped');
  });

  it('finishes a reply whole when its gateway restarts mid-stream', async () => {
    const gateway = stack.gateways[1]!;
    const page = await openPage(gateway.url);
    await pace(60, 15);
    await startRecording(page);
    await send(page, 'A reply that outlives its socket');
    await waitReplyWords(page, 5);
    const before = await lastReplyText(page);

    await gateway.restart();
    await waitReplyStatus(page, 'done', 30_000);
    await waitConnected(page);
    const finalText = await lastReplyText(page);
    const { texts, states } = await recorded(page);

    // The socket dropped and came back; the text only ever grew and ends equal to the history.
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('connected');
    expect(finalText.startsWith(before)).toBe(true);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
    expect(finalText.split(' ')).toHaveLength(60);
    const history = await storedHistory(stack.gateways[0]!.url, await pageSession(page));
    expect(history.at(-1)).toMatchObject({ role: 'assistant', content: finalText });
    expect(history.at(-1)!.status).toBeUndefined();
    await screenshot(page, 'after-gateway-restart');
  });

  it('keeps the conversation across reloads, resumes a reply streaming during one, and starts a new chat', async () => {
    const page = await openPage(stack.gateways[0]!.url);
    await pace(20, 400);
    await send(page, 'Remember me');
    await waitReplyStatus(page, 'done');
    const first = await lastReplyText(page);
    const session = await pageSession(page);

    await page.reload();
    await waitConnected(page);
    expect((await pageSession(page)).sessionId).toBe(session.sessionId);
    await waitCount(userMessages(page), 1);
    expect(await lastReplyText(page)).toBe(first);

    // Reload while a reply streams: the new page picks it up and shows it whole.
    await pace(50, 15);
    await send(page, 'Keep streaming through a reload');
    await waitReplyWords(page, 4);
    await page.reload();
    await waitConnected(page);
    await waitReplyStatus(page, 'done', 20_000);
    await waitCount(userMessages(page), 2);
    await waitCount(assistantMessages(page), 2);
    const resumed = await lastReplyText(page);
    expect(resumed.split(' ')).toHaveLength(50);
    const history = await storedHistory(stack.gateways[1]!.url, session);
    expect(history.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual([first, resumed]);

    // New chat: an empty conversation on a new session, which also survives a reload.
    await page.getByTestId('conversation-new').click();
    await waitConnected(page);
    await waitCount(userMessages(page), 0);
    const fresh = await pageSession(page);
    expect(fresh.sessionId).not.toBe(session.sessionId);
    await page.reload();
    await waitConnected(page);
    expect((await pageSession(page)).sessionId).toBe(fresh.sessionId);
    await waitCount(userMessages(page), 0);
  });

  it('moves to a new session as soon as its session is deleted (4100), and on a reload when it is gone', async () => {
    const page = await openPage(stack.gateways[0]!.url);
    await pace(12, 400);
    await send(page, 'Before the end');
    await waitReplyStatus(page, 'done');
    const old = await pageSession(page);
    expect((await http(stack.gateways[1]!.url, 'DELETE', `/chat/session/${old.sessionId}`, { token: old.token })).status).toBe(204);

    // Every gateway closes the deleted session's sockets with 4100: the page moves on by itself.
    await page.getByText('The previous chat has ended; this is a new one.').waitFor({ timeout: 10_000 });
    await waitConnected(page);
    const fresh = await pageSession(page);
    expect(fresh.sessionId).not.toBe(old.sessionId);
    await waitCount(userMessages(page), 0);
    await send(page, 'After the end');
    await waitReplyStatus(page, 'done');
    const history = await storedHistory(stack.gateways[0]!.url, fresh);
    expect(history.map((m) => [m.role, m.role === 'user' ? m.content : '…'])).toEqual([
      ['user', 'After the end'],
      ['assistant', '…'],
    ]);

    // A session that is gone by the next visit (deleted while no page was open): the page opens
    // a new one and says so.
    await page.goto('about:blank');
    expect((await http(stack.gateways[0]!.url, 'DELETE', `/chat/session/${fresh.sessionId}`, { token: fresh.token })).status).toBe(204);
    await page.goto(stack.gateways[0]!.url);
    await waitConnected(page);
    await page.getByText('The previous chat has expired; this is a new one.').waitFor();
    expect((await pageSession(page)).sessionId).not.toBe(fresh.sessionId);
    await waitCount(userMessages(page), 0);
  });

  it('fits a phone screen: no sideways scrolling, the composer in view, long words wrapped', async () => {
    const page = await openPage(stack.gateways[0]!.url, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await pace(30, 400);
    await send(page, `A long word: ${'x'.repeat(300)}`);
    await waitReplyStatus(page, 'done');
    const layout = await page.evaluate(() => {
      const composer = document.querySelector('.composer')!.getBoundingClientRect();
      const bubble = document.querySelector('[data-testid="chat-message-user"]')!.getBoundingClientRect();
      return {
        scrollWidth: document.documentElement.scrollWidth,
        width: window.innerWidth,
        composerBottom: composer.bottom,
        composerRight: composer.right,
        bubbleRight: bubble.right,
        height: window.innerHeight,
      };
    });
    expect(layout.width).toBe(390);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.width);
    expect(layout.composerBottom).toBeLessThanOrEqual(layout.height);
    expect(layout.composerRight).toBeLessThanOrEqual(layout.width);
    expect(layout.bubbleRight).toBeLessThanOrEqual(layout.width);
    await screenshot(page, 'phone');
  });
});
