// The web client facing a hostile model and a rate limit: a real stack whose workers call a scripted
// model (HTML, script links and images in its Markdown) and whose gateway allows 3 messages a minute.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { scriptedModelStack, startScriptedModel, type ScriptedModel } from '../support/scripted-model.js';
import {
  pageSession,
  screenshot,
  storedHistory,
  useBrowserStack,
  userMessages,
  waitConnected,
  waitReplyStatus,
} from '../support/browser.js';

const HOSTILE_REPLY = [
  '## Release notes',
  '',
  '**Bold**, _italic_ and `inline code`.',
  '',
  '- [the docs](https://example.com/docs)',
  "- [a trap](javascript:window.__pwned='link')",
  '- <img src=x onerror="window.__pwned=\'img\'">',
  '',
  "<script>window.__pwned='script'</script>",
  '<a href="javascript:window.__pwned=\'a\'">click</a> <iframe src="https://example.com"></iframe>',
  '',
  '![pixel](https://example.com/pixel.png)',
  '',
  '```html',
  '<b onclick="window.__pwned=\'code\'">not bold</b>',
  '```',
].join('\n');

let model: ScriptedModel;

beforeAll(async () => {
  model = await startScriptedModel(HOSTILE_REPLY);
});

const { stack, newContext } = useBrowserStack('web-safety', () => scriptedModelStack(model, { RATE_LIMIT_USER_PER_MIN: '3' }));

afterAll(async () => {
  await model?.close();
});

async function openPage(): Promise<Page> {
  const context = await newContext({ viewport: { width: 1000, height: 760 } });
  const page = await context.newPage();
  await page.goto(stack.gateways[0]!.url);
  await waitConnected(page);
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

/** What the conversation holds that could run or fetch: elements, handler attributes, links. */
function inspectLog(page: Page) {
  return page.evaluate(() => {
    const log = document.querySelector('[role="log"]')!;
    const reply = [...log.querySelectorAll('[data-testid="chat-message-assistant"]')].at(-1)!;
    return {
      pwned: (window as unknown as { __pwned?: string }).__pwned,
      dangerous: log.querySelectorAll('script, img, iframe, object, embed, b, form, style').length,
      handlers: [...log.querySelectorAll('*')].flatMap((el) => el.getAttributeNames().filter((n) => n.startsWith('on'))),
      links: [...reply.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), target: a.target, rel: a.rel, text: a.textContent })),
      tags: ['h2', 'strong', 'em', 'code', 'li', 'pre'].map((t) => [t, reply.querySelectorAll(t).length]),
      text: reply.textContent ?? '',
      userHtml: [...log.querySelectorAll('[data-testid="chat-message-user"]')].map((u) => u.children.length),
      userText: [...log.querySelectorAll('[data-testid="chat-message-user"]')].map((u) => u.textContent),
    };
  });
}

describe('web client safety', () => {
  it('renders the Markdown of a hostile reply and leaves its HTML, script links and images inert', async () => {
    const page = await openPage();
    const userText = `<img src=x onerror="window.__pwned='user'"> **stays literal**`;
    await send(page, userText);
    await waitReplyStatus(page, 'done');

    for (const when of ['streamed', 'reloaded from the history']) {
      const seen = await inspectLog(page);
      expect([when, seen.pwned, seen.dangerous, seen.handlers]).toEqual([when, undefined, 0, []]);
      // Markdown's own formatting is there.
      expect(Object.fromEntries(seen.tags)).toEqual({ h2: 1, strong: 1, em: 1, code: 2, li: 3, pre: 1 });
      // Only https links, opening in a new tab without the opener: the docs link, the URL inside the
      // escaped iframe, and the image as a plain link (never fetched). The javascript: ones are text.
      const link = (href: string, text: string) => ({ href, target: '_blank', rel: 'noopener noreferrer nofollow', text });
      expect(seen.links).toEqual([
        link('https://example.com/docs', 'the docs'),
        link('https://example.com', 'https://example.com'),
        link('https://example.com/pixel.png', 'pixel'),
      ]);
      expect(seen.text).toContain(`<img src=x onerror="window.__pwned='img'">`);
      expect(seen.text).toContain("<script>window.__pwned='script'</script>");
      expect(seen.text).toContain("[a trap](javascript:window.__pwned='link')");
      expect(seen.text).toContain(`<a href="javascript:window.__pwned='a'">click</a>`);
      // The user's own message is plain text, never Markdown or HTML.
      expect(seen.userHtml).toEqual([0]);
      expect(seen.userText).toEqual([userText]);
      if (when === 'streamed') {
        await screenshot(page, 'hostile-markdown');
        await page.reload();
        await waitConnected(page);
        await page.getByTestId('chat-message-assistant').waitFor();
      }
    }
    const history = await storedHistory(stack.gateways[0]!.url, await pageSession(page));
    expect(history.at(-1)).toMatchObject({ role: 'assistant', content: HOSTILE_REPLY });
  });

  it('shows a rate-limit refusal with a countdown and holds sending until it ends', async () => {
    model.reply = 'Fine.';
    const page = await openPage();
    // The limit is per client address (the page's session has no userId); send until it bites.
    let refusedAt = 0;
    for (let n = 1; n <= 4 && refusedAt === 0; n++) {
      await send(page, `message ${n} ${Date.now()}`);
      await page.waitForFunction(
        (count) => {
          const users = document.querySelectorAll('[data-testid="chat-message-user"]');
          const last = users[users.length - 1]?.closest('.turn')?.getAttribute('data-status');
          const replies = document.querySelectorAll('[data-testid="chat-message-assistant"][data-status="done"]');
          return users.length === count && (last === 'unsent' || replies.length === count);
        },
        n,
        { timeout: 15_000 },
      );
      if ((await userMessages(page).last().locator('xpath=..').getAttribute('data-status')) === 'unsent') refusedAt = n;
    }
    expect(refusedAt).toBeGreaterThan(1);

    const notice = page.getByTestId('chat-notice');
    expect(await notice.innerText()).toMatch(/^Rate limit reached\. You can send again in \d+ s\.$/);
    const first = Number(await page.getByTestId('chat-countdown').innerText());
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThanOrEqual(60);
    const retry = page.getByTestId('chat-retry');
    expect(await retry.innerText()).toMatch(/^Retry in \d+ s$/);
    expect(await retry.isDisabled()).toBe(true);
    await page.getByTestId('chat-input').fill('one more');
    expect(await page.getByTestId('chat-send').isDisabled()).toBe(true);
    await screenshot(page, 'rate-limited');

    // The countdown runs down.
    await page.waitForFunction((start) => Number(document.querySelector('[data-testid="chat-countdown"]')?.textContent) < start, first, {
      timeout: 3_000,
    });
    // The refused message never reached the session.
    const history = await storedHistory(stack.gateways[0]!.url, await pageSession(page));
    expect(history.filter((m) => m.role === 'user')).toHaveLength(refusedAt - 1);
  });
});
