// Answers that read well, in headless Chromium against a real stack whose worker calls a scripted
// model (so a reply holds code and a table): code highlighted by a highlighter loaded only then, a
// copy button that puts the code on the clipboard (also from the keyboard), GFM tables, and
// Regenerate on the last reply only, replacing it in the view and in the history.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { scriptedModelStack, startScriptedModel, type ScriptedModel } from '../support/scripted-model.js';
import {
  assistantMessages,
  pageSession,
  screenshot,
  storedHistory,
  useBrowserStack,
  waitConnected,
  waitCount,
  waitReplyStatus,
} from '../support/browser.js';

const PYTHON = 'def greet(name: str) -> str:\n    # "<b>" stays text\n    return f"Hello, {name}!"';
const TYPESCRIPT = "const total = [1, 2, 3].reduce((a, b) => a + b, 0);\nconsole.log(`total: ${total}`);";
const ANSWER = [
  'Here is the function:',
  '',
  '```python',
  PYTHON,
  '```',
  '',
  'And in TypeScript:',
  '',
  '```ts',
  TYPESCRIPT,
  '```',
  '',
  '| Language | Typed | Stars |',
  '| :------- | :---: | ----: |',
  '| Python | optional | 1 |',
  '| **TypeScript** | yes | 2 |',
].join('\n');

let model: ScriptedModel;

beforeAll(async () => {
  model = await startScriptedModel(ANSWER, 24, 5);
});

const { stack, newContext } = useBrowserStack('web-answers', () => scriptedModelStack(model));

afterAll(async () => {
  await model?.close();
});

async function openPage(): Promise<{ page: Page; requested: string[] }> {
  const context = await newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.gateways[0]!.url });
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(stack.gateways[0]!.url);
  await waitConnected(page);
  return { page, requested };
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
  await waitReplyStatus(page, 'done');
}

const clipboard = (page: Page): Promise<string> => page.evaluate(() => navigator.clipboard.readText());

describe('answers', () => {
  it('highlights code with a lazily loaded highlighter, copies it, and renders tables', async () => {
    model.reply = ANSWER;
    const { page, requested } = await openPage();
    // The first load carries no highlighter.
    expect(requested.filter((p) => p.includes('code-highlighter'))).toEqual([]);
    await send(page, 'Show me a greeting function');
    const reply = assistantMessages(page).last();
    await reply.locator('.hljs-keyword').first().waitFor({ timeout: 10_000 });
    expect(requested.filter((p) => p.includes('code-highlighter'))).toHaveLength(1);

    const blocks = reply.locator('.code-block');
    await waitCount(blocks, 2);
    expect(await blocks.locator('.code-lang').allInnerTexts()).toEqual(['python', 'ts']);
    expect(await blocks.nth(0).locator('code').getAttribute('class')).toBe('language-python hljs');
    expect(await blocks.nth(0).locator('.hljs-keyword').allInnerTexts()).toContain('def');
    expect(await blocks.nth(0).locator('.hljs-comment').innerText()).toBe('# "<b>" stays text');
    expect(await blocks.nth(1).locator('.hljs-string').count()).toBeGreaterThan(0);
    // The model's "<b>" is text, never an element.
    expect(await reply.locator('b').count()).toBe(0);

    // Copy: the block's code exactly, and the button says so.
    const copy = blocks.nth(0).getByRole('button', { name: 'Copy code' });
    await copy.click();
    await expect(clipboard(page)).resolves.toBe(`${PYTHON}\n`);
    expect(await blocks.nth(0).locator('button[data-copy-code]').innerText()).toBe('Copied');
    // From the keyboard: Tab reaches the second block's button, Enter copies.
    await blocks.nth(1).locator('button[data-copy-code]').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('button[data-copy-code][data-copied="true"]').length === 2);
    await expect(clipboard(page)).resolves.toBe(`${TYPESCRIPT}\n`);

    // The table: a header row and two rows, aligned as the Markdown says, in a focusable region.
    const table = reply.locator('.table-wrap[role="region"] table');
    expect(await table.locator('th').allInnerTexts()).toEqual(['Language', 'Typed', 'Stars']);
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.locator('th').evaluateAll((ths) => ths.map((th) => getComputedStyle(th).textAlign))).toEqual(['left', 'center', 'right']);
    expect(await table.locator('tbody strong').innerText()).toBe('TypeScript');
    await screenshot(page, 'answer-code-table');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'answer-code-table-dark');
  });

  it('regenerates the last reply only: the new answer takes its place, on the page and in the history', async () => {
    model.reply = 'The first answer.';
    const { page } = await openPage();
    await send(page, 'Question one');
    await waitCount(page.getByTestId('chat-regenerate'), 1);
    model.reply = 'The second answer.';
    await send(page, 'Question two');
    // Only under the last reply.
    await waitCount(page.getByTestId('chat-regenerate'), 1);
    expect(await assistantMessages(page).last().locator('xpath=..').getByTestId('chat-regenerate').count()).toBe(1);

    model.reply = 'A better second answer.';
    await page.getByTestId('chat-regenerate').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="chat-message-assistant"]')].at(-1)?.textContent === 'A better second answer.', undefined, { timeout: 15_000 });
    await waitReplyStatus(page, 'done');
    expect(await assistantMessages(page).allInnerTexts()).toEqual(['The first answer.', 'A better second answer.']);
    const history = await storedHistory(stack.gateways[0]!.url, await pageSession(page));
    expect(history.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Question one'],
      ['assistant', 'The first answer.'],
      ['user', 'Question two'],
      ['assistant', 'A better second answer.'],
    ]);
    // After a reload the history says the same, and the last reply can be regenerated again.
    await page.reload();
    await waitConnected(page);
    await waitCount(assistantMessages(page), 2);
    expect(await assistantMessages(page).allInnerTexts()).toEqual(['The first answer.', 'A better second answer.']);
    await waitCount(page.getByTestId('chat-regenerate'), 1);
    await screenshot(page, 'regenerated');
  });
});
