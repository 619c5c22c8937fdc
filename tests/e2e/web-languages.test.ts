// The web client in each of its languages, in headless Chromium against a real stack: the page
// picks the browser's language (a region falls back to it, one without a catalog to English), sets
// <html lang dir> (Arabic right to left, the conversations on the right), words and dates in that
// language, creates sessions with that locale so the model is asked to answer in it, and the switch
// changes the language at once and for the next visit. A screenshot per language.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { http } from '../support/chat-client.js';
import { pageSession, screenshot, useBrowserStack, waitConnected, waitReplyStatus } from '../support/browser.js';

const { stack, newContext } = useBrowserStack('web-languages', { gateways: 1, workers: 1, env: { CACHE_TTL_SECONDS: '0' } });

const catalog = (tag: string): Record<string, string> => JSON.parse(readFileSync(new URL(`../../apps/web/src/locales/${tag}.json`, import.meta.url), 'utf8')) as Record<string, string>;

async function openPage(browserLocale: string): Promise<Page> {
  const context = await newContext({ viewport: { width: 1100, height: 720 }, locale: browserLocale });
  const page = await context.newPage();
  await page.goto(stack.gateways[0]!.url);
  await waitConnected(page);
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
  await waitReplyStatus(page, 'done');
}

const html = (page: Page) => page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));

const LANGUAGES = [
  { browser: 'en-US', tag: 'en', english: 'English', dir: 'ltr' },
  { browser: 'es-MX', tag: 'es', english: 'Spanish', dir: 'ltr' },
  { browser: 'fr-FR', tag: 'fr', english: 'French', dir: 'ltr' },
  { browser: 'de-DE', tag: 'de', english: 'German', dir: 'ltr' },
  { browser: 'ja-JP', tag: 'ja', english: 'Japanese', dir: 'ltr' },
  { browser: 'zh-CN', tag: 'zh-CN', english: 'Chinese', dir: 'ltr' },
  { browser: 'ar-EG', tag: 'ar', english: 'Arabic', dir: 'rtl' },
] as const;

describe('languages', () => {
  it.each(LANGUAGES)('renders in $tag from a $browser browser, and asks the model for $english', async ({ browser: browserLocale, tag, english, dir }) => {
    const page = await openPage(browserLocale);
    const words = catalog(tag);
    expect(await html(page)).toEqual({ lang: tag, dir });
    expect(await page.getByTestId('chat-send').innerText()).toBe(words['composer.send']);
    expect(await page.getByTestId('conversation-new').innerText()).toBe(words['sidebar.new']);
    expect(await page.getByTestId('chat-input').getAttribute('aria-label')).toBe(words['composer.label']);
    expect(await page.getByTestId('language-select').inputValue()).toBe(tag);
    await send(page, 'Hello there');

    // The conversation's time, as this language writes it.
    const time = page.getByTestId('conversation-item').first().locator('time');
    await time.waitFor();
    const expected = await time.evaluate((el, locale) => new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(new Date(el.getAttribute('datetime')!)), tag);
    expect(await time.innerText()).toBe(expected);

    // The session carries the locale, and the model was told to answer in it.
    const session = await pageSession(page);
    const view = await http<{ locale?: string }>(stack.gateways[0]!.url, 'GET', `/chat/session/${session.sessionId}`, { token: session.token });
    expect(view.json.locale).toBe(tag);
    const requests = await http<Array<{ messages: Array<{ role: string; content: unknown }> }>>(stack.sim!.url, 'GET', '/_sim/requests?limit=1');
    const system = requests.json.at(-1)!.messages.filter((m) => m.role === 'system').map((m) => String(m.content)).join('\n');
    expect(system).toContain(english);

    if (dir === 'rtl') {
      // Right to left: the conversations are on the right of the chat, the user's bubble on the left.
      const sidebar = (await page.locator('#conversations').boundingBox())!;
      const log = (await page.locator('main.log').boundingBox())!;
      expect(sidebar.x).toBeGreaterThan(log.x);
      const bubble = (await page.getByTestId('chat-message-user').last().boundingBox())!;
      expect(bubble.x).toBeLessThan(log.x + log.width / 2);
    }
    await screenshot(page, `language-${tag}`);
  });

  it('falls back to English for a browser language without a catalog, and the switch changes the language for good', async () => {
    const page = await openPage('pt-BR');
    expect(await html(page)).toEqual({ lang: 'en', dir: 'ltr' });
    await page.getByTestId('language-select').selectOption('ar');
    await page.waitForFunction(() => document.documentElement.dir === 'rtl');
    expect(await html(page)).toEqual({ lang: 'ar', dir: 'rtl' });
    expect(await page.getByTestId('chat-send').innerText()).toBe(catalog('ar')['composer.send']);
    await page.getByTestId('language-select').selectOption('de');
    await page.waitForFunction(() => document.documentElement.lang === 'de');
    expect(await page.getByTestId('chat-send').innerText()).toBe(catalog('de')['composer.send']);
    await page.reload();
    await waitConnected(page);
    expect(await html(page)).toEqual({ lang: 'de', dir: 'ltr' });
    expect(await page.getByTestId('conversation-new').innerText()).toBe(catalog('de')['sidebar.new']);
  });
});
