// The copy button of a rendered code block (markdown.ts writes it; the reply view hands its clicks
// here): the block's code to the clipboard, and the button says how that went for a moment.

const SHOWN_MS = 2000;

/** Puts `text` on the clipboard: the Clipboard API where the page may use it, else a selected textarea (plain-http LAN pages). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (window.isSecureContext && navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // refused (no permission, document not focused): the old way may still work
  }
  const focused = document.activeElement;
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
    if (focused instanceof HTMLElement) focused.focus();
  }
}

/** Handles a click in a rendered reply: when it is on a copy button, copies that block's code. */
export function copyCodeOnClick(event: MouseEvent, labels: { copy: string; copied: string; failed: string }): void {
  const button = event.target instanceof Element ? event.target.closest<HTMLButtonElement>('button[data-copy-code]') : null;
  const code = button?.closest('.code-block')?.querySelector('pre > code');
  if (button === null || button === undefined || code === null || code === undefined) return;
  void copyText(code.textContent ?? '').then((ok) => {
    button.textContent = ok ? labels.copied : labels.failed;
    button.dataset.copied = ok ? 'true' : 'false';
    window.setTimeout(() => {
      button.textContent = labels.copy;
      delete button.dataset.copied;
    }, SHOWN_MS);
  });
}
