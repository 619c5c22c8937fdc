// Headless Chromium (Debian's, driven by playwright-core) for the web client tests, and helpers
// that read what the page shows and what the page stored.
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { SessionView } from '@chat-fleet/shared';
import type { StackOptions } from '@chat-fleet/stack';
import { http, type Session } from './chat-client.js';
import { startTestStack, type TestStack } from './test-stack.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = new URL('../../test-artifacts/e2e/', import.meta.url).pathname;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium (Debian), or set CHROMIUM_PATH`);
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export type ContextOptions = Parameters<Browser['newContext']>[0];

export interface BrowserStack {
  /** The file's stack, once its beforeAll ran. */
  readonly stack: TestStack;
  /** A browser context of its own (a fresh profile: storage, locale, viewport), closed with the others. */
  newContext(options?: ContextOptions): Promise<BrowserContext>;
  /** Closes every context opened so far (for a file whose pages must not outlive a test). */
  closeContexts(): Promise<void>;
}

/**
 * A browser test file's stack and headless Chromium: started together in a beforeAll, and in an
 * afterAll every context opened through `newContext` is closed, then Chromium, then the stack.
 * Hooks declared before it run first (a scripted model the options name); `options` may be a
 * function for options known only then.
 */
export function useBrowserStack(name: string, options: Partial<StackOptions> | (() => Partial<StackOptions>)): BrowserStack {
  let stack: TestStack | undefined;
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  const closeContexts = async (): Promise<void> => {
    const open = contexts;
    contexts = [];
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  };
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(name, typeof options === 'function' ? options() : options), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await closeContexts();
    await browser?.close();
    await stack?.stop();
  });
  const started = new Proxy({} as TestStack, {
    get(_target, prop) {
      if (stack === undefined) throw new Error(`the ${name} stack is not started (read before its beforeAll ran)`);
      const value: unknown = Reflect.get(stack, prop, stack);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(stack) : value;
    },
  });
  return {
    stack: started,
    async newContext(contextOptions) {
      if (browser === undefined) throw new Error(`Chromium for ${name} is not launched (used before its beforeAll ran)`);
      const context = await browser.newContext(contextOptions);
      contexts.push(context);
      return context;
    },
    closeContexts,
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS_DIR}${name}.png` });
}

/** The session the page keeps in localStorage. */
export async function pageSession(page: Page): Promise<Session> {
  const raw = await page.evaluate(() => localStorage.getItem('chat-fleet:session'));
  if (raw === null) throw new Error('the page stored no session');
  return JSON.parse(raw) as Session;
}

/** The session's history from the REST API, as another client sees it. */
export async function storedHistory(base: string, session: Session): Promise<SessionView['messages']> {
  const r = await http<SessionView>(base, 'GET', `/chat/session/${session.sessionId}`, { token: session.token });
  if (r.status !== 200) throw new Error(`GET /chat/session answered ${r.status}: ${r.text}`);
  return r.json.messages;
}

export async function waitConnected(page: Page): Promise<void> {
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout: 15_000 });
}

export const assistantMessages = (page: Page): Locator => page.getByTestId('chat-message-assistant');
export const userMessages = (page: Page): Locator => page.getByTestId('chat-message-user');

/** The text of the last assistant message. */
export async function lastReplyText(page: Page): Promise<string> {
  return (await assistantMessages(page).last().textContent()) ?? '';
}

/** Waits until the last assistant message has status `status` (done, cancelled, error …). */
export async function waitReplyStatus(page: Page, status: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (s) => {
      const all = document.querySelectorAll('[data-testid="chat-message-assistant"]');
      return all[all.length - 1]?.getAttribute('data-status') === s;
    },
    status,
    { timeout },
  );
}

/** Waits until the last assistant message shows at least `words` words. */
export async function waitReplyWords(page: Page, words: number, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const all = document.querySelectorAll('[data-testid="chat-message-assistant"]');
      const text = all[all.length - 1]?.textContent ?? '';
      return text.split(/\s+/).filter(Boolean).length >= n;
    },
    words,
    { timeout },
  );
}

/**
 * Starts recording, in the page, every distinct text the newest assistant message shows and every
 * connection state, as the DOM changes. `recorded` returns them; texts of messages that were already
 * there when recording started are left out.
 */
export async function startRecording(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __texts: string[]; __states: string[] };
    const replies = (): NodeListOf<Element> => document.querySelectorAll('[data-testid="chat-message-assistant"]');
    const existing = replies().length;
    w.__texts = [];
    w.__states = [];
    const record = (): void => {
      const all = replies();
      const text = all.length > existing ? (all[all.length - 1]!.textContent ?? '') : '';
      if (text !== '' && w.__texts.at(-1) !== text) w.__texts.push(text);
      const state = document.querySelector('[data-testid="connection-status"]')?.getAttribute('data-state') ?? '';
      if (w.__states.at(-1) !== state) w.__states.push(state);
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    record();
  });
}

export async function recorded(page: Page): Promise<{ texts: string[]; states: string[] }> {
  return page.evaluate(() => {
    const w = window as unknown as { __texts: string[]; __states: string[] };
    return { texts: w.__texts, states: w.__states };
  });
}

/** Patches the simulator's settings (pace, length) for the next replies. */
export async function simConfig(simUrl: string, patch: Record<string, number>): Promise<void> {
  const r = await http(simUrl, 'POST', '/_sim/config', { body: patch });
  if (r.status !== 200) throw new Error(`POST /_sim/config answered ${r.status}: ${r.text}`);
}

/** Waits until `locator` matches exactly `n` elements (the page settles after a reload or a new chat); throws after `timeout`. */
export async function waitCount(locator: Locator, n: number, timeout = 5_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let seen = await locator.count();
  while (seen !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} elements, still ${seen} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
    seen = await locator.count();
  }
}
