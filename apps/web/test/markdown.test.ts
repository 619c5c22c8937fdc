import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isSafeLink, renderMarkdown } from '../src/markdown.js';

const ALLOWED_TAGS = new Set(['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);

/** Every tag in `html` is one Markdown produces, and every link is http(s) or mailto. */
function expectInert(html: string): void {
  for (const [, tag] of html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)) expect(ALLOWED_TAGS.has(tag!.toLowerCase())).toBe(true);
  for (const [, attrs] of html.matchAll(/<[a-zA-Z][\w-]*(\s[^>]*)?>/g)) {
    expect(attrs ?? '').not.toMatch(/\son\w+\s*=/i);
    expect(attrs ?? '').not.toMatch(/\s(src|style|srcdoc|formaction)\s*=/i);
  }
  for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^(https?:\/\/|mailto:)/i);
}

describe('renderMarkdown', () => {
  it('renders Markdown: emphasis, code, lists and http links opening in a new tab without the opener', () => {
    const html = renderMarkdown('# Title\n\n**bold** _em_ `code`\n\n- one\n- two\n\n[docs](https://example.com/a?b=1)\n\n```\nx < y\n```');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<em>em</em>');
    expect(html).toContain('<code>code</code>');
    expect(html).toContain('<li>one</li>');
    expect(html).toContain('<a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">docs</a>');
    expect(html).toContain('<pre><code>x &lt; y\n</code></pre>');
    expectInert(html);
  });

  it('escapes the HTML a model writes instead of rendering it', () => {
    const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror="alert(2)"> <b>b</b>\n\n<iframe src="https://evil"></iframe>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
    expect(html).not.toMatch(/<(script|img|b|iframe)\b/);
    expectInert(html);
  });

  it('refuses links that are not http(s) or mailto, and shows images as text', () => {
    for (const src of ['[x](javascript:alert(1))', '[x](JaVaScRiPt:alert(1))', '[x](data:text/html,<b>1</b>)', '[x](vbscript:msgbox)', '<javascript:alert(1)>', '[x](/chat/session)', '[x](//evil.example)']) {
      const html = renderMarkdown(src);
      expect([src, html.includes('<a ')]).toEqual([src, false]);
      expectInert(html);
    }
    const img = renderMarkdown('![tracker](https://evil.example/pixel.png)');
    expect(img).not.toContain('<img');
    expectInert(img);
    expect(renderMarkdown('[empty]() and [me](mailto:a@example.com) or https://example.com/x')).toBe(
      '<p>empty and <a href="mailto:a@example.com" target="_blank" rel="noopener noreferrer nofollow">me</a> or ' +
        '<a href="https://example.com/x" target="_blank" rel="noopener noreferrer nofollow">https://example.com/x</a></p>',
    );
  });

  it('gives the same link rule to the sources a reply names', () => {
    expect(['https://example.com/p', ' http://x.example', 'mailto:a@example.com'].map(isSafeLink)).toEqual([true, true, true]);
    expect(['javascript:alert(1)', 'data:text/html,x', '/chat/session', '//evil.example', ''].map(isSafeLink)).toEqual([false, false, false, false, false]);
  });

  it('produces only Markdown tags and safe links for any input', () => {
    const piece = fc.constantFrom('<script>', '</script>', '<img src=x onerror=alert(1)>', '[a](', 'javascript:', ')', '**', '`', '\n', '<', '>', '"', "'", '&', 'https://x.example', '![i](', '<a href="javascript:x">', ' on', 'load=', '# ', '- ', '```', 'text');
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string()), { maxLength: 40 }), (parts) => {
        expectInert(renderMarkdown(parts.join('')));
      }),
      { numRuns: 500 },
    );
  });
});
