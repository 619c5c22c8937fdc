// Code highlighting, loaded only when a reply holds a fenced code block that names its language:
// highlight.js's core with the common languages is a chunk of its own (code-highlighter.ts), so
// the first load never carries it.
import { useEffect, useState } from 'preact/hooks';

/** Colours code: HTML of `<span class="hljs-…">` around the code's escaped text, or undefined for a language it does not know. */
export interface Highlighter {
  highlight(code: string, language: string): string | undefined;
}

let loading: Promise<Highlighter> | undefined;

export function loadHighlighter(): Promise<Highlighter> {
  loading ??= import('./code-highlighter.js').then(
    (m) => m.highlighter,
    (err: unknown) => {
      loading = undefined; // a chunk that failed to load (a deploy in between) is tried again next time
      throw err;
    },
  );
  return loading;
}

/** The highlighter once `needed` and loaded; undefined until then (code shows plain meanwhile). */
export function useHighlighter(needed: boolean): Highlighter | undefined {
  const [highlighter, setHighlighter] = useState<Highlighter | undefined>(undefined);
  useEffect(() => {
    if (!needed || highlighter !== undefined) return undefined;
    let live = true;
    loadHighlighter().then(
      (h) => live && setHighlighter(h),
      () => undefined, // plain code is still code
    );
    return () => {
      live = false;
    };
  }, [needed, highlighter]);
  return highlighter;
}
