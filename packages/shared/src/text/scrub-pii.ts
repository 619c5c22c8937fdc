// Replaces personal data with placeholders before text reaches the model, history, cache or logs.

export type PiiKind = 'EMAIL' | 'PHONE' | 'CARD' | 'SSN' | 'IBAN';

export interface ScrubResult {
  text: string;
  /** Replacements per kind, for metrics; never the values. */
  found: Partial<Record<PiiKind, number>>;
}

// A number must be a whole run: nothing glued on, no digit group joined by one separator
// (dates, versions, order ids). A placeholder counts as digits, so a second pass is a no-op.
const PLACEHOLDER = String.raw`\[(?:EMAIL|PHONE|CARD|SSN|IBAN)\]`;
const START = String.raw`(?<![\p{L}\p{N}_#+@]|(?:\p{N}|${PLACEHOLDER})[ .-]?|\p{L}-)`;
const END = String.raw`(?![\p{L}\p{N}_@]|[ .-]?(?:\p{N}|${PLACEHOLDER}))`;

// Every pattern is linear: guards reject a position in O(1) and repetitions are bounded or
// separated by a mandatory delimiter, so there is no ambiguous split to backtrack through.
const IBAN = new RegExp(
  String.raw`(?<![\p{L}\p{N}_]|${PLACEHOLDER})[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?![\p{L}\p{N}_]|${PLACEHOLDER})`,
  'gu',
);
const CARD = new RegExp(String.raw`${START}\d(?:[ -]?\d){12,18}${END}`, 'gu');
const SSN = new RegExp(String.raw`${START}(\d{3})([ -])(\d{2})\2(\d{4})${END}`, 'gu');
// Scripts written with spaces; a CJK sentence glued to an address must not become its local part.
const LOCAL = String.raw`[\p{sc=Latin}\p{sc=Cyrillic}\p{sc=Greek}0-9_%+-]`;
const EMAIL = new RegExp(
  String.raw`(?<!(?:${LOCAL}|${PLACEHOLDER})\.?)${LOCAL}+(?:\.${LOCAL}+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9_-]|${PLACEHOLDER})`,
  'gu',
);
// A placeholder inside the run keeps the whole run rejected, as its digits did on the first pass.
const PHONE_INTL = new RegExp(
  String.raw`(?<![\p{L}\p{N}_+]|${PLACEHOLDER})\+(?:[\d().-]|${PLACEHOLDER}| (?=[\d(]|${PLACEHOLDER}))+`,
  'gu',
);
const PHONE_NANP = new RegExp(
  String.raw`${START}(?:1[ .-]?(?=\()|1[ .-])?(?:\([2-9]\d\d\) ?[2-9]\d\d[ .-]|[2-9]\d\d([ .-])[2-9]\d\d\1)\d{4}${END}`,
  'gu',
);
const PHONE_TRUNK = new RegExp(
  String.raw`${START}(?:\(0[1-9]\d{0,3}\) ?|0[1-9]\d{0,3}[ .-])\d{2,6}(?:[ .-]\d{2,6}){0,3}${END}`,
  'gu',
);
// Only run on candidates already capped at 15 digits; each \d+ must end at a separator.
const INTL_SHAPE = /^\+\d+(?:[ .-]?\(\d{1,4}\)[ .-]?\d+)?(?:[ .-]\d+)*$/;
const GLUED = /^[\p{L}\p{N}_@]/u;

export function scrubPii(text: string): ScrubResult {
  const found: Partial<Record<PiiKind, number>> = {};
  const hit = (kind: PiiKind): string => {
    found[kind] = (found[kind] ?? 0) + 1;
    return `[${kind}]`;
  };

  // IBAN and card first so the phone rule never takes half of one.
  let out = text.replace(IBAN, (m) => {
    const len = validIbanPrefix(m);
    return len === 0 ? m : hit('IBAN') + m.slice(len);
  });
  out = out.replace(CARD, (m) => (isCard(m) ? hit('CARD') : m));
  out = out.replace(SSN, (m, area: string, _sep: string, group: string, serial: string) =>
    isSsn(area, group, serial) ? hit('SSN') : m,
  );
  out = out.replace(EMAIL, () => hit('EMAIL'));
  out = out.replace(PHONE_INTL, (m, offset: number, whole: string) => {
    const len = validIntlPhonePrefix(m, whole.slice(offset + m.length, offset + m.length + 2));
    return len === 0 ? m : hit('PHONE') + m.slice(len);
  });
  out = out.replace(PHONE_NANP, () => hit('PHONE'));
  out = out.replace(PHONE_TRUNK, (m) => (isTrunkPhone(m) ? hit('PHONE') : m));
  return { text: out, found };
}

// Length of the longest valid IBAN made of the candidate's leading space-separated groups, or 0:
// the last group the pattern took may be the next word ("... 7034 for rent").
function validIbanPrefix(candidate: string): number {
  let end = candidate.length;
  for (;;) {
    const compact = candidate.slice(0, end).replace(/ /g, '');
    if (compact.length < 15) return 0;
    if (compact.length <= 34 && ibanChecksumOk(compact.toUpperCase())) return end;
    end = candidate.lastIndexOf(' ', end - 1);
    if (end < 0) return 0;
  }
}

function ibanChecksumOk(iban: string): boolean {
  const check = iban.slice(2, 4);
  // 00, 01 and 99 never come out of the check-digit formula; 99 would alias 02 under mod 97.
  if (check === '00' || check === '01' || check === '99') return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    rem = code <= 57 ? (rem * 10 + code - 48) % 97 : (rem * 100 + code - 55) % 97;
  }
  return rem === 1;
}

// Grouping must look like a card (4-4-4-4[-3], 4-6-5, 4-6-4) and the issuer digit like a
// payment network (2-6): 13-19 digit ids and ms timestamps starting with 1 are far more common.
function isCard(candidate: string): boolean {
  const hasSpace = candidate.includes(' ');
  const hasHyphen = candidate.includes('-');
  if (hasSpace && hasHyphen) return false;
  if (hasSpace || hasHyphen) {
    const groups = candidate.split(hasSpace ? ' ' : '-').map((g) => g.length);
    const amex = groups.length === 3 && groups[0] === 4 && groups[1] === 6 && (groups[2] === 4 || groups[2] === 5);
    const fours = groups.every((g, i) => (i === groups.length - 1 ? g >= 1 && g <= 4 : g === 4));
    if (!amex && !fours) return false;
  }
  const digits = candidate.replace(/[ -]/g, '');
  const first = digits.charCodeAt(0) - 48;
  return first >= 2 && first <= 6 && luhnOk(digits);
}

function luhnOk(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function isSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && !area.startsWith('9') && group !== '00' && serial !== '0000';
}

// Length of the phone number at the start of a "+..." candidate, or 0; trailing separators and
// parentheses the pattern swept up ("+1 415 555 2671)") stay in the text.
function validIntlPhonePrefix(candidate: string, after: string): number {
  if (candidate.includes('[')) return 0;
  let end = candidate.length;
  while (end > 0 && !isDigit(candidate.charCodeAt(end - 1))) end--;
  if (end === candidate.length && GLUED.test(after)) return 0;
  const core = candidate.slice(0, end);
  const digits = countDigits(core);
  if (digits < 7 || digits > 15) return 0;
  return INTL_SHAPE.test(core) ? end : 0;
}

// Trunk-prefix national numbers ("020 7946 0958", "06 12 34 56 78"): 10-11 digits, one kind of
// separator throughout, so "05.01.2024 12" style date-and-time runs stay.
function isTrunkPhone(candidate: string): boolean {
  const digits = countDigits(candidate);
  if (digits < 10 || digits > 11) return false;
  const separators = new Set(candidate.replace(/^\(\d+\) ?/, '').replace(/\d/g, ''));
  return separators.size <= 1;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) n++;
  return n;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
