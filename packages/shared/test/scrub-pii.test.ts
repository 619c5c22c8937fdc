import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { AckFrameSchema } from '@chat-fleet/protocol';
import { scrubPii, scrubPiiEveryPass } from '../src/text/scrub-pii.js';
import type { PiiKind } from '@chat-fleet/protocol';
import { card, fullWidth, iban, INVISIBLE, nationalId, ordinary, phone, ssn, withInvisible } from './pii-corpus.js';

const digitCount = (s: string): number => (s.match(/\p{N}/gu) ?? []).length;

// The prefilter skips a pass when the text lacks what each of its matches needs (a long enough
// number, an '@', a '+', an IBAN's start): it must never skip one that would have found something.
const sameAsEveryPass = (input: string): void => {
  expect(scrubPii(input)).toEqual(scrubPiiEveryPass(input));
};

describe('scrubPii replaces', () => {
  it.each<[string, string, string]>([
    ['email with subaddress and trailing period', 'mail me at a.b+c@example.co.uk.', 'mail me at [EMAIL].'],
    ['email in angle brackets', 'From: Jane <jane_doe@mail.example.com>', 'From: Jane <[EMAIL]>'],
    ['email after a colon and before a comma', 'contact:ops-team@corp.io, thanks', 'contact:[EMAIL], thanks'],
    ['email with accented local part', 'josé.garcía@example.es', '[EMAIL]'],
    ['email after an ellipsis', 'so...john@example.com', 'so...[EMAIL]'],
    ['card, spaced', 'card 4111 1111 1111 1111 exp 12/27', 'card [CARD] exp 12/27'],
    ['card, hyphenated', 'pay with 4111-1111-1111-1111.', 'pay with [CARD].'],
    ['card, Amex ungrouped', '(378282246310005)', '([CARD])'],
    ['card, Amex 4-6-5', 'amex: 3782 822463 10005', 'amex: [CARD]'],
    ['card, Diners 4-6-4', '3056 930902 5904', '[CARD]'],
    ['card, 13 digits', 'old visa 4222222222222!', 'old visa [CARD]!'],
    ['card, 19 digits grouped', '4111 1111 1111 1111 003', '[CARD]'],
    ['card, Mastercard 2-series', '"2223003122003222"', '"[CARD]"'],
    ['SSN with hyphens', 'SSN 123-45-6789.', 'SSN [SSN].'],
    ['SSN with spaces', 'ssn: 219 09 9999', 'ssn: [SSN]'],
    ['IBAN grouped', 'IBAN DE89 3704 0044 0532 0130 00 please', 'IBAN [IBAN] please'],
    ['IBAN compact', 'to NL91ABNA0417164300, ok', 'to [IBAN], ok'],
    ['IBAN with a letter in the BBAN', 'FR14 2004 1010 0505 0001 3M02 606', '[IBAN]'],
    ['IBAN whose full last group is followed by a word', 'BE68 5390 0754 7034 for rent', '[IBAN] for rent'],
    ['IBAN in lower case', 'gb82 west 1234 5698 7654 32', '[IBAN]'],
    ['phone, international with parentheses', 'call +1 (415) 555-2671 now', 'call [PHONE] now'],
    ['phone, international with spaces', 'UK office: +44 20 7946 0958.', 'UK office: [PHONE].'],
    ['phone, international with hyphens', 'Berlin +49-30-901820', 'Berlin [PHONE]'],
    ['phone, international with trunk in parentheses', '+44 (0)20 7946 0958 (home)', '[PHONE] (home)'],
    ['phone, international inside parentheses', '(+33 1 23 45 67 89)', '([PHONE])'],
    ['phone, US with area code in parentheses', 'ring (415) 555-2671', 'ring [PHONE]'],
    ['phone, US hyphenated', '415-555-2671', '[PHONE]'],
    ['phone, US dotted', 'tel 415.555.2671;', 'tel [PHONE];'],
    ['phone, US with country code', '1-800-555-0199', '[PHONE]'],
    ['phone, UK national', 'dial 020 7946 0958', 'dial [PHONE]'],
    ['phone, UK mobile', '07700 900123', '[PHONE]'],
    ['phone, French pairs', 'appelle 06 12 34 56 78', 'appelle [PHONE]'],
    ['phone, French mobile as one run', 'mon portable : 0612345678', 'mon portable : [PHONE]'],
    ['phone, Spanish mobile in threes', 'llámame al 612 345 678', 'llámame al [PHONE]'],
    ['phone, Spanish mobile in pairs', 'móvil 612 34 56 78.', 'móvil [PHONE].'],
    ['phone, Spanish landline', 'oficina 91 234 56 78', 'oficina [PHONE]'],
    ['phone, Spanish landline in threes', 'tel. 912 345 678', 'tel. [PHONE]'],
    ['phone, German area code with a slash', 'Tel. 0151/23456789', 'Tel. [PHONE]'],
    ['phone, German mobile as one run', 'Handy: 015123456789', 'Handy: [PHONE]'],
    ['phone, Japanese mobile as one run', '携帯09012345678です', '携帯[PHONE]です'],
    ['phone, Chinese mobile as one run', '我的手机号是13800138000', '我的手机号是[PHONE]'],
    ['phone, Saudi mobile', 'جوالي 055 123 4567', 'جوالي [PHONE]'],
    ['phone, Saudi mobile as one run', 'رقمي 0501234567', 'رقمي [PHONE]'],
    ['phone, Saudi mobile, international', '+966 55 123 4567', '[PHONE]'],
    ['phone, Saudi landline', 'الرياض 011 234 5678', 'الرياض [PHONE]'],
    ['phone, Emirates mobile', 'call 050 123 4567', 'call [PHONE]'],
    ['phone, Emirates landline', 'Dubai office 04 123 4567', 'Dubai office [PHONE]'],
    ['phone, Emirates landline hyphenated', 'هاتف 04-1234567', 'هاتف [PHONE]'],
    ['phone, Egyptian mobile as one run', 'موبايل 01012345678', 'موبايل [PHONE]'],
    ['UK National Insurance number', 'NI number AB123456C.', 'NI number [NATIONAL_ID].'],
    ['UK National Insurance number in pairs', 'NINO: AB 12 34 56 C', 'NINO: [NATIONAL_ID]'],
    ['Spanish DNI', 'DNI 12345678Z, gracias', 'DNI [NATIONAL_ID], gracias'],
    ['Spanish DNI with a hyphen and a lower-case letter', 'dni: 54362315-k', 'dni: [NATIONAL_ID]'],
    ['Spanish DNI with dots', 'DNI 12.345.678-Z', 'DNI [NATIONAL_ID]'],
    ['Spanish DNI followed by a postcode', 'DNI 12345678Z 28001 Madrid', 'DNI [NATIONAL_ID] 28001 Madrid'],
    ['Spanish NIE', 'NIE X1234567L', 'NIE [NATIONAL_ID]'],
    ['Spanish NIE with hyphens, lower case', 'nie x-2482300-w', 'nie [NATIONAL_ID]'],
    ['Spanish NIE with Y', '(Y7654321G)', '([NATIONAL_ID])'],
    ['French NIR in groups', 'n° de sécu : 2 95 10 99 126 111 93', 'n° de sécu : [NATIONAL_ID]'],
    ['French NIR compact', 'NIR 295109912611193.', 'NIR [NATIONAL_ID].'],
    ['French NIR with the key apart', '1840575123456 25', '[NATIONAL_ID]'],
    ['French NIR born in Corse-du-Sud (2A)', '2 53 07 2A 073 004 43', '[NATIONAL_ID]'],
    ['French NIR born in Haute-Corse (2B)', '253072B07300470', '[NATIONAL_ID]'],
    ['German Steuer-ID compact', 'Steuer-ID 36574261809', 'Steuer-ID [NATIONAL_ID]'],
    ['German Steuer-ID in groups', 'IdNr. 86 095 742 719', 'IdNr. [NATIONAL_ID]'],
    ['Chinese resident id ending in X', '身份证号11010519491231002X。', '身份证号[NATIONAL_ID]。'],
    ['Chinese resident id ending in x', 'id 11010519491231002x', 'id [NATIONAL_ID]'],
    ['Chinese resident id in groups', '440304 19851125 1232', '[NATIONAL_ID]'],
    ['Chinese resident id born on 29 February', '510108200002290519', '[NATIONAL_ID]'],
    ['Japanese My Number in groups', 'マイナンバーは1234 5678 9018です', 'マイナンバーは[NATIONAL_ID]です'],
    ['Japanese My Number hyphenated', '6214-9832-0257', '[NATIONAL_ID]'],
    ['Japanese My Number compact', '個人番号：987654321093', '個人番号：[NATIONAL_ID]'],
    ['Saudi national id', 'رقم الهوية 1000000008', 'رقم الهوية [NATIONAL_ID]'],
    ['Saudi iqama', 'iqama 2345678904.', 'iqama [NATIONAL_ID].'],
    ['Emirates ID', 'Emirates ID 784-1968-6570305-0', 'Emirates ID [NATIONAL_ID]'],
    ['Emirates ID compact', '784199012345676', '[NATIONAL_ID]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubPii(input).text).toBe(expected);
  });
});

describe('scrubPii leaves alone', () => {
  it.each<[string, string]>([
    ['Luhn-invalid 16-digit order number', 'order 4111111111111112 shipped'],
    ['Luhn-invalid grouped number', 'ref 1234 5678 9012 3456'],
    ['Luhn-valid id with a non-card issuer digit', 'snowflake 1234567890123452'],
    ['ms timestamp', 'ts 1700000000004'],
    ['digits glued to letters', 'sku A4111111111111111'],
    ['card-length run inside a longer run', '41111111111111111111'],
    ['hyphenated order id', 'ORD-4111111111111111'],
    ['ISBN', 'ISBN 978-0-306-40615-7'],
    ['SSN with area 000', '000-12-3456'],
    ['SSN with area 666', '666-12-3456'],
    ['SSN with area 9xx', '912-34-5678'],
    ['SSN with group 00', '123-00-4567'],
    ['SSN with serial 0000', '123-45-0000'],
    ['bare 9-digit number', 'id 123456789'],
    ['SSN with mixed separators', '123-45 6789'],
    ['IBAN with a bad checksum', 'DE89 3704 0044 0532 0130 01'],
    ['IBAN-shaped word too short', 'DE89 3704 004'],
    ['user@localhost', 'ssh user@localhost'],
    ['@mention', 'thanks @alice.smith and @bob'],
    ['address without a TLD', 'a@b'],
    ['one-letter TLD', 'x@y.z'],
    ['package specifier', 'npm i lodash@4.17.21 @types/node'],
    ['ISO date', 'on 2024-01-15 at 12:30'],
    ['European date and time', '15.01.2024 09:30'],
    ['zero-padded date and time', '05.01.2024 12:30'],
    ['timestamp', '2024-01-15T12:30:00Z'],
    ['versions', 'upgrade 1.2.3 to v10.4.1'],
    ['IP address and port', '192.168.1.1:8080 and 10.0.0.1'],
    ['prices', '$1,299.00 or €1.299,00'],
    ['hash-prefixed order number', 'order #123456789'],
    ['order id with a year', 'ORD-2024-000123'],
    ['year range', '1999-2004'],
    ['short numbers', 'room 42, 7 people, 555-2671'],
    ['US-shaped number with an invalid area code', '123-456-7890'],
    ['phone digits glued to letters', '(415)555-2671x12'],
    ['plus with too few digits', 'grew +15% to +1234'],
    ['plus with too many digits', '+1234567890123456'],
    ['plus inside an expression', 'x+1234567'],
    ['UUID', '123e4567-e89b-12d3-a456-426614174000'],
    ['hex digest', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['DNI with a wrong letter', 'DNI 12345678A'],
    ['NIE with a wrong letter', 'X1234567A'],
    ['8 digits and a letter glued to a word', 'ref12345678Z'],
    ["NINO with HMRC's example prefix QQ", 'QQ 12 34 56 C'],
    ['NINO with an unallocated prefix', 'GB123456A'],
    ['NINO with a letter never used first', 'DA123456A'],
    ['NINO with a suffix past D', 'AB123456E'],
    ['NINO shape in lower-case words', 'we scored 12 34 56 a piece'],
    ['DNI shape before a one-letter word', 'entre 12345678 y 87654321'],
    ['NIR with a wrong key', '295109912611199'],
    ['NIR with a right key and month 13', '184137512345656'],
    ['NIR with a right key and department 00', '184050012345613'],
    ['NIR with a department 2C', '253072C07300443'],
    ['Steuer-ID with a wrong check digit', '36574261890'],
    ['Steuer-ID with two digits repeated', '36554266806'],
    ['11 digits, all different', '12345678903'],
    ['Chinese id with a wrong check digit', '110105194912310021'],
    ['Chinese id with a right check and 31 February', '110105194902310026'],
    ['Chinese id with a right check and a birth in 2090', '110105209001010025'],
    ['Chinese id with a right check and no such province', '990105194912310023'],
    ['My Number with a wrong check digit', '1234 5678 9019'],
    ['Saudi id with a wrong Luhn digit', '1000000009'],
    ['Luhn-valid 10 digits starting with 3', '3000000004'],
    ['Unix time in seconds', 'ts 1700000000'],
    ['order number of 10 digits', 'order 1234567890'],
    ['Emirates ID with a wrong Luhn digit', '784-1968-6570305-1'],
    ['Emirates ID with a right Luhn digit and year 1850', '784-1850-1234567-5'],
    ['an amount in Spanish thousands', 'cuesta 612 345 678 € al año'],
    ['an amount with the currency sign first', 'budget € 712 345 678'],
    ['a Spanish number with dots, a thousands separator', 'población 912.345.678'],
    ['a Spanish shape with a digit too few', 'ref 91 234 567'],
    ['a Spanish shape with a fourth group', '612 345 678 901'],
    ['nine digits in one run (a Spanish mobile is not taken in this form)', 'pedido 612345678'],
    ['a run of 11 digits from 06', 'id 06123456789'],
    ['a run of 11 digits from 12 (no Chinese mobile prefix)', 'id 12800138000'],
    ['a run of 10 digits from 04 (a landline, not a mobile)', 'ref 0401234567'],
    ['a run of 12 digits from 050', 'ref 050123456789'],
    ['a date with slashes', 'el 06/12/2024 a las 12:30'],
    ['a date and time after a slash-led number', '05/01/2024 12:30'],
    ['groups after an area code with two kinds of separators', '030/1234/5678'],
    ['an Emirates shape with the area code of two digits', '044 123 456'],
    ['placeholders', '[EMAIL] [PHONE] [CARD] [SSN] [IBAN] [NATIONAL_ID]'],
  ])('%s', (_name, input) => {
    expect(scrubPii(input)).toEqual({ text: input, found: {} });
  });
});

describe('scrubPii sees through the forms people paste', () => {
  it.each<[string, string, string]>([
    ['full-width @', 'taro＠example.com', '[EMAIL]'],
    ['full-width address in Japanese text', 'メールはｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍまで', 'メールは[EMAIL]まで'],
    ['full-width phone', '０９０-１２３４-５６７８', '[PHONE]'],
    ['full-width phone glued to Japanese text, text kept as written', 'ＴＥＬ：０９０－１２３４－５６７８（携帯）です', 'ＴＥＬ：[PHONE]（携帯）です'],
    ['full-width international phone', '＋８１ ９０-１２３４-５６７８', '[PHONE]'],
    ['full-width card', '４１１１ １１１１ １１１１ １１１１', '[CARD]'],
    ['full-width card with ideographic spaces', 'カード４１１１\u3000１１１１\u3000１１１１\u3000１１１１です', 'カード[CARD]です'],
    ['card with dots', 'card 4111.1111.1111.1111 ok', 'card [CARD] ok'],
    ['card split over two lines', 'my card:\n4111 1111\n1111 1111\nthanks', 'my card:\n[CARD]\nthanks'],
    ['card over two lines with CRLF', '4111 1111 1111\r\n1111', '[CARD]'],
    ['card followed by its expiry on the next line', '4111 1111 1111 1111\n12/27', '[CARD]\n12/27'],
    ['card followed by a short number on the next line', '4111 1111 1111 1111\n123', '[CARD]\n123'],
    ['phone with 00 and a country code', 'ruf an: 0049 30 12345678.', 'ruf an: [PHONE].'],
    ['phone with 00, hyphens', '0033-1-23-45-67-89', '[PHONE]'],
    ['card with word joiners', '4111\u20601111\u20601111\u20601111', '[CARD]'],
    ['card with a word joiner between every digit', [...'4111111111111111'].join('\u2060'), '[CARD]'],
    ['card with soft hyphens', '4111\u00ad1111\u00ad1111\u00ad1111', '[CARD]'],
    ['phone with zero-width spaces', '+44 20\u200b7946 09\u200b58', '[PHONE]'],
    ['email with a zero-width space and a BOM', 'jo\u200bhn@exa\ufeffmple.com', '[EMAIL]'],
    ['SSN with a soft hyphen', '123-45-67\u00ad89', '[SSN]'],
    ['phone with no-break spaces', '+33\u00a06\u00a012\u00a034\u00a056\u00a078', '[PHONE]'],
    ['card with narrow no-break spaces', '4111\u202f1111\u202f1111\u202f1111', '[CARD]'],
    ['phone with en dashes', '415–555–2671', '[PHONE]'],
    ['SSN with Unicode hyphens', '123\u201045\u20106789', '[SSN]'],
    ['full-width SSN', '１２３－４５－６７８９', '[SSN]'],
    ['full-width IBAN', 'ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００', '[IBAN]'],
    ['IBAN glued to Japanese text', '口座DE89370400440532013000です', '口座[IBAN]です'],
    ['Arabic-Indic digits', 'رقمي +٢٠ ١٠ ١٢٣٤ ٥٦٧٨', 'رقمي [PHONE]'],
    ['Devanagari digits', 'फ़ोन +९१ ९८७६५ ४३२१०', 'फ़ोन [PHONE]'],
    ['mathematical digits', '𝟒𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏', '[CARD]'],
    ['national number with a long area code', 'Handy 0151 23456789', 'Handy [PHONE]'],
    ['national number, area code and hyphenated subscriber', 'llamame al 011 4123-4567', 'llamame al [PHONE]'],
    ['Brazilian number with the area code in parentheses', 'ligue (11) 91234-5678', 'ligue [PHONE]'],
    ['Chinese mobile number, grouped', '手机138 0013 8000', '手机[PHONE]'],
    ['Indian national number', '098765 43210', '[PHONE]'],
    ['full-width DNI', 'ＤＮＩ：１２３４５６７８Ｚ', 'ＤＮＩ：[NATIONAL_ID]'],
    ['full-width Chinese id', '身份证１１０１０５１９４９１２３１００２Ｘ', '身份证[NATIONAL_ID]'],
    ['full-width My Number with ideographic spaces', '番号１２３４\u3000５６７８\u3000９０１８です', '番号[NATIONAL_ID]です'],
    ['Saudi id in Arabic-Indic digits', 'الهوية ١٠٠٠٠٠٠٠٠٨', 'الهوية [NATIONAL_ID]'],
    ['Saudi mobile in Arabic-Indic digits, one run', 'جوال ٠٥٠١٢٣٤٥٦٧', 'جوال [PHONE]'],
    ['Emirates mobile in Arabic-Indic digits with a left-to-right mark', '\u200e٠٥٠ ١٢٣ ٤٥٦٧\u200e', '\u200e[PHONE]\u200e'],
    ['Chinese mobile in full-width digits, one run', '电话：１３８００１３８０００', '电话：[PHONE]'],
    ['Spanish mobile with no-break spaces', '612\u00a0345\u00a0678', '[PHONE]'],
    ['Emirates ID in Arabic-Indic digits with Unicode hyphens', '٧٨٤\u2010١٩٦٨\u2010٦٥٧٠٣٠٥\u2010٠', '[NATIONAL_ID]'],
    ['NINO with zero-width spaces', 'AB\u200b123456\u200bC', '[NATIONAL_ID]'],
    ['Steuer-ID with word joiners', '36\u2060574\u2060261\u2060809', '[NATIONAL_ID]'],
    ['NIR with no-break spaces', '2\u00a095\u00a010\u00a099\u00a0126\u00a0111\u00a093', '[NATIONAL_ID]'],
    ['NIE with a soft hyphen and an en dash', 'X\u20131234\u00ad567\u2013L', '[NATIONAL_ID]'],
  ])('%s', (_name, input, expected) => {
    expect(scrubPii(input).text).toBe(expected);
  });

  it('keeps invisible characters outside a match, and drops those inside it', () => {
    expect(scrubPii('a\u2060b \u20604111\u2060 1111 1111 1111\u2060.').text).toBe('a\u2060b \u2060[CARD]\u2060.');
  });
});

describe('scrubPii leaves alone, in any width', () => {
  it.each<[string, string]>([
    ['full-width date', '２０２４-０１-１５'],
    ['Japanese date', '２０２４年１月１５日 １２：３０'],
    ['full-width price', '￥１，２００ (１,２００円)'],
    ['full-width version', 'ｖ１．２．３'],
    ['order number glued to Japanese text', '注文番号１２３４５６７８'],
    ['Luhn-invalid dotted number', 'ref 4111.1111.1111.1112'],
    ['two numbers on two lines that only pass the Luhn check together', '41111111\n11111111'],
    ['a list of years', '2019\n2020\n2021\n2022'],
    ['00 with too few digits', 'code 0012 3456'],
    ['00 glued', 'id 00493012345678'],
    ['numbers with thousands separators', '1 234 567 €, 12 345 678 people'],
    ['soft hyphen in a word', 'co\u00adoperate 2024'],
    ['en-dash range', '1999–2004, pp. 120–135'],
  ])('%s', (_name, input) => {
    expect(scrubPii(input)).toEqual({ text: input, found: {} });
  });
});

describe('scrubPii on an international corpus', () => {
  const PREFIXES = ['', 'call ', 'Tel: ', 'phone:', '電話', 'номер ', '(', '> ', 'Nr. '];
  const SUFFIXES = ['', '.', ', thanks', ')', 'です', '!', '\n'];
  const DASHES = ['\u2010', '\u2011', '\u2012', '\u2013', '\u2212', '\uff0d'];
  const SPACES = ['\u00a0', '\u202f', '\u2007', '\u3000'];
  /** The same value in the forms people paste: full-width, other spaces and dashes, invisible characters. */
  const form = (value: string): fc.Arbitrary<{ form: string; text: string }> =>
    fc.oneof(
      fc.constant({ form: 'as written', text: value }),
      fc.constant({ form: 'full-width', text: fullWidth(value) }),
      fc.constantFrom(...SPACES).map((sp) => ({ form: `spaces ${sp.charCodeAt(0).toString(16)}`, text: value.replace(/ /g, sp) })),
      fc.constantFrom(...DASHES).map((d) => ({ form: `dashes ${d.charCodeAt(0).toString(16)}`, text: value.replace(/-/g, d) })),
      fc
        .tuple(fc.constantFrom(...INVISIBLE), fc.integer({ min: 1, max: 4 }))
        .map(([c, every]) => ({ form: `invisible ${c.charCodeAt(0).toString(16)}`, text: withInvisible(value, c, every) })),
    );
  const inContext = <T extends { text: string }>(values: fc.Arbitrary<T>) =>
    fc.tuple(values, fc.constantFrom(...PREFIXES), fc.constantFrom(...SUFFIXES)).chain(([value, prefix, suffix]) =>
      form(value.text).map(({ form: f, text }) => ({ ...value, form: f, prefix, suffix, input: `${prefix}${text}${suffix}` })),
    );
  const replaces = (kind: PiiKind) => (c: { prefix: string; suffix: string; input: string }) => {
    expect(scrubPii(c.input)).toEqual({ text: `${c.prefix}[${kind}]${c.suffix}`, found: { [kind]: 1 } });
  };

  it('replaces phone numbers of every region in +CC, 00CC and national form', () => {
    fc.assert(fc.property(inContext(phone), replaces('PHONE')), { numRuns: 3000 });
  });

  it('replaces Visa, Mastercard, Amex, JCB, UnionPay and Diners numbers however they are grouped', () => {
    fc.assert(fc.property(inContext(card), replaces('CARD')), { numRuns: 2000 });
  });

  it('replaces US SSNs', () => {
    fc.assert(fc.property(inContext(ssn.map((text) => ({ text }))), replaces('SSN')), { numRuns: 1000 });
  });

  it('replaces IBANs of many countries, grouped or compact', () => {
    fc.assert(fc.property(inContext(iban), replaces('IBAN')), { numRuns: 1000 });
  });

  it('replaces national ids of every locale served, check digits right', () => {
    fc.assert(fc.property(inContext(nationalId), replaces('NATIONAL_ID')), { numRuns: 3000 });
  });

  it('skips only passes that find nothing: every kind of the corpus, in every form and context', () => {
    const values = fc.oneof(
      phone,
      card,
      ssn.map((text) => ({ text })),
      iban,
      nationalId,
      nationalId.map(({ wrong }) => ({ text: wrong })),
      ordinary.map((text) => ({ text })),
    );
    fc.assert(
      fc.property(inContext(values), (c) => sameAsEveryPass(c.input)),
      { numRuns: 5000 },
    );
  });

  it('leaves the same ids with a wrong check digit or letter (or, for a NINO, prefix or suffix) alone', () => {
    fc.assert(
      fc.property(inContext(nationalId.map(({ format, wrong }) => ({ format, text: wrong }))), (c) => {
        expect(scrubPii(c.input).found.NATIONAL_ID).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves dates, times, prices, versions, IP addresses and short order numbers alone', () => {
    fc.assert(
      fc.property(inContext(ordinary.map((text) => ({ text }))), (c) => {
        expect(scrubPii(c.input)).toEqual({ text: c.input, found: {} });
      }),
      { numRuns: 3000 },
    );
  });
});

describe('scrubPii', () => {
  const mixed =
    'Hi, I am Jane (jane.doe@example.com, +1 415 555 2671). Card 4111 1111 1111 1111, ' +
    'SSN 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32; office 020 7946 0958, order #98765 of 2024-01-15.';

  it('scrubs every kind in one text and counts replacements per kind', () => {
    expect(scrubPii(mixed)).toEqual({
      text:
        'Hi, I am Jane ([EMAIL], [PHONE]). Card [CARD], SSN [SSN], IBAN [IBAN]; ' +
        'office [PHONE], order #98765 of 2024-01-15.',
      found: { EMAIL: 1, PHONE: 2, CARD: 1, SSN: 1, IBAN: 1 },
    });
  });

  it('counts repeats of one kind and omits kinds it did not find', () => {
    const { found } = scrubPii('a@example.com, b@example.org and c@example.net');
    expect(found).toEqual({ EMAIL: 3 });
    expect(Object.keys(found) as PiiKind[]).toEqual(['EMAIL']);
  });

  it('scrubs national ids next to the other kinds and counts them as one kind', () => {
    expect(scrubPii('DNI 12345678Z, NIR 2 95 10 99 126 111 93, SSN 123-45-6789, mail a@example.com')).toEqual({
      text: 'DNI [NATIONAL_ID], NIR [NATIONAL_ID], SSN [SSN], mail [EMAIL]',
      found: { NATIONAL_ID: 2, SSN: 1, EMAIL: 1 },
    });
  });

  it('leaves phone numbers and cards to their rules where an id has the same digits', () => {
    // A 0-led number in groups of four is a trunk phone number, whatever its My Number check says.
    expect(scrubPii('0123 4567 8903').found).toEqual({ PHONE: 1 });
    // Three groups of a card split over two lines are the card's, not a My Number; without a card they are one.
    expect(scrubPii('1234 5678 9018\n4444').text).toBe('[NATIONAL_ID]\n4444');
    expect(scrubPii('4111 1111 1111\n1111').text).toBe('[CARD]');
    expect(scrubPii('4111\n1111 1111 1111').text).toBe('[CARD]');
  });

  it('reports only kinds the ack frame accepts', () => {
    const { found } = scrubPii('NIE X1234567L, IdNr. 86 095 742 719, tel 415-555-2671');
    expect(found).toEqual({ NATIONAL_ID: 2, PHONE: 1 });
    expect(AckFrameSchema.parse({ type: 'ack', messageId: 'm', scrubbed: found }).scrubbed).toEqual(found);
  });

  it('lets a card win over the phone rule', () => {
    expect(scrubPii('+ 4111-1111-1111-1111').text).toBe('+ [CARD]');
    expect(scrubPii('5555 5555 5555 4444').found).toEqual({ CARD: 1 });
  });

  it('leaves unicode text around matches untouched', () => {
    expect(scrubPii('请联系john@example.com谢谢').text).toBe('请联系[EMAIL]谢谢');
    expect(scrubPii('Напишите на иван@example.ru 🙂 или 📞 +7 495 123-45-67').text).toBe(
      'Напишите на [EMAIL] 🙂 или 📞 [PHONE]',
    );
    expect(scrubPii('Grüße, Zoë — IBAN DE89370400440532013000 ✓').text).toBe('Grüße, Zoë — IBAN [IBAN] ✓');
  });

  it('is idempotent', () => {
    const inputs = [
      mixed,
      'x@y.co.x@y.co',
      '+44 02671(0123-45-6789',
      '4111 1111 1111 1111 (415) 555-2671',
      'GB82WEST12345698765432-415-555-2671',
      '12345678Z 784-1968-6570305-0 AB 12 34 56 C',
      '1234 5678 9018\n11010519491231002X',
      // An id led by a letter after an id or an address and a hyphen: the placeholder stands for a word.
      '12345678Z–X1234567L',
      'jo@example.com-X1234567L',
    ];
    for (const input of inputs) {
      const once = scrubPii(input).text;
      expect(scrubPii(once).text).toBe(once);
    }
  });

  const pieces = [
    ...'0123456789 .-+()@[]#_aZé\n'.split(''),
    ...['4111', '1111', '3704', 'DE89', 'GB82', '415', '555', '2671', '020', '123-45-6789', '+44 ', '(0)'],
    ...['x@y.co', 'john@example.com', '378282246310005', '[CARD]', '[PHONE]', '请', 'ж'],
    ...['４', '１', '０', '＋', '＠', '－', '．', '\u3000', '\u00a0', '\u2060', '\u00ad', '\u200b', '\r\n', '–', '٣', '½', '①', 'ﬁ'],
    ...['0049 ', '090-', '(11) ', '138 ', '4111\n', '4111.', 'です', 'Ｘ'],
    ...['12345678Z', 'X1234567L', 'AB 12 34 56 C', '784-1968-', '2A', '1000000008', '1234 5678 9018', '[NATIONAL_ID]'],
  ];
  const texty = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((parts) => parts.join(''));

  it('never throws, never adds digits and is idempotent on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), texty), (input) => {
        const once = scrubPii(input).text;
        expect(digitCount(once)).toBeLessThanOrEqual(digitCount(input));
        expect(scrubPii(once).text).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['+354 4212', 'PHONE'],
    ['0049 3090 18', 'PHONE'],
    ['4222222222222', 'CARD'],
    ['123-45-6789', 'SSN'],
    ['AB 12 34 56 C', 'NATIONAL_ID'],
    ['X1234567L', 'NATIONAL_ID'],
    ['2 53 07 2A 073 004 43', 'NATIONAL_ID'],
    ['415-555-2671', 'PHONE'],
    ['(11) 91234-5678', 'PHONE'],
    ['138 0013 8000', 'PHONE'],
    ['612 345 678', 'PHONE'],
    ['0612345678', 'PHONE'],
    ['04 123 4567', 'PHONE'],
    ['1234 5678 9018', 'NATIONAL_ID'],
    ['NL91ABNA0417164300', 'IBAN'],
  ])('does not skip the pass for the shortest of a kind: %s', (value, kind) => {
    const input = `see ${value} here`;
    expect(scrubPii(input).found).toEqual({ [kind]: 1 });
    sameAsEveryPass(input);
  });

  it('skips only passes that find nothing: arbitrary text and several values in one message', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), texty), sameAsEveryPass), { numRuns: 3000 });
    const several = fc
      .array(fc.oneof(phone, card, iban, nationalId, ordinary.map((text) => ({ text })), fc.constant({ text: 'a.b@example.org' })), { minLength: 2, maxLength: 4 })
      .chain((parts) => fc.array(fc.constantFrom(' ', ', ', ' and ', '\n', ' – ', ': '), { minLength: parts.length, maxLength: parts.length }).map((seps) => parts.map((p, i) => p.text + seps[i]).join('')));
    fc.assert(fc.property(several, sameAsEveryPass), { numRuns: 2000 });
  });

  it('scrubs 100 KB of digits and separators and still finds what is embedded in it', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = '0123456789 .-()+\n４１\u2060\u3000';
    const noise = Array.from({ length: 50_000 }, () => alphabet.charAt(Math.floor(next() * alphabet.length))).join('');
    const input = `${noise} card 4111 1111 1111 1111 or a@example.com then ${noise}`;
    const { text } = scrubPii(input);
    expect(text).toContain(' card [CARD] or [EMAIL] then ');
    expect(digitCount(text)).toBeLessThanOrEqual(digitCount(input));
  });
});
