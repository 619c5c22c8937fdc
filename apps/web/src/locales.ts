// The languages the page speaks and how one is picked: the reader's own choice (the switch), else
// the first of the browser's languages that has a catalog (a region or script falls back to its
// language, Chinese only to Simplified), else English.

export const LOCALES = [
  { tag: 'en', name: 'English', dir: 'ltr' },
  { tag: 'es', name: 'Español', dir: 'ltr' },
  { tag: 'fr', name: 'Français', dir: 'ltr' },
  { tag: 'de', name: 'Deutsch', dir: 'ltr' },
  { tag: 'ja', name: '日本語', dir: 'ltr' },
  { tag: 'zh-CN', name: '简体中文', dir: 'ltr' },
  { tag: 'ar', name: 'العربية', dir: 'rtl' },
] as const;

export type LocaleTag = (typeof LOCALES)[number]['tag'];

export const DEFAULT_LOCALE: LocaleTag = 'en';

/** Traditional Chinese (by script or region) is not Simplified: no catalog for it. */
const TRADITIONAL_CHINESE = /^zh-(hant|tw|hk|mo)\b/i;

/** The catalog for one BCP 47 tag, if there is one. */
export function catalogFor(tag: string): LocaleTag | undefined {
  const exact = LOCALES.find((l) => l.tag.toLowerCase() === tag.toLowerCase());
  if (exact !== undefined) return exact.tag;
  const language = tag.split('-')[0]!.toLowerCase();
  if (language === 'zh') return TRADITIONAL_CHINESE.test(tag) ? undefined : 'zh-CN';
  return LOCALES.find((l) => l.tag === language)?.tag;
}

/** The language to show: the saved choice when it has a catalog, else the browser's first that has one. */
export function pickLocale(saved: string | null | undefined, preferred: readonly string[]): LocaleTag {
  const chosen = saved == null ? undefined : catalogFor(saved);
  if (chosen !== undefined) return chosen;
  for (const tag of preferred) {
    const found = catalogFor(tag);
    if (found !== undefined) return found;
  }
  return DEFAULT_LOCALE;
}

export function directionOf(tag: LocaleTag): 'ltr' | 'rtl' {
  return LOCALES.find((l) => l.tag === tag)!.dir;
}
