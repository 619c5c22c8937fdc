// The sidebar of conversations in headless Chromium against a real stack (a gateway, a worker, the
// simulator): it lists the browser's conversations newest first with the titles the gateway gave
// them, searches, renames, deletes on the server, opens an old one with its history, keeps them all
// across a reload, loads more pages on scroll, and folds away on a phone.
import { describe, expect, it } from '@jest/globals';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { http } from '../support/chat-client.js';
import {
  type ContextOptions,
  pageSession,
  screenshot,
  useBrowserStack,
  userMessages,
  waitConnected,
  waitCount,
  waitReplyStatus,
} from '../support/browser.js';

const { stack, newContext } = useBrowserStack('web-conversations', { gateways: 1, workers: 1, env: { CACHE_TTL_SECONDS: '0', RATE_LIMIT_SESSIONS_PER_MIN: '1000' } });

async function openPage(options: ContextOptions = {}): Promise<{ page: Page; context: BrowserContext }> {
  const context = await newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  await page.goto(stack.gateways[0]!.url);
  await waitConnected(page);
  return { page, context };
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
  await waitReplyStatus(page, 'done');
}

async function newChat(page: Page): Promise<void> {
  const before = (await pageSession(page)).sessionId;
  await page.getByTestId('conversation-new').click();
  await page.waitForFunction((old) => !(localStorage.getItem('chat-fleet:session') ?? '').includes(old), before);
  await waitConnected(page);
  await waitCount(userMessages(page), 0);
}

const items = (page: Page): Locator => page.getByTestId('conversation-list').getByTestId('conversation-item');
const item = (page: Page, title: string): Locator => items(page).filter({ has: page.getByTestId('conversation-title').getByText(title, { exact: true }) });

/** Waits until the sidebar lists exactly these titles, in this order. */
async function waitTitles(page: Page, titles: string[], timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await items(page).getByTestId('conversation-title').allInnerTexts();
    if (JSON.stringify(seen) === JSON.stringify(titles)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`the sidebar lists ${JSON.stringify(seen)}, expected ${JSON.stringify(titles)}`);
}

/**
 * Waits (up to 2 s, then the caller's assertion tells) for the element with `testId` to have the
 * focus: the app moves it in an effect, a frame after the render that shows its target.
 */
async function waitForFocus(page: Page, testId: string): Promise<void> {
  await page.waitForFunction((id) => document.activeElement?.getAttribute('data-testid') === id, testId, { timeout: 2000 }).catch(() => undefined);
}

/**
 * Waits (up to 5 s, then the caller's assertions tell) for the conversation shown to be the one
 * whose first question is `text`: the one shown before may have as many messages.
 */
async function waitShown(page: Page, text: string): Promise<void> {
  await userMessages(page).first().filter({ hasText: text }).waitFor({ timeout: 5000 }).catch(() => undefined);
}

/** The conversations the gateway lists for the page's browser (as another client of the same user sees them). */
async function serverTitles(page: Page): Promise<string[]> {
  const session = await pageSession(page);
  const r = await http<{ sessions: Array<{ title: string }> }>(stack.gateways[0]!.url, 'GET', '/chat/sessions?limit=100', { token: session.token });
  expect(r.status).toBe(200);
  return r.json.sessions.map((s) => s.title);
}

describe('conversations', () => {
  it('lists, searches, renames, deletes and reopens conversations, and keeps them across a reload', async () => {
    const { page } = await openPage();
    await send(page, 'Plan a trip to Lyon');
    await newChat(page);
    await send(page, 'A recipe for ratatouille');
    await newChat(page);
    await send(page, 'Explain Redis streams');
    // Newest activity first, each titled by its first message.
    await waitTitles(page, ['Explain Redis streams', 'A recipe for ratatouille', 'Plan a trip to Lyon']);
    await expect(item(page, 'Explain Redis streams').getByTestId('conversation-open').getAttribute('aria-current')).resolves.toBe('page');

    // Search by title, in any case.
    await page.getByTestId('conversation-search').fill('RATAT');
    await waitTitles(page, ['A recipe for ratatouille']);
    await page.getByTestId('conversation-search').fill('nothing like this');
    await waitCount(items(page), 0);
    await page.getByText('No conversation matches “nothing like this”.').waitFor();
    await page.getByTestId('conversation-search').fill('');
    await waitCount(items(page), 3);

    // Rename in place from the keyboard: the field has the focus, Enter saves.
    await item(page, 'Plan a trip to Lyon').getByTestId('conversation-rename').click();
    const field = page.getByTestId('conversation-rename-input');
    await waitForFocus(page, 'conversation-rename-input');
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    await field.fill('Lyon weekend');
    await field.press('Enter');
    await waitTitles(page, ['Explain Redis streams', 'A recipe for ratatouille', 'Lyon weekend']);
    expect(await serverTitles(page)).toEqual(['Explain Redis streams', 'A recipe for ratatouille', 'Lyon weekend']);
    // Escape leaves a rename as it was.
    await item(page, 'Lyon weekend').getByTestId('conversation-rename').click();
    await page.getByTestId('conversation-rename-input').fill('Not this');
    await page.getByTestId('conversation-rename-input').press('Escape');
    await waitTitles(page, ['Explain Redis streams', 'A recipe for ratatouille', 'Lyon weekend']);

    // Delete asks first: Escape keeps it, Delete removes it on the server.
    const recipe = item(page, 'A recipe for ratatouille');
    const recipeId = (await recipe.getAttribute('data-session-id'))!;
    const recipeToken = await page.evaluate((id) => (JSON.parse(localStorage.getItem('chat-fleet:tokens') ?? '{}') as Record<string, { token: string }>)[id]!.token, recipeId);
    await recipe.getByTestId('conversation-delete').click();
    const dialog = page.getByTestId('conversation-delete-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.innerText()).toContain('Delete “A recipe for ratatouille”?');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await waitCount(items(page), 3);
    await recipe.getByTestId('conversation-delete').click();
    await page.getByTestId('conversation-delete-confirm').click();
    await waitTitles(page, ['Explain Redis streams', 'Lyon weekend']);
    expect((await http(stack.gateways[0]!.url, 'GET', `/chat/session/${recipeId}`, { token: recipeToken })).status).toBe(404);
    expect(await page.evaluate((id) => localStorage.getItem('chat-fleet:tokens')?.includes(id), recipeId)).toBe(false);
    expect(await serverTitles(page)).toEqual(['Explain Redis streams', 'Lyon weekend']);

    // Open an older conversation: its history is shown and it becomes the current one.
    const lyonId = (await item(page, 'Lyon weekend').getAttribute('data-session-id'))!;
    await item(page, 'Lyon weekend').getByTestId('conversation-open').click();
    await waitConnected(page);
    await page.waitForFunction((id) => (localStorage.getItem('chat-fleet:session') ?? '').includes(id), lyonId);
    await waitCount(userMessages(page), 1);
    await waitShown(page, 'Plan a trip to Lyon');
    expect(await userMessages(page).first().innerText()).toBe('Plan a trip to Lyon');
    await expect(item(page, 'Lyon weekend').getByTestId('conversation-open').getAttribute('aria-current')).resolves.toBe('page');
    await screenshot(page, 'conversations-sidebar');

    // A reload keeps the conversations and the one shown.
    await page.reload();
    await waitConnected(page);
    await waitTitles(page, ['Explain Redis streams', 'Lyon weekend']);
    await waitCount(userMessages(page), 1);
    expect((await pageSession(page)).sessionId).toBe(lyonId);
  });

  it('deleting the conversation shown moves to the newest other one', async () => {
    const { page } = await openPage();
    await send(page, 'First topic');
    await newChat(page);
    await send(page, 'Second topic');
    await waitTitles(page, ['Second topic', 'First topic']);
    await item(page, 'Second topic').getByTestId('conversation-delete').click();
    await page.getByTestId('conversation-delete-confirm').click();
    await waitTitles(page, ['First topic']);
    await waitCount(userMessages(page), 1);
    await waitShown(page, 'First topic');
    expect(await userMessages(page).first().innerText()).toBe('First topic');
    // The confirm's notice of an ended session never shows: the page left it first.
    expect(await page.getByTestId('chat-notice').count()).toBe(0);
  });

  it('loads more pages as the list scrolls', async () => {
    const { page } = await openPage();
    await send(page, 'The newest one');
    // 35 more of the same browser's conversations, created and renamed over REST with its userId label.
    const userId = (await page.evaluate(() => localStorage.getItem('chat-fleet:user')))!;
    const base = stack.gateways[0]!.url;
    for (let i = 1; i <= 35; i++) {
      const created = await http<{ sessionId: string; token: string }>(base, 'POST', '/chat/session', { body: { userId } });
      expect(created.status).toBe(201);
      const renamed = await http(base, 'PATCH', `/chat/session/${created.json.sessionId}`, { token: created.json.token, body: { title: `Seeded ${String(i).padStart(2, '0')}` } });
      expect(renamed.status).toBe(200);
    }
    await page.reload();
    await waitConnected(page);
    await waitCount(items(page), 30, 10_000);
    // Scrolling to the end of the list reads the next page.
    await page.getByTestId('conversation-list').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await waitCount(items(page), 36, 10_000);
    expect(await items(page).getByTestId('conversation-title').last().innerText()).toBe('The newest one');
    // Search sees every page loaded.
    await page.getByTestId('conversation-search').fill('seeded 0');
    await waitCount(items(page), 9);
  });

  it('folds away on a phone: a header button opens it, Escape closes it, a pick opens the conversation', async () => {
    const { page } = await openPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await send(page, 'Pocket question');
    const list = page.getByTestId('conversation-list');
    expect(await list.isVisible()).toBe(false);
    const toggle = page.getByTestId('sidebar-toggle');
    // New chat from the panel closes it.
    await toggle.click();
    await newChat(page);
    await list.waitFor({ state: 'hidden' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    await list.waitFor({ state: 'visible' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    // The keyboard is in the panel; Escape closes it and gives the focus back to the button.
    await waitForFocus(page, 'conversation-new');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('conversation-new');
    await waitTitles(page, ['New conversation', 'Pocket question']);
    await screenshot(page, 'conversations-phone');
    await page.keyboard.press('Escape');
    await list.waitFor({ state: 'hidden' });
    // Back on the toggle once the chat is no longer inert.
    await waitForFocus(page, 'sidebar-toggle');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('sidebar-toggle');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);

    await toggle.click();
    await item(page, 'Pocket question').getByTestId('conversation-open').click();
    await list.waitFor({ state: 'hidden' });
    await waitCount(userMessages(page), 1);
    expect(await userMessages(page).first().innerText()).toBe('Pocket question');
  });
});
