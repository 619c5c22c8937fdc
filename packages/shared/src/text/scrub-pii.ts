// Replaces personal data with placeholders before text reaches the model, history, cache or logs.
import { FoldedText } from './folded-text.js';

export type PiiKind = 'EMAIL' | 'PHONE' | 'CARD' | 'SSN' | 'IBAN';

export interface ScrubResult {
  text: string;
  /** Replacements per kind, for metrics; never the values. */
  found: Partial<Record<PiiKind, number>>;
}

// Matching runs on a folded view (full-width and other compatibility forms, every script's
// digits, Unicode hyphens as ASCII, invisible format characters dropped); only the matched spans
// change, so the rest of the message (full-width punctuation in Japanese, say) stays as written.

// Letters of scripts written with spaces between words: a number glued to one is part of a
// word ("A4111…"). Chinese, Japanese, Korean particles and Thai glue numbers into sentences.
const WORD_LETTER = String.raw`[^\P{L}\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Thai}]`;

// A number must be a whole run: nothing glued on, no digit group joined by one separator
// (dates, versions, order ids). A placeholder counts as digits, so a second pass is a no-op.
const PLACEHOLDER = String.raw`\[(?:EMAIL|PHONE|CARD|SSN|IBAN)\]`;
const START = String.raw`(?<!${WORD_LETTER}|[\p{N}_#+@]|(?:\p{N}|${PLACEHOLDER})[ .-]?|${WORD_LETTER}-)`;
const END = String.raw`(?!${WORD_LETTER}|[\p{N}_@]|[ .-]?(?:\p{N}|${PLACEHOLDER}))`;

// Every pattern is linear: guards reject a position in O(1) and repetitions are bounded or
// separated by a mandatory delimiter, so there is no ambiguous split to backtrack through.
const IBAN = new RegExp(
  String.raw`(?<!${WORD_LETTER}|[\p{N}_]|${PLACEHOLDER})[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?!${WORD_LETTER}|[\p{N}_]|${PLACEHOLDER})`,
  'gu',
);
// A line break may stand for one separator: a card split over two lines.
const CARD = new RegExp(String.raw`${START}\d(?:(?:[ .-]|\r?\n)?\d){12,18}${END}`, 'gu');
const SSN = new RegExp(String.raw`${START}(\d{3})([ -])(\d{2})\2(\d{4})${END}`, 'gu');
// Scripts written with spaces; a CJK sentence glued to an address must not become its local part.
const LOCAL = String.raw`[\p{sc=Latin}\p{sc=Cyrillic}\p{sc=Greek}0-9_%+-]`;
const EMAIL = new RegExp(
  String.raw`(?<!(?:${LOCAL}|${PLACEHOLDER})\.?)${LOCAL}+(?:\.${LOCAL}+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9_-]|${PLACEHOLDER})`,
  'gu',
);
// A placeholder inside the run keeps the whole run rejected, as its digits did on the first pass.
const INTL_RUN = String.raw`(?:[\d().-]|${PLACEHOLDER}| (?=[\d(]|${PLACEHOLDER}))+`;
const PHONE_INTL = new RegExp(String.raw`(?<!${WORD_LETTER}|[\p{N}_+]|${PLACEHOLDER})\+${INTL_RUN}`, 'gu');
// The international prefix dialled as digits ("0049 30 …"), as most of the world writes it.
const PHONE_00 = new RegExp(String.raw`${START}00(?=[1-9])${INTL_RUN}`, 'gu');
const PHONE_NANP = new RegExp(
  String.raw`${START}(?:1[ .-]?(?=\()|1[ .-])?(?:\([2-9]\d\d\) ?[2-9]\d\d[ .-]|[2-9]\d\d([ .-])[2-9]\d\d\1)\d{4}${END}`,
  'gu',
);
// National forms without a trunk 0: Brazilian mobiles "(11) 91234-5678", Chinese mobiles "138 0013 8000".
const PHONE_BR_MOBILE = new RegExp(String.raw`${START}\([1-9]\d\) ?9\d{4}[ -]?\d{4}${END}`, 'gu');
const PHONE_CN_MOBILE = new RegExp(String.raw`${START}1[3-9]\d([ -])\d{4}\1\d{4}${END}`, 'gu');
const PHONE_TRUNK = new RegExp(
  String.raw`${START}(?:\(0[1-9]\d{0,3}\) ?|0[1-9]\d{0,4}[ .-])\d{2,8}(?:[ .-]\d{2,8}){0,3}${END}`,
  'gu',
);
// Only run on candidates already capped at 15 digits; each \d+ must end at a separator.
const INTL_SHAPE = /^\+\d+(?:[ .-]?\(\d{1,4}\)[ .-]?\d+)?(?:[ .-]\d+)*$/;
const GLUED = new RegExp(String.raw`^(?:${WORD_LETTER}|[\p{N}_@])`, 'u');

type Spans = ReadonlyArray<readonly [number, number]>;
const NONE: Spans = [];
const whole = (m: RegExpExecArray): Spans => [[0, m[0].length]];
const prefix = (length: number): Spans => (length === 0 ? NONE : [[0, length]]);
const after = (m: RegExpExecArray): string => m.input.slice(m.index + m[0].length, m.index + m[0].length + 2);

export function scrubPii(text: string): ScrubResult {
  const found: Partial<Record<PiiKind, number>> = {};
  const view = new FoldedText(text);
  const replace = (kind: PiiKind, pattern: RegExp, decide: (m: RegExpExecArray) => Spans): void => {
    const n = view.replace(pattern, `[${kind}]`, decide);
    if (n > 0) found[kind] = (found[kind] ?? 0) + n;
  };

  // IBAN and card first so the phone rule never takes half of one.
  replace('IBAN', IBAN, (m) => prefix(validIbanPrefix(m[0])));
  replace('CARD', CARD, (m) => cardSpans(m[0]));
  replace('SSN', SSN, (m) => (isSsn(m[1]!, m[3]!, m[4]!) ? whole(m) : NONE));
  replace('EMAIL', EMAIL, whole);
  replace('PHONE', PHONE_INTL, (m) => prefix(validIntlPhonePrefix(m[0], after(m))));
  replace('PHONE', PHONE_00, (m) => prefix(validZeroZeroPhonePrefix(m[0], after(m))));
  replace('PHONE', PHONE_NANP, whole);
  replace('PHONE', PHONE_BR_MOBILE, whole);
  replace('PHONE', PHONE_CN_MOBILE, whole);
  replace('PHONE', PHONE_TRUNK, (m) => (isTrunkPhone(m[0]) ? whole(m) : NONE));
  return { text: view.toString(), found };
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

// A card split over two lines is one card; otherwise a line break ends a number, so a card
// whose run took the next line's number along ("…1111\n12") is found on its own line.
function cardSpans(candidate: string): Spans {
  if (isCard(candidate)) return [[0, candidate.length]];
  const lines = [...candidate.matchAll(/[^\r\n]+/g)].map((l) => [l.index, l.index + l[0].length] as const);
  if (lines.length < 2) return NONE;
  const spans: Array<readonly [number, number]> = [];
  for (let i = 0; i < lines.length; i++) {
    const [start, end] = lines[i]!;
    const next = lines[i + 1];
    if (next !== undefined && isCard(candidate.slice(start, next[1]))) {
      spans.push([start, next[1]]);
      i++;
    } else if (isCard(candidate.slice(start, end))) {
      spans.push([start, end]);
    }
  }
  return spans;
}

// Grouping must look like a card (4-4-4-4[-3], 4-6-5, 4-6-4), with one kind of separator and at
// most one line break, and the issuer digit like a payment network (2-6): 13-19 digit ids and
// ms timestamps starting with 1 are far more common.
function isCard(candidate: string): boolean {
  const separators = candidate.match(/\r?\n|[ .-]/g) ?? [];
  const breaks = separators.filter((s) => s.endsWith('\n')).length;
  if (breaks > 1 || new Set(separators.filter((s) => !s.endsWith('\n'))).size > 1) return false;
  if (separators.length > 0) {
    const groups = candidate.split(/\r?\n|[ .-]/).map((g) => g.length);
    const amex = groups.length === 3 && groups[0] === 4 && groups[1] === 6 && (groups[2] === 4 || groups[2] === 5);
    const fours = groups.every((g, i) => (i === groups.length - 1 ? g >= 1 && g <= 4 : g === 4));
    if (!amex && !fours) return false;
  }
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
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

// "00" and a country code: the "+" rule's shape, but "00" is a weaker sign than "+" (zero-padded
// ids), so at least 8 digits after it and at least one separator.
function validZeroZeroPhonePrefix(candidate: string, after: string): number {
  const length = validIntlPhonePrefix(`+${candidate.slice(2)}`, after);
  if (length === 0) return 0;
  const core = candidate.slice(0, length + 1);
  return countDigits(core) >= 10 && /[ .()-]/.test(core) ? length + 1 : 0;
}

// Trunk-prefix national numbers ("020 7946 0958", "06 12 34 56 78", "011 4123-4567"): 10-12
// digits, one kind of separator after the area code, so "05.01.2024 12" style date-and-time
// runs stay.
function isTrunkPhone(candidate: string): boolean {
  const digits = countDigits(candidate);
  if (digits < 10 || digits > 12) return false;
  const separators = new Set(candidate.replace(/^(?:\(\d+\) ?|\d+[ .-])/, '').replace(/\d/g, ''));
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
