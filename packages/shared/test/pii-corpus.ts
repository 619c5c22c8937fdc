// Generators of personal data as people write it in many countries, and of the ordinary numbers
// next to it that must survive: the corpus the scrubber's property tests draw from.
import fc from 'fast-check';

const digits = (n: number, first = '0123456789'): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...first.split('')), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n - 1, maxLength: n - 1 }))
    .map(([head, tail]) => head + tail.join(''));

/** Each entry: a region and the forms its numbers take, +CC, 00CC and the national (trunk) form. */
const PHONES: Record<string, fc.Arbitrary<string>> = {
  US: fc
    .tuple(digits(3, '23456789'), digits(3, '23456789'), digits(4))
    .chain(([a, b, c]) =>
      fc.constantFrom(`+1 ${a} ${b} ${c}`, `+1-${a}-${b}-${c}`, `+1 (${a}) ${b}-${c}`, `001 ${a} ${b} ${c}`, `(${a}) ${b}-${c}`, `${a}-${b}-${c}`, `${a}.${b}.${c}`, `1-${a}-${b}-${c}`),
    ),
  UK: fc
    .tuple(digits(4), digits(4), digits(3), digits(6))
    .chain(([a, b, m, n]) =>
      fc.constantFrom(`+44 20 ${a} ${b}`, `+44 (0)20 ${a} ${b}`, `0044 20 ${a} ${b}`, `020 ${a} ${b}`, `07${m} ${n}`, `+44 7${m} ${n}`),
    ),
  FR: fc
    .tuple(digits(1, '123456789'), fc.array(digits(2), { minLength: 4, maxLength: 4 }), digits(1, '67'))
    .chain(([d, p, m]) =>
      fc.constantFrom(`+33 ${d} ${p.join(' ')}`, `0033 ${d} ${p.join(' ')}`, `0${d} ${p.join(' ')}`, `0${d}.${p.join('.')}`, `0${m}${p.join('')}`),
    ),
  DE: fc
    .tuple(digits(8), digits(7), digits(1, '567'))
    .chain(([n, m, k]) =>
      fc.constantFrom(
        `+49 30 ${n}`,
        `+49 (0)30 ${n}`,
        `0049 30 ${n}`,
        `030 ${n}`,
        `030 ${n.slice(0, 4)} ${n.slice(4)}`,
        `0151 ${n}`,
        `+49 151 ${n}`,
        `0171 ${m}`,
        `030/${n}`,
        `0151/${n}`,
        `01${k}1${n}`,
        `01${k}0${m}`,
      ),
    ),
  // Spanish numbers have no trunk 0: mobiles from 6 (and 7), landlines from 9 (and 8).
  ES: fc
    .tuple(digits(2), digits(3), digits(3), digits(2, '123456789'), digits(1, '67'))
    .chain(([a, b, c, l, m]) =>
      fc.constantFrom(
        `+34 6${a} ${b} ${c}`,
        `0034 6${a} ${b} ${c}`,
        `+34 9${l} ${b.slice(0, 2)} ${c.slice(0, 2)} ${a}`,
        `${m}${a} ${b} ${c}`,
        `${m}${a} ${b.slice(0, 2)} ${c.slice(0, 2)} ${b.slice(2)}${c.slice(2)}`,
        `9${l} ${b} ${c}`,
        `9${l.slice(0, 1)} ${b} ${c.slice(0, 2)} ${a}`,
        `${m}${a}-${b}-${c}`,
      ),
    ),
  JP: fc
    .tuple(digits(4), digits(4), digits(1, '789'))
    .chain(([a, b, m]) =>
      fc.constantFrom(`+81 90-${a}-${b}`, `+81 (0)90-${a}-${b}`, `0081 90 ${a} ${b}`, `090-${a}-${b}`, `080 ${a} ${b}`, `03-${a}-${b}`, `0${m}0${a}${b}`),
    ),
  CN: fc
    .tuple(digits(1, '3456789'), digits(1), digits(4), digits(4))
    .chain(([p, q, a, b]) =>
      fc.constantFrom(
        `+86 1${p}${q} ${a} ${b}`,
        `0086 1${p}${q} ${a} ${b}`,
        `1${p}${q} ${a} ${b}`,
        `1${p}${q}-${a}-${b}`,
        `010-${a}-${b}`,
        `021 ${a} ${b}`,
        `1${p}${q}${a}${b}`,
      ),
    )
    // Eleven digits from 1 that pass the Steuer-ID check are scrubbed as [NATIONAL_ID], about 1 in 250.
    .filter((text) => !isSteuerId(text)),
  IN: fc
    .tuple(digits(5, '6789'), digits(5), digits(4), digits(4))
    .chain(([a, b, c, d]) => fc.constantFrom(`+91 ${a} ${b}`, `+91-${a}-${b}`, `0091 ${a} ${b}`, `0${a} ${b}`, `011 ${c} ${d}`, `011-${c}-${d}`)),
  BR: fc
    .tuple(digits(4), digits(4))
    .chain(([a, b]) => fc.constantFrom(`+55 11 9${a}-${b}`, `+55 (11) 9${a}-${b}`, `0055 11 9${a} ${b}`, `(11) 9${a}-${b}`, `(21) 9${a} ${b}`, `(011) 9${a}-${b}`)),
  // Saudi Arabia: mobiles 05x, landlines with a two-digit area code (011 Riyadh).
  SA: fc
    .tuple(digits(1), digits(3), digits(4))
    .chain(([x, a, b]) =>
      fc.constantFrom(`05${x} ${a} ${b}`, `05${x}${a}${b}`, `05${x}-${a}-${b}`, `+966 5${x} ${a} ${b}`, `+9665${x}${a}${b}`, `00966 5${x} ${a} ${b}`, `011 ${a} ${b}`, `+966 11 ${a} ${b}`),
    ),
  // The Emirates: mobiles 05x, landlines with a one-digit area code (04 Dubai): nine digits with the 0.
  AE: fc
    .tuple(digits(1, '024568'), digits(3), digits(4), digits(1, '234679'))
    .chain(([x, a, b, area]) =>
      fc.constantFrom(`05${x} ${a} ${b}`, `05${x}-${a}${b}`, `05${x}${a}${b}`, `+971 5${x} ${a} ${b}`, `0${area} ${a} ${b}`, `0${area}-${a}${b}`, `+971 ${area} ${a} ${b}`),
    ),
  // Egypt: mobiles 010, 011, 012, 015.
  EG: fc
    .tuple(digits(1, '0125'), digits(4), digits(4))
    .chain(([x, a, b]) => fc.constantFrom(`01${x}${a}${b}`, `01${x} ${a} ${b}`, `+20 1${x} ${a} ${b}`, `0020 1${x} ${a} ${b}`)),
  AR: fc
    .tuple(digits(4), digits(4))
    .chain(([a, b]) => fc.constantFrom(`+54 9 11 ${a}-${b}`, `+54 11 ${a}-${b}`, `0054 9 11 ${a} ${b}`, `(011) ${a}-${b}`, `011 ${a}-${b}`, `0351 ${a.slice(1)}-${b}`)),
};

export const phone = fc.constantFrom(...Object.keys(PHONES)).chain((region) => PHONES[region]!.map((text) => ({ region, text })));

function luhnComplete(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = body.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** Issuer prefixes and lengths; groups as printed on the card. */
const NETWORKS = [
  { network: 'Visa', prefixes: ['4'], length: 16, groups: [4, 4, 4, 4] },
  { network: 'Visa 19', prefixes: ['4'], length: 19, groups: [4, 4, 4, 4, 3] },
  { network: 'Mastercard', prefixes: ['51', '52', '53', '54', '55', '2221', '2720'], length: 16, groups: [4, 4, 4, 4] },
  { network: 'Amex', prefixes: ['34', '37'], length: 15, groups: [4, 6, 5] },
  { network: 'JCB', prefixes: ['3528', '3589'], length: 16, groups: [4, 4, 4, 4] },
  { network: 'UnionPay', prefixes: ['62'], length: 16, groups: [4, 4, 4, 4] },
  { network: 'UnionPay 19', prefixes: ['62'], length: 19, groups: [4, 4, 4, 4, 3] },
  { network: 'Diners', prefixes: ['36'], length: 14, groups: [4, 6, 4] },
] as const;

export const card = fc
  .constantFrom(...NETWORKS)
  .chain(({ network, prefixes, length, groups }) =>
    fc
      .tuple(fc.constantFrom(...prefixes), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }), fc.constantFrom(' ', '-', '.', '', 'line break'), fc.nat())
      .map(([prefix, fill, separator, at]) => {
        const number = luhnComplete((prefix + fill.join('')).slice(0, length - 1));
        const parts: string[] = [];
        let i = 0;
        for (const g of groups) parts.push(number.slice(i, (i += g)));
        if (separator !== 'line break') return { network, text: parts.join(separator) };
        // Split over two lines at a group boundary, spaces elsewhere.
        const cut = 1 + (at % (parts.length - 1));
        return { network, text: `${parts.slice(0, cut).join(' ')}\n${parts.slice(cut).join(' ')}` };
      }),
  );

export const ssn = fc
  .tuple(fc.integer({ min: 1, max: 899 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }), fc.constantFrom('-', ' '))
  .filter(([area]) => area !== 666)
  .map(([area, group, serial, sep]) => [String(area).padStart(3, '0'), String(group).padStart(2, '0'), String(serial).padStart(4, '0')].join(sep));

/** BBAN layouts (n digits, a upper-case letters, c alphanumerics), from the SWIFT IBAN registry. */
const IBAN_LAYOUTS: Record<string, Array<[number, 'n' | 'a' | 'c']>> = {
  DE: [[18, 'n']],
  GB: [[4, 'a'], [14, 'n']],
  FR: [[10, 'n'], [11, 'c'], [2, 'n']],
  ES: [[20, 'n']],
  IT: [[1, 'a'], [10, 'n'], [12, 'c']],
  NL: [[4, 'a'], [10, 'n']],
  BE: [[12, 'n']],
  CH: [[5, 'n'], [12, 'c']],
  PL: [[24, 'n']],
  BR: [[23, 'n'], [1, 'a'], [1, 'c']],
  SA: [[2, 'n'], [18, 'c']],
};

const CHARSETS = { n: '0123456789', a: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', c: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ' };

function ibanCheck(country: string, bban: string): string {
  let rem = 0;
  for (const ch of `${bban}${country}00`) {
    const code = ch.charCodeAt(0);
    rem = code <= 57 ? (rem * 10 + code - 48) % 97 : (rem * 100 + code - 55) % 97;
  }
  return String(98 - rem).padStart(2, '0');
}

export const iban = fc.constantFrom(...Object.keys(IBAN_LAYOUTS)).chain((country) =>
  fc
    .tuple(
      fc.tuple(
        ...IBAN_LAYOUTS[country]!.map(([n, kind]) =>
          fc.array(fc.constantFrom(...CHARSETS[kind].split('')), { minLength: n, maxLength: n }).map((cs) => cs.join('')),
        ),
      ),
      fc.boolean(),
    )
    .map(([parts, grouped]) => {
      const bban = parts.join('');
      const compact = country + ibanCheck(country, bban) + bban;
      return { country, text: grouped ? compact.replace(/(.{4})(?!$)/g, '$1 ') : compact };
    }),
);

const pick = (chars: string): fc.Arbitrary<string> => fc.constantFrom(...chars.split(''));
/** A character of `chars` other than `right`: a wrong check letter or digit. */
const otherThan = (chars: string, right: string, at: number): string => {
  const rest = chars.replace(right, '');
  return rest.charAt(at % rest.length);
};

function mod(digits: string, m: number): number {
  let rem = 0;
  for (const d of digits) rem = (rem * 10 + d.charCodeAt(0) - 48) % m;
  return rem;
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A value as written and the same form with its check (or, for a NINO, its prefix or suffix) wrong. */
interface IdCase {
  format: string;
  text: string;
  wrong: string;
}

const nino: fc.Arbitrary<IdCase> = fc
  .tuple(pick('ABCEGHJKLMNOPRSTWXYZ'), pick('ABCEGHJKLMNPRSTWXYZ'), digits(6), pick('ABCD'), fc.constantFrom('compact', 'pairs', 'block'), fc.nat())
  .filter(([a, b]) => !['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(a + b))
  .map(([a, b, d, suffix, layout, n]) => {
    const write = (prefix: string, s: string): string =>
      layout === 'compact' ? `${prefix}${d}${s}` : layout === 'pairs' ? `${prefix} ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4)} ${s}` : `${prefix} ${d} ${s}`;
    const wrong = n % 2 === 0 ? write(['QQ', 'GB', 'ZZ', 'DA', 'AO'][n % 5]!, suffix) : write(a + b, 'EFGHJKMNPRSTWXYZ'.charAt(n % 16));
    return { format: 'UK NINO', text: write(a + b, suffix), wrong };
  });

const dni: fc.Arbitrary<IdCase> = fc.tuple(digits(8), fc.constantFrom('', '-', ' ', 'dots'), fc.boolean(), fc.nat()).map(([d, sep, lower, n]) => {
  const right = DNI_LETTERS.charAt(mod(d, 23));
  const body = sep === 'dots' ? `${d.slice(0, 2)}.${d.slice(2, 5)}.${d.slice(5)}-` : d + sep;
  // A lower-case check letter only glued or after a hyphen: after a space it reads as a word.
  const letter = (l: string): string => (lower && sep !== ' ' ? l.toLowerCase() : l);
  return { format: 'ES DNI', text: body + letter(right), wrong: body + letter(otherThan(UPPER, right, n)) };
});

const nie: fc.Arbitrary<IdCase> = fc.tuple(fc.nat(2), digits(7), fc.constantFrom('', '-', ' '), fc.nat()).map(([x, d, sep, n]) => {
  const right = DNI_LETTERS.charAt(mod(`${x}${d}`, 23));
  const body = `${'XYZ'.charAt(x)}${sep}${d}${sep}`;
  return { format: 'ES NIE', text: body + right, wrong: body + otherThan(UPPER, right, n) };
});

const nir: fc.Arbitrary<IdCase> = fc
  .tuple(pick('12'), digits(2), fc.integer({ min: 1, max: 12 }), fc.oneof(fc.integer({ min: 1, max: 95 }).map((n) => String(n).padStart(2, '0')), fc.constantFrom('2A', '2B', '99')), digits(6), fc.constantFrom('compact', 'spaced', 'key apart'), fc.nat(95))
  .map(([sex, year, month, dept, place, layout, n]) => {
    const body = `${sex}${year}${String(month).padStart(2, '0')}${dept}${place}`;
    // Corsica: 2A counts as 19 and 2B as 18 in the key.
    const numeric = body.slice(0, 5) + (dept === '2A' ? '19' : dept === '2B' ? '18' : dept) + place;
    const right = 97 - mod(numeric, 97);
    const write = (k: number): string => {
      const kk = String(k).padStart(2, '0');
      if (layout === 'compact') return body + kk;
      if (layout === 'key apart') return `${body} ${kk}`;
      return [body.slice(0, 1), body.slice(1, 3), body.slice(3, 5), body.slice(5, 7), body.slice(7, 10), body.slice(10), kk].join(' ');
    };
    // n < 96, so any key from 1 to 97 but the right one.
    return { format: 'FR NIR', text: write(right), wrong: write(1 + ((right + n) % 97)) };
  });

function mod11_10(body: string): number {
  let product = 10;
  for (const d of body) {
    const sum = (d.charCodeAt(0) - 48 + product) % 10 || 10;
    product = (sum * 2) % 11;
  }
  return (11 - product) % 10;
}

// Ten digits, not starting with 0, in which exactly one digit occurs two or three times.
const steuerBody = fc
  .tuple(fc.shuffledSubarray([...'0123456789'], { minLength: 8, maxLength: 9 }))
  .chain(([distinct]) => {
    const all = [...distinct, ...Array<string>(10 - distinct.length).fill(distinct[0]!)];
    return fc.shuffledSubarray(all, { minLength: 10, maxLength: 10 });
  })
  .map((d) => d.join(''))
  .filter((d) => d[0] !== '0');

function isSteuerId(text: string): boolean {
  if (!/^[1-9]\d{10}$/.test(text)) return false;
  const counts = [...text.slice(0, 10)].reduce((n, d) => n.set(d, (n.get(d) ?? 0) + 1), new Map<string, number>());
  const repeated = [...counts.values()].filter((n) => n > 1);
  return repeated.length === 1 && repeated[0]! <= 3 && mod11_10(text.slice(0, 10)) === Number(text.charAt(10));
}

const steuerId: fc.Arbitrary<IdCase> = fc.tuple(steuerBody, fc.boolean(), fc.integer({ min: 1, max: 9 })).map(([body, spaced, n]) => {
  const right = mod11_10(body);
  const write = (c: number): string => {
    const id = `${body}${c}`;
    return spaced ? `${id.slice(0, 2)} ${id.slice(2, 5)} ${id.slice(5, 8)} ${id.slice(8)}` : id;
  };
  return { format: 'DE Steuer-ID', text: write(right), wrong: write((right + n) % 10) };
});

const CN_PROVINCES = ['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65'];
const DAY = 86_400_000;

const cnId: fc.Arbitrary<IdCase> = fc
  .tuple(fc.constantFrom(...CN_PROVINCES), digits(4), fc.integer({ min: 0, max: 36_500 }), digits(3), fc.constantFrom('compact', 'spaced', 'lower'), fc.integer({ min: 1, max: 10 }))
  .map(([province, county, days, order, layout, n]) => {
    const birth = new Date(Date.UTC(1920, 0, 1) + days * DAY).toISOString().slice(0, 10).replace(/-/g, '');
    const body = `${province}${county}${birth}${order}`;
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += (body.charCodeAt(i) - 48) * (2 ** (17 - i) % 11);
    const right = (12 - (sum % 11)) % 11;
    const write = (c: number): string => {
      const check = c === 10 ? (layout === 'lower' ? 'x' : 'X') : String(c);
      return layout === 'spaced' ? `${body.slice(0, 6)} ${body.slice(6, 14)} ${body.slice(14)}${check}` : body + check;
    };
    return { format: 'CN resident id', text: write(right), wrong: write((right + n) % 11) };
  });

function myNumberCheck(body: string): number {
  let sum = 0;
  for (let n = 1; n <= 11; n++) sum += (body.charCodeAt(11 - n) - 48) * (n <= 6 ? n + 1 : n - 5);
  const r = sum % 11;
  return r <= 1 ? 0 : 11 - r;
}

// Leading digit 1-9: a 0-led number in groups of four is a trunk phone number to the phone rule.
const myNumber: fc.Arbitrary<IdCase> = fc.tuple(digits(11, '123456789'), fc.constantFrom('', ' ', '-'), fc.integer({ min: 1, max: 9 })).map(([body, sep, n]) => {
  const right = myNumberCheck(body);
  const write = (c: number): string => {
    const id = `${body}${c}`;
    return [id.slice(0, 4), id.slice(4, 8), id.slice(8)].join(sep);
  };
  return { format: 'JP My Number', text: write(right), wrong: write((right + n) % 10) };
});

const luhnWrong = (valid: string, n: number): string => valid.slice(0, -1) + String((Number(valid.slice(-1)) + n) % 10);

const saudiId: fc.Arbitrary<IdCase> = fc.tuple(pick('12'), digits(8), fc.integer({ min: 1, max: 9 })).map(([first, body, n]) => {
  const id = luhnComplete(first + body);
  return { format: 'SA national id / iqama', text: id, wrong: luhnWrong(id, n) };
});

const emiratesId: fc.Arbitrary<IdCase> = fc
  .tuple(fc.integer({ min: 1930, max: 2024 }), digits(7), fc.constantFrom('-', ' ', ''), fc.integer({ min: 1, max: 9 }))
  .map(([year, body, sep, n]) => {
    const write = (id: string): string => [id.slice(0, 3), id.slice(3, 7), id.slice(7, 14), id.slice(14)].join(sep);
    const id = luhnComplete(`784${year}${body}`);
    return { format: 'AE Emirates ID', text: write(id), wrong: write(luhnWrong(id, n)) };
  });

/** National ids of the locales the product serves, with their check digits right (and a wrong twin). */
export const nationalId: fc.Arbitrary<IdCase> = fc.oneof(nino, dni, nie, nir, steuerId, cnId, myNumber, saudiId, emiratesId);

/** Numbers people write that are not personal data. */
export const ordinary = fc.oneof(
  fc.tuple(fc.integer({ min: 1900, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).chain(([y, m, d]) => {
    const mm = String(m).padStart(2, '0');
    const dd = String(d).padStart(2, '0');
    return fc.constantFrom(`${y}-${mm}-${dd}`, `${dd}.${mm}.${y}`, `${mm}/${dd}/${y}`, `${y}/${mm}/${dd}`, `${y}年${m}月${d}日`, `${dd}.${mm}.${y} 09:30`, `${y}-${mm}-${dd} 12:30:05`, `${y}-${mm}-${dd}T12:30:00Z`);
  }),
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${h}:${String(m).padStart(2, '0')}`),
  fc.tuple(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 99 })).chain(([a, b, c]) => {
    const k = String(b).padStart(3, '0');
    const cents = String(c).padStart(2, '0');
    return fc.constantFrom(`$${a},${k}.${cents}`, `€${a}.${k},${cents}`, `${a} ${k},${cents} €`, `¥${a},${k}`, `${a},${k}円`, `£${a}.${cents}`, `${a}.${cents} USD`);
  }),
  fc.tuple(fc.nat(30), fc.nat(99), fc.nat(999)).chain(([a, b, c]) => fc.constantFrom(`v${a}.${b}.${c}`, `${a}.${b}.${c}-beta.${a}`, `node@${a}.${b}.${c}`, `${a}.${b}`)),
  fc.integer({ min: 1, max: 99_999_999 }).chain((n) => fc.constantFrom(`#${n}`, `order ${n}`, `ORD-2024-${String(n).padStart(8, '0')}`, `${n} items`, `注文番号${n}`)),
  fc.tuple(fc.integer({ min: 1900, max: 2099 }), fc.integer({ min: 1, max: 30 })).map(([y, n]) => `${y}-${y + n}`),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((ip) => ip.join('.')),
);

/** Full-width forms, as typed with a Japanese or Chinese input method. */
export function fullWidth(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).replace(/ /g, '\u3000');
}

/** Invisible format characters (Unicode Cf) slipped between digits. */
export const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff'] as const;

export function withInvisible(text: string, char: string, every: number): string {
  let n = 0;
  return text.replace(/\d(?=.*\d)/gs, (d) => (++n % every === 0 ? d + char : d));
}
