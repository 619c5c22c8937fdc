// Model output to safe HTML. markdown-it with `html: false` escapes every tag the model writes;
// links must be http(s) or mailto (no javascript:, data:, vbscript: or relative URLs that would
// act on this origin) and open in a new tab without the opener; images become plain links, so a
// reply cannot make the browser fetch a URL of the model's choosing.
import MarkdownIt from 'markdown-it';

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

/** A link the page may open: http(s) or mailto (also for the sources a reply names). */
export function isSafeLink(url: string): boolean {
  return SAFE_LINK.test(url.trim());
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image']);
md.validateLink = isSafeLink;
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

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer nofollow');
  return self.renderToken(tokens, idx, options);
};

/** The reply as HTML that holds no markup of the model's own: only what Markdown itself produces. */
export function renderMarkdown(text: string): string {
  return md.render(text).trimEnd();
}
