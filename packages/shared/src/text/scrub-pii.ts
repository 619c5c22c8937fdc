// Replaces personal data with placeholders before text reaches the model, history, cache or logs.
import type { PiiKind } from '@chat-fleet/protocol';
import { FoldedText } from './folded-text.js';

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
const PLACEHOLDER = String.raw`\[(?:EMAIL|PHONE|CARD|SSN|IBAN|NATIONAL_ID)\]`;
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
// National ids as their countries write them; `isNationalId` checks what each format carries (check
// digit or letter, dates, allocation rules), so ordinary numbers of the same shape stay.
// An id led by letters (NIE, NINO) starts a word; one ending in a letter is whole before a number
// ("DNI 12345678Z 28001 Madrid"). After a space the check letter must be a capital: "… 12345678 y …".
// A placeholder and a hyphen count as a word and a hyphen, so a second pass is a no-op.
const LETTER_START = String.raw`(?<!${WORD_LETTER}|[\p{N}_@#]|${PLACEHOLDER}|(?:${WORD_LETTER}|${PLACEHOLDER})-)`;
const LETTER_END = String.raw`(?!${WORD_LETTER}|[\p{N}_@])`;
const CHECK_LETTER = String.raw`(?:-?[A-Za-z]| [A-Z])${LETTER_END}`;
// Each branch first looks ahead at the shape's opening characters, which is cheap, before the guards.
const NATIONAL_ID = new RegExp(
  String.raw`(?=\d[\d ][\d .])${START}(?:` +
    [
      String.raw`(?:\d{8}|\d\d\.\d{3}\.\d{3})${CHECK_LETTER}`, // ES DNI: 12345678Z, 12.345.678-Z
      String.raw`[12] ?\d\d ?\d\d ?(?:\d\d|2[ABab]) ?\d{3} ?\d{3} ?\d\d${END}`, // FR NIR: 2 53 07 2A 073 004 43
      String.raw`[1-9]\d(?<de> ?)\d{3}\k<de>\d{3}\k<de>\d{3}${END}`, // DE Steuer-ID: 12 345 678 901
      String.raw`[1-8]\d{5}(?<cn>[ -]?)(?:19|20)\d{6}\k<cn>\d{3}[\dXx]${END}`, // CN: region, birth date, order, check
      String.raw`[12]\d{9}${END}`, // SA national id (1) or iqama (2)
      String.raw`784(?<ae>[ -]?)\d{4}\k<ae>\d{7}\k<ae>\d${END}`, // AE Emirates ID: 784-YYYY-NNNNNNN-N
    ].join('|') +
    String.raw`)|(?=[A-Z]{1,2}[ -]?\d|[xyz]-?\d)${LETTER_START}(?:` +
    [
      String.raw`(?:[XYZ] ?|[XYZxyz]-?)\d{7}${CHECK_LETTER}`, // ES NIE: X1234567L
      String.raw`[A-Z]{2} ?\d\d ?\d\d ?\d\d ?[A-D]${LETTER_END}`, // UK NINO: AB 12 34 56 C
    ].join('|') +
    ')',
  'gu',
);
// JP My Number: 1234 5678 9018.
const MY_NUMBER = new RegExp(String.raw`(?=\d{4}[ -]?\d{4})${START}\d{4}(?<jp>[ -]?)\d{4}\k<jp>\d{4}${END}`, 'gu');
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
// Spanish numbers have no trunk 0: nine digits from 6-9 in threes or pairs ("612 345 678",
// "612 34 56 78", "91 234 56 78"). The same groups next to a currency sign are an amount.
const PHONE_ES = new RegExp(
  String.raw`(?<!\p{Sc} ?)${START}(?:[6-9]\d\d([ -])(?:\d{3}\1\d{3}|\d\d\1\d\d\1\d\d)|[89]\d([ -])\d{3}\2\d\d\2\d\d)${END}(?! ?\p{Sc})`,
  'gu',
);
// Mobiles written as one run, as people type them into forms: a run of digits is an id unless its
// prefix and length are a mobile's. FR 06/07 (10 digits), DE 015-017 (11-12), JP 070/080/090 (11),
// CN 13-19 (11), SA and AE 05 (10), EG 010/011/012/015 (11).
const PHONE_MOBILE_RUN = new RegExp(String.raw`${START}(?:0[67]\d{8}|01[5-7]\d{8,9}|0[789]0\d{8}|1[3-9]\d{9}|05\d{8}|01[0125]\d{8})${END}`, 'gu');
// The area code may end with a slash, as Germans write it ("0151/23456789").
const PHONE_TRUNK = new RegExp(
  String.raw`${START}(?:\(0[1-9]\d{0,3}\) ?|0[1-9]\d{0,4}[ ./-])\d{2,8}(?:[ .-]\d{2,8}){0,3}${END}`,
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
  return scrub(text, true);
}

/** @internal scrubPii with every pass run, the prefilter aside: for tests that the prefilter only skips passes that find nothing. */
export function scrubPiiEveryPass(text: string): ScrubResult {
  return scrub(text, false);
}

function scrub(text: string, prefilter: boolean): ScrubResult {
  const found: Partial<Record<PiiKind, number>> = {};
  const view = new FoldedText(text);
  // A pass runs only if the text has what every match of it needs (see longestNumberRun): most
  // messages have no long number, '@' or '+', and skip most of the fifteen passes. Replacements
  // only take digits away, so what is measured here bounds every later pass too.
  const run = prefilter ? longestNumberRun(view.text) : Infinity;
  const at = !prefilter || view.text.includes('@');
  const plus = !prefilter || view.text.includes('+');
  const ibanStart = !prefilter || IBAN_START.test(view.text);
  const replace = (kind: PiiKind, possible: boolean, pattern: RegExp, decide: (m: RegExpExecArray) => Spans): void => {
    if (!possible) return;
    const n = view.replace(pattern, `[${kind}]`, decide);
    if (n > 0) found[kind] = (found[kind] ?? 0) + n;
  };

  // IBAN and card first so the phone rule never takes half of one; national ids before the card,
  // whose Luhn check an 18-digit Chinese id or a 15-digit NIR may pass too. The second argument:
  // whether the text has what a match of the pass needs; `run >= n`: the fewest digits such a
  // match holds in one number (a NINO's 6 … a card's 13).
  replace('IBAN', ibanStart, IBAN, (m) => prefix(validIbanPrefix(m[0])));
  replace('NATIONAL_ID', run >= 6, NATIONAL_ID, (m) => (isNationalId(m[0]) ? whole(m) : NONE));
  replace('CARD', run >= 13, CARD, (m) => cardSpans(m[0]));
  replace('SSN', run >= 9, SSN, (m) => (isSsn(m[1]!, m[3]!, m[4]!) ? whole(m) : NONE));
  replace('EMAIL', at, EMAIL, whole);
  replace('PHONE', plus && run >= 7, PHONE_INTL, (m) => prefix(validIntlPhonePrefix(m[0], after(m))));
  replace('PHONE', run >= 10, PHONE_00, (m) => prefix(validZeroZeroPhonePrefix(m[0], after(m))));
  replace('PHONE', run >= 10, PHONE_NANP, whole);
  replace('PHONE', run >= 11, PHONE_BR_MOBILE, whole);
  replace('PHONE', run >= 11, PHONE_CN_MOBILE, whole);
  replace('PHONE', run >= 9, PHONE_ES, whole);
  replace('PHONE', run >= 10, PHONE_MOBILE_RUN, whole);
  replace('PHONE', run >= 9, PHONE_TRUNK, (m) => (isTrunkPhone(m[0]) ? whole(m) : NONE));
  // My Number last: its groups of four are also a card's first three on a line of their own, and a
  // 0-led one is a trunk phone number; those rules keep what they took.
  replace('NATIONAL_ID', run >= 12, MY_NUMBER, (m) => (isMyNumber(m[0].replace(/\D/g, '')) ? whole(m) : NONE));
  return { text: view.toString(), found };
}

// An IBAN starts with its country's two letters and two check digits.
const IBAN_START = /[A-Za-z]{2}\d{2}/;

/**
 * The most digits in one number of `text` (the folded view): digits with at most two characters
 * between neighbours, each a separator some pass allows inside a number (space, `.`, `-`, `/`,
 * parentheses, a line break) or the A or B of Corsica's departments in a French NIR ("2A"). Every
 * digit pass's match lies within one such number: the widest gap any of them takes is two
 * characters (`) ` and ` (` in phone numbers, `\r\n` in a card split over two lines, `A ` in a
 * NIR). An upper bound, so a pass it skips could not have matched.
 */
function longestNumberRun(text: string): number {
  let best = 0;
  let run = 0;
  let gap = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      run = gap <= 2 ? run + 1 : 1;
      gap = 0;
      if (run > best) best = run;
    } else if (run > 0 && isNumberGap(c)) {
      gap++;
    } else {
      run = 0;
      gap = 0;
    }
  }
  return best;
}

function isNumberGap(c: number): boolean {
  // space . - / ( ) \r \n A B a b
  return c === 32 || c === 46 || c === 45 || c === 47 || c === 40 || c === 41 || c === 13 || c === 10 || c === 65 || c === 66 || c === 97 || c === 98;
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

// The candidate's format follows from its length and letters once separators are gone, and a
// 15-digit one's from its first digit: a NIR starts 1 or 2, an Emirates ID 784.
function isNationalId(candidate: string): boolean {
  const id = candidate.replace(/[ .-]/g, '').toUpperCase();
  switch (id.length) {
    case 9:
      return isDigit(id.charCodeAt(0)) ? isDni(id) : isDigit(id.charCodeAt(1)) ? isNie(id) : isNino(id);
    case 10: // Saudi, led by 1 or 2
      return luhnOk(id);
    case 11:
      return isSteuerId(id);
    case 15:
      return id.startsWith('784') ? isEmiratesId(id) : isNir(id);
    case 18:
      return isChineseId(id);
    default:
      return false;
  }
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

function isDni(id: string): boolean {
  return DNI_LETTERS.charAt(mod(id.slice(0, 8), 23)) === id.charAt(8);
}

// X, Y, Z stand for 0, 1, 2 in front of the seven digits.
function isNie(id: string): boolean {
  return DNI_LETTERS.charAt(mod('XYZ'.indexOf(id.charAt(0)) + id.slice(1, 8), 23)) === id.charAt(8);
}

// No check digit: the allocation rules (HMRC NIM39110) are the test. D, F, I, Q, U, V are never
// used, O never second, and some prefixes never allocated (QQ is HMRC's own example).
function isNino(id: string): boolean {
  return !/[DFIQUV]/.test(id.slice(0, 2)) && id.charAt(1) !== 'O' && !NINO_UNALLOCATED.has(id.slice(0, 2));
}

const NINO_UNALLOCATED = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

// Sex (1 or 2), year, month (01-12, or 20-42 and 50-99 when unknown), department (Corsica's 2A
// and 2B count as 19 and 18 in the key), commune, order; key = 97 - (first 13 digits mod 97).
function isNir(id: string): boolean {
  const month = Number(id.slice(3, 5));
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50)) return false;
  const department = id.slice(5, 7);
  if (department === '00') return false;
  const numeric = id.slice(0, 5) + (department === '2A' ? '19' : department === '2B' ? '18' : department) + id.slice(7, 13);
  return 97 - mod(numeric, 97) === Number(id.slice(13));
}

// 784, birth year, serial, Luhn digit over all 15.
function isEmiratesId(id: string): boolean {
  const year = Number(id.slice(3, 7));
  return year >= 1900 && year <= new Date().getUTCFullYear() && luhnOk(id);
}

// ISO 7064 MOD 11,10, and in the first ten digits exactly one digit twice or three times.
function isSteuerId(id: string): boolean {
  const seen = new Array<number>(10).fill(0);
  let product = 10;
  for (let i = 0; i < 10; i++) {
    const d = id.charCodeAt(i) - 48;
    seen[d]!++;
    product = (((d + product) % 10 || 10) * 2) % 11;
  }
  const repeated = seen.filter((n) => n > 1);
  return repeated.length === 1 && repeated[0]! <= 3 && (11 - product) % 10 === id.charCodeAt(10) - 48;
}

const CN_PROVINCES = new Set([11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]);

// Province, a birth date that exists and has passed (1900 on), ISO 7064 MOD 11-2 (X for 10).
function isChineseId(id: string): boolean {
  if (!CN_PROVINCES.has(Number(id.slice(0, 2)))) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < 1900 || month < 1 || month > 12) return false;
  const birth = Date.UTC(year, month - 1, day);
  if (birth > Date.now() || new Date(birth).getUTCDate() !== day) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * CN_WEIGHTS[i]!;
  const check = (12 - (sum % 11)) % 11;
  return id.charAt(17) === (check === 10 ? 'X' : String(check));
}

// 2^(17-i) mod 11.
const CN_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

// Weights 2..7 then 2..6 from the right over the first eleven digits; remainder 0 or 1 gives 0.
function isMyNumber(digits: string): boolean {
  let sum = 0;
  for (let n = 1; n <= 11; n++) sum += (digits.charCodeAt(11 - n) - 48) * (n <= 6 ? n + 1 : n - 5);
  const r = sum % 11;
  return (r <= 1 ? 0 : 11 - r) === digits.charCodeAt(11) - 48;
}

function mod(digits: string, m: number): number {
  let rem = 0;
  for (let i = 0; i < digits.length; i++) rem = (rem * 10 + digits.charCodeAt(i) - 48) % m;
  return rem;
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
// runs stay. Nine digits only as the Emirates write a one-digit area code ("04 123 4567").
function isTrunkPhone(candidate: string): boolean {
  const digits = countDigits(candidate);
  if (digits === 9 ? !/^0[2-9][ -]\d{3}[ -]?\d{4}$/.test(candidate) : digits < 10 || digits > 12) return false;
  const separators = new Set(candidate.replace(/^(?:\(\d+\) ?|\d+[ ./-])/, '').replace(/\d/g, ''));
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
