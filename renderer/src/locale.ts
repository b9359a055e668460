// Chromium started under LANG=C / POSIX reports navigator.language as "en-US@posix", which Intl refuses ("Invalid
// language tag"); libraries that format with Intl at load time (uPlot) would crash the page. Shadow it with a tag Intl
// takes: the part before '@', else en-US. Imported first by main.tsx.
export function usableLanguage(tag: string | undefined): string {
  for (const t of [tag, tag?.split('@')[0]]) {
    if (!t) continue;
    try {
      new Intl.NumberFormat(t);
      return t;
    } catch {
      // not a tag Intl takes
    }
  }
  return 'en-US';
}

if (typeof navigator !== 'undefined') {
  const lang = usableLanguage(navigator.language);
  if (lang !== navigator.language) {
    Object.defineProperty(navigator, 'language', { value: lang, configurable: true });
    Object.defineProperty(navigator, 'languages', { value: [lang], configurable: true });
  }
}
