// Text hygiene for user content: Unicode-normalized, control characters stripped.

// C0 and C1 controls except tab, line feed and carriage return; plus zero-width and bidi
// override characters, which hide text from people reading logs and history.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

export function sanitizeText(text: string): string {
  return text.normalize('NFC').replace(CONTROL, '').replace(/\r\n?/g, '\n');
}
