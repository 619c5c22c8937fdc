// Model output to safe HTML. markdown-it with `html: false` escapes every tag the model writes;
// links must be http(s) or mailto (no javascript:, data:, vbscript: or relative URLs that would
// act on this origin) and open in a new tab without the opener; images become plain links, so a
// reply cannot make the browser fetch a URL of the model's choosing. What this file adds is markup
// of its own: code blocks with a language label, a copy button and (once the highlighter is loaded)
// highlight.js's spans; GFM tables in a scrollable region, their alignment as classes (no style
// attributes). Every attribute value it writes is escaped or fixed.
import MarkdownIt, { type Env, type Token } from 'markdown-it';
import type { Highlighter } from './highlighter.js';

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;
/** A fence's language as a class name: plain word characters only. */
const LANGUAGE = /^[\w+#.-]{1,32}$/;
/** A fenced block naming its language: worth loading the highlighter for. */
const FENCE_WITH_LANGUAGE = /^ {0,3}(`{3,}|~{3,})[ \t]*[\w+#.-]/m;
const ALIGN = /^text-align:(left|center|right)$/;

/** A link the page may open: http(s) or mailto (also for the sources a reply names). */
export function isSafeLink(url: string): boolean {
  return SAFE_LINK.test(url.trim());
}

/** Words the markup carries, in the page's language. */
export interface MarkdownLabels {
  readonly copy: string;
  /** A code block's label when it names no language. */
  readonly code: string;
  readonly table: string;
}

export interface MarkdownOptions {
  readonly labels: MarkdownLabels;
  /** Colours code blocks in the languages it knows; without it they show plain. */
  readonly highlighter?: Highlighter | undefined;
}

const ENGLISH: MarkdownLabels = { copy: 'Copy code', code: 'Code', table: 'Table' };

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image']);
md.validateLink = isSafeLink;
const escape = md.utils.escapeHtml;

// An empty destination (`[a]()`) skips validateLink: drop every link whose href is not safe, keeping its text.
md.core.ruler.push('drop_unsafe_links', (state) => {
  for (const block of state.tokens) {
    if (block.type !== 'inline' || block.children === null) continue;
    const dropped: boolean[] = [];
    block.children = block.children.filter((t) => {
      if (t.type === 'link_open') {
        const unsafe = !isSafeLink(String(t.attrGet('href') ?? ''));
        dropped.push(unsafe);
        return !unsafe;
      }
      if (t.type === 'link_close') return dropped.pop() !== true;
      return true;
    });
  }
});

// markdown-it aligns table cells with a style attribute; a class does the same without one.
md.core.ruler.push('table_align_classes', (state) => {
  for (const token of state.tokens) {
    if ((token.type !== 'th_open' && token.type !== 'td_open') || token.attrs === null) continue;
    const align = ALIGN.exec(String(token.attrGet('style') ?? ''))?.[1];
    token.attrs = token.attrs.filter(([name]) => name !== 'style');
    if (align !== undefined) token.attrJoin('class', `align-${align}`);
  }
});

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer nofollow');
  return self.renderToken(tokens, idx, options);
};

/** renderMarkdown passes its options as markdown-it's env, under this key. */
const optionsOf = (env: Env | undefined): MarkdownOptions => env!.page as MarkdownOptions;

md.renderer.rules.fence = (tokens, idx, _options, env) => codeBlock(tokens[idx]!, optionsOf(env));
md.renderer.rules.code_block = (tokens, idx, _options, env) => codeBlock(tokens[idx]!, optionsOf(env));

// A wide table scrolls inside its region, which the keyboard can focus to scroll it.
md.renderer.rules.table_open = (_tokens, _idx, _options, env) =>
  `<div class="table-wrap" tabindex="0" role="region" aria-label="${escape(optionsOf(env).labels.table)}"><table>\n`;
md.renderer.rules.table_close = () => '</table></div>\n';

/** A code block: its language (or "Code"), a copy button the view wires up, and the code, focusable to scroll it. */
function codeBlock(token: Token, { labels, highlighter }: MarkdownOptions): string {
  const named = token.type === 'fence' ? (token.info.trim().split(/\s+/)[0] ?? '') : '';
  const language = LANGUAGE.test(named) ? named : '';
  const highlighted = language === '' ? undefined : highlighter?.highlight(token.content, language.toLowerCase());
  const classes = language === '' ? '' : ` class="language-${escape(language)}${highlighted === undefined ? '' : ' hljs'}"`;
  return (
    `<div class="code-block"><div class="code-head"><span class="code-lang">${escape(language || labels.code)}</span>` +
    `<button type="button" class="copy-code" data-copy-code>${escape(labels.copy)}</button></div>` +
    `<pre tabindex="0"><code${classes}>${highlighted ?? escape(token.content)}</code></pre></div>\n`
  );
}

/** True when `text` has a fenced code block naming its language (the highlighter is worth loading). */
export function hasNamedCodeBlock(text: string): boolean {
  return FENCE_WITH_LANGUAGE.test(text);
}

/** The reply as HTML that holds no markup of the model's own: only what Markdown and this file produce. */
export function renderMarkdown(text: string, options: MarkdownOptions = { labels: ENGLISH }): string {
  return md.render(text, { page: options }).trimEnd();
}
