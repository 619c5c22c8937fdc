// The web client showing a reply's tool calls and sources, in headless Chromium against a real
// stack whose workers call the MCP example server's tools (flight_status, policy_search, and the
// test tools slow and fail) as the simulator asks: collapsed under the reply, opened from the
// keyboard, read back from the history; a tool at work while no text has come; a failed one.
import { describe, expect, it } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { pageSession, screenshot, storedHistory, useBrowserStack, waitConnected, waitCount, waitReplyStatus } from '../support/browser.js';

const { stack, newContext } = useBrowserStack('web-tools', { gateways: 1, workers: 1, mcpTools: { testTools: true }, env: { CACHE_TTL_SECONDS: '0' } });

async function openPage(url: string): Promise<Page> {
  const context = await newContext({ viewport: { width: 1000, height: 720 } });
  const page = await context.newPage();
  await page.goto(url);
  await waitConnected(page);
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

/** [data-tool, data-state] of every tool call shown. */
function callStates(page: Page): Promise<string[][]> {
  return page.getByTestId('tool-call').evaluateAll((els) => els.map((e) => [e.getAttribute('data-tool') ?? '', e.getAttribute('data-state') ?? '']));
}

/** Waits until the tool calls shown are `expected` ([data-tool, data-state] each), as the page updates. */
async function waitCallStates(page: Page, expected: string[][], timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let seen = await callStates(page);
  while (JSON.stringify(seen) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) throw new Error(`expected tool calls ${JSON.stringify(expected)}, still ${JSON.stringify(seen)} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
    seen = await callStates(page);
  }
}

const isOpen = (details: Locator): Promise<boolean> => details.evaluate((e) => (e as HTMLDetailsElement).open);

describe('web client: tool calls and sources', () => {
  it('shows the tools a reply called and the sources it used, collapsed under it, opened from the keyboard, and again after a reload', async () => {
    const page = await openPage(stack.gateways[0]!.url);
    await send(page, 'Is flight XY123 on time, and what is the rebooking policy?');
    await waitReplyStatus(page, 'done', 30_000);

    const details = page.getByTestId('tool-calls');
    await waitCount(details, 1);
    expect(await isOpen(details)).toBe(false);
    expect(await page.getByTestId('tool-call').first().isVisible()).toBe(false);
    expect(await details.locator('summary').innerText()).toMatch(/^Used 2 tools · \d+ sources?$/);
    await screenshot(page, 'tools-collapsed');

    // The native summary takes the focus and opens on Enter.
    await details.locator('summary').focus();
    await page.keyboard.press('Enter');
    expect(await isOpen(details)).toBe(true);
    expect(await callStates(page)).toEqual([
      ['flight_status', 'done'],
      ['policy_search', 'done'],
    ]);
    const flight = page.getByTestId('tool-call').first();
    expect(await flight.isVisible()).toBe(true);
    expect(await flight.innerText()).toContain('{"flight":"XY123"}');

    const rebooking = page.getByTestId('sources').getByTestId('source').filter({ hasText: 'Rebooking policy' });
    await waitCount(rebooking, 1);
    const link = rebooking.locator('a');
    expect(await link.getAttribute('href')).toBe('https://example.com/policies/rebooking');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    await screenshot(page, 'tools-open');

    // The history keeps them: the stored reply names both calls and the policy.
    const history = await storedHistory(stack.gateways[0]!.url, await pageSession(page));
    const stored = history.at(-1)!;
    expect(stored.tools?.map((t) => [t.name, t.ok])).toEqual([
      ['flight_status', true],
      ['policy_search', true],
    ]);
    expect(stored.sources?.map((s) => s.title)).toContain('Rebooking policy');

    // A reload reads the conversation back from there: the same calls and sources, collapsed again.
    await page.reload();
    await waitConnected(page);
    await waitCount(page.getByTestId('tool-calls'), 1, 10_000);
    expect(await isOpen(page.getByTestId('tool-calls'))).toBe(false);
    await page.getByTestId('tool-calls').locator('summary').click();
    expect(await callStates(page)).toEqual([
      ['flight_status', 'done'],
      ['policy_search', 'done'],
    ]);
    await waitCount(page.getByTestId('source').filter({ hasText: 'Rebooking policy' }), 1);
  });

  it('shows a tool at work while the reply has no text, then the calls that failed as failed', async () => {
    const page = await openPage(stack.gateways[0]!.url);
    // The simulator calls the test tools on these directives: slow waits, fail answers an error.
    await send(page, 'Check this [[tool:slow {"ms":2500}]] [[tool:fail {"message":"the booking system is down"}]]');
    const running = page.getByTestId('tool-running');
    await running.waitFor({ timeout: 10_000 });
    expect(await running.innerText()).toContain('slow');
    expect(await page.getByTestId('chat-message-assistant').last().getAttribute('data-status')).toBe('waiting');
    expect(await page.getByTestId('tool-calls').locator('summary').innerText()).toBe('Using 2 tools');
    await page.getByTestId('tool-calls').locator('summary').click();
    // Both run at once: fail answers at once, slow after 2.5 s.
    await waitCallStates(page, [
      ['slow', 'running'],
      ['fail', 'failed'],
    ]);
    await screenshot(page, 'tools-running');

    await waitReplyStatus(page, 'done', 30_000);
    expect(await running.count()).toBe(0);
    expect(await callStates(page)).toEqual([
      ['slow', 'done'],
      ['fail', 'failed'],
    ]);
    const failed = page.getByTestId('tool-call').nth(1);
    expect(await failed.innerText()).toContain('the booking system is down');
    expect(await page.getByTestId('tool-call').first().innerText()).toContain('slept 2500 ms');
    // The details stay open while the reply streams in and ends.
    expect(await isOpen(page.getByTestId('tool-calls'))).toBe(true);
    expect(await page.getByTestId('sources').count()).toBe(0);
    await screenshot(page, 'tools-failed');
  });
});
