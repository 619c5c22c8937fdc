// Accessibility in headless Chromium against a real stack: axe-core finds no serious or critical
// violation on the chat page (light and dark, with a reply, code and a table), with the sidebar open
// on a phone and its rename and delete dialogs, and on the admin console signed in; the page works
// from the keyboard with a visible focus on every stop. Every violation found (any impact) goes to
// test-artifacts/axe-web.json.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { axeViolations, seriousOnes, type AxeViolation } from '../support/axe.js';
import { writeArtifact } from '../support/artifacts.js';
import { scriptedModelStack, startScriptedModel, type ScriptedModel } from '../support/scripted-model.js';
import { type ContextOptions, screenshot, useBrowserStack, waitConnected, waitReplyStatus } from '../support/browser.js';

const ANSWER = 'A reply with `code`, a [link](https://example.com) and:\n\n```js\nconst x = 1;\n```\n\n| a | b |\n| - | -: |\n| 1 | 2 |';

let model: ScriptedModel;
const found: Record<string, AxeViolation[]> = {};

beforeAll(async () => {
  model = await startScriptedModel(ANSWER, 40, 2);
});

const { stack, newContext } = useBrowserStack('web-a11y', () => scriptedModelStack(model));

afterAll(async () => {
  writeArtifact('axe-web', found);
  await model?.close();
});

async function openPage(path = '/', options: ContextOptions = {}): Promise<Page> {
  const context = await newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  await page.goto(`${stack.gateways[0]!.url}${path}`);
  return page;
}

async function chatWithAReply(options: ContextOptions = {}): Promise<Page> {
  const page = await openPage('/', options);
  await waitConnected(page);
  await page.getByTestId('chat-input').fill('Show me code and a table');
  await page.getByTestId('chat-send').click();
  await waitReplyStatus(page, 'done');
  await page.locator('.hljs-keyword').first().waitFor();
  await page.getByTestId('conversation-item').first().waitFor({ state: 'attached' });
  return page;
}

/** Runs axe-core, keeps what it found under `name`, and expects nothing serious or critical. */
async function expectNoSeriousViolations(page: Page, name: string): Promise<void> {
  const violations = await axeViolations(page);
  found[name] = violations;
  expect(seriousOnes(violations)).toEqual([]);
}

describe('accessibility', () => {
  it('the chat page with a reply, light and dark', async () => {
    const page = await chatWithAReply();
    await expectNoSeriousViolations(page, 'chat-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectNoSeriousViolations(page, 'chat-dark');
    await screenshot(page, 'a11y-chat-dark');
  });

  it('the sidebar open on a phone, renaming, and its delete dialog', async () => {
    const page = await chatWithAReply({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.getByTestId('sidebar-toggle').click();
    await page.getByTestId('conversation-list').waitFor({ state: 'visible' });
    await expectNoSeriousViolations(page, 'sidebar-open');
    await page.getByTestId('conversation-rename').first().click();
    await expectNoSeriousViolations(page, 'sidebar-renaming');
    await page.keyboard.press('Escape');
    await page.getByTestId('conversation-delete').first().click();
    await page.getByTestId('conversation-delete-dialog').waitFor({ state: 'visible' });
    await expectNoSeriousViolations(page, 'sidebar-delete-dialog');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectNoSeriousViolations(page, 'sidebar-delete-dialog-dark');
  });

  it('the admin console, signed in', async () => {
    // The console's Content-Security-Policy forbids inline scripts, axe's injection among them: the test's context bypasses it.
    const page = await openPage('/admin', { bypassCSP: true });
    await page.getByTestId('admin-key-input').waitFor();
    await page.keyboard.type(stack.adminApiKey);
    await page.keyboard.press('Enter');
    await page.getByTestId('admin-console').waitFor({ timeout: 10_000 });
    await page.getByTestId('admin-instance').first().waitFor({ timeout: 10_000 });
    await expectNoSeriousViolations(page, 'admin-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectNoSeriousViolations(page, 'admin-dark');
  });

  it('works from the keyboard, every stop with a visible focus', async () => {
    const page = await chatWithAReply();
    await page.locator('body').focus();
    const stops: Array<{ id: string; visible: boolean }> = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      stops.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          if (el === document.body) return { id: 'BODY', visible: true }; // between the page and the browser's own controls
          const style = getComputedStyle(el);
          // The composer's field shows its focus on the composer around it.
          const ring = el.tagName === 'TEXTAREA' ? getComputedStyle(el.closest('.composer')!).boxShadow !== 'none' : style.outlineStyle !== 'none' && style.outlineWidth !== '0px';
          return { id: el.dataset.testid ?? (el.className || el.tagName), visible: ring };
        }),
      );
    }
    const ids = stops.map((s) => s.id);
    for (const wanted of ['conversation-new', 'conversation-search', 'conversation-open', 'conversation-rename', 'conversation-delete', 'language-select', 'copy-code', 'chat-regenerate', 'chat-input']) {
      expect([wanted, ids.some((id) => id === wanted || id.split(' ').includes(wanted))]).toEqual([wanted, true]);
    }
    expect(stops.filter((s) => !s.visible)).toEqual([]);
    // Enter on a focused control acts: Regenerate from the keyboard.
    await page.getByTestId('chat-regenerate').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="chat-message-assistant"]')?.getAttribute('data-status') !== 'done');
    await waitReplyStatus(page, 'done');
  });
});
