// The page's words in the reader's language. Lingui's runtime (@lingui/core, about 2.6 kB gzipped)
// formats ICU MessageFormat messages (plurals through Intl.PluralRules) and dates and numbers through
// Intl; the catalogs are JSON per language, compiled by the build (vite.config.ts) so no message
// parser ships. English is in the main chunk; each other catalog is its own chunk, loaded when chosen.
import { setupI18n } from '@lingui/core';
import { useEffect, useState } from 'preact/hooks';
import en from './locales/en.json' with { type: 'json' };
import { DEFAULT_LOCALE, directionOf, pickLocale, type LocaleTag } from './locales.js';

export type MessageId = keyof typeof en;
type Values = Record<string, string | number>;

// Typed as the JSON they are written in (compiled at build): a catalog missing a message fails the typecheck.
const CATALOGS: Record<Exclude<LocaleTag, 'en'>, () => Promise<{ default: Record<MessageId, string> }>> = {
  es: () => import('./locales/es.json', { with: { type: 'json' } }),
  fr: () => import('./locales/fr.json', { with: { type: 'json' } }),
  de: () => import('./locales/de.json', { with: { type: 'json' } }),
  ja: () => import('./locales/ja.json', { with: { type: 'json' } }),
  'zh-CN': () => import('./locales/zh-CN.json', { with: { type: 'json' } }),
  ar: () => import('./locales/ar.json', { with: { type: 'json' } }),
};

const CHOICE_KEY = 'chat-fleet:locale';

const i18n = setupI18n({ locale: DEFAULT_LOCALE, messages: { [DEFAULT_LOCALE]: en } });

export function t(id: MessageId, values?: Values): string {
  return i18n._(id, values);
}

/** The language shown now. */
export function currentLocale(): LocaleTag {
  return i18n.locale as LocaleTag;
}

export function formatDate(value: Date | string, format: Intl.DateTimeFormatOptions): string {
  return i18n.date(value, format);
}

export function formatNumber(value: number, format?: Intl.NumberFormatOptions): string {
  return i18n.number(value, format);
}

export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(i18n.locale, { style: 'long', type: 'conjunction' }).format(items);
}

/** The language to start in: the reader's saved choice, else the browser's. */
export function initialLocale(): LocaleTag {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(CHOICE_KEY);
  } catch {
    // storage disabled: the browser's language it is
  }
  return pickLocale(saved, navigator.languages);
}

/**
 * Shows the page in `tag`: loads its catalog (once), then switches every message and `<html lang dir>`.
 * `remember`: the reader chose it with the switch, so it outlives a reload.
 */
export async function setLocale(tag: LocaleTag, remember = false): Promise<void> {
  if (tag !== 'en' && i18n.messages[tag] === undefined) {
    // A catalog that did not load leaves the page as it was, in the language it showed.
    const catalog = await CATALOGS[tag]();
    i18n.load(tag, catalog.default);
  }
  i18n.activate(tag);
  document.documentElement.lang = tag;
  document.documentElement.dir = directionOf(tag);
  if (remember) {
    try {
      localStorage.setItem(CHOICE_KEY, tag);
    } catch {
      // as above
    }
  }
}

/** Re-renders the component (and so its children) when the language changes; returns it. */
export function useLocale(): LocaleTag {
  const [locale, setLocaleState] = useState(currentLocale());
  useEffect(() => i18n.on('change', () => setLocaleState(currentLocale())), []);
  return locale;
}
