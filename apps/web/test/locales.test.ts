// The languages: which one the page picks, and catalogs that say the same things as English (every
// message, each compiling as ICU MessageFormat with English's placeholders and the plural forms its
// language has).
import { describe, expect, it } from '@jest/globals';
import { compileMessage } from '@lingui/message-utils/compileMessage';
import { readFileSync } from 'node:fs';
import { DEFAULT_LOCALE, LOCALES, catalogFor, directionOf, pickLocale } from '../src/locales.js';

const catalog = (tag: string): Record<string, string> => JSON.parse(readFileSync(new URL(`../src/locales/${tag}.json`, import.meta.url), 'utf8')) as Record<string, string>;

/** The placeholders a compiled message uses, and the plural categories of each plural in it. */
function shape(compiled: unknown, out = { names: new Set<string>(), plurals: [] as string[][] }) {
  if (!Array.isArray(compiled)) return out;
  for (const part of compiled) {
    if (!Array.isArray(part)) continue;
    const [name, type, options] = part as [string, string?, Record<string, unknown>?];
    out.names.add(name);
    if (type === 'plural' && options !== undefined) out.plurals.push(Object.keys(options).filter((k) => k !== 'offset').sort());
    for (const branch of Object.values(options ?? {})) shape(branch, out);
  }
  return out;
}

describe('locales', () => {
  it('picks the saved choice, else the first browser language with a catalog, else English', () => {
    expect(pickLocale(null, ['fr-CA', 'en'])).toBe('fr');
    expect(pickLocale('ar', ['fr-CA'])).toBe('ar');
    expect(pickLocale('tlh', ['pt-BR', 'de-AT'])).toBe('de');
    expect(pickLocale(undefined, ['zh-TW', 'zh-Hant', 'ja-JP'])).toBe('ja');
    expect(pickLocale(undefined, ['zh', 'en'])).toBe('zh-CN');
    expect(pickLocale(undefined, ['ZH-hans-SG'])).toBe('zh-CN');
    expect(pickLocale(undefined, ['pt-BR', 'ko'])).toBe(DEFAULT_LOCALE);
    expect(catalogFor('ES-419')).toBe('es');
    expect(LOCALES.map((l) => directionOf(l.tag))).toEqual(['ltr', 'ltr', 'ltr', 'ltr', 'ltr', 'ltr', 'rtl']);
  });

  it('has every message in every catalog, compiling, with English placeholders and its language plural forms', () => {
    const english = catalog('en');
    for (const { tag } of LOCALES) {
      const messages = catalog(tag);
      expect([tag, Object.keys(messages).sort()]).toEqual([tag, Object.keys(english).sort()]);
      const categories = new Intl.PluralRules(tag).resolvedOptions().pluralCategories;
      for (const [id, message] of Object.entries(messages)) {
        const mine = shape(compileMessage(message));
        const theirs = shape(compileMessage(english[id]!));
        expect([tag, id, [...mine.names].sort()]).toEqual([tag, id, [...theirs.names].sort()]);
        // Each plural has exactly the categories its language tells apart (e.g. six in Arabic, one in Japanese).
        for (const forms of mine.plurals) expect([tag, id, forms]).toEqual([tag, id, [...categories].sort()]);
      }
    }
  });
});
