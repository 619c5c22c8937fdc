import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { highlighter } from '../src/code-highlighter.js';
import { hasNamedCodeBlock, isSafeLink, renderMarkdown, type MarkdownOptions } from '../src/markdown.js';

// Markdown's own tags, and the code block's and table region's markup (div, span, button).
const ALLOWED_TAGS = new Set(['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'div', 'span', 'button']);
const ALLOWED_ATTRIBUTES = new Set(['href', 'title', 'target', 'rel', 'start', 'class', 'tabindex', 'role', 'aria-label', 'type', 'data-copy-code']);

/** Every tag in `html` is one Markdown (or this renderer) produces, with known attributes only, and every link is http(s) or mailto. */
function expectInert(html: string): void {
  for (const [, tag] of html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)) expect(ALLOWED_TAGS.has(tag!.toLowerCase())).toBe(true);
  for (const [, attrs] of html.matchAll(/<[a-zA-Z][\w-]*(\s[^>]*)?>/g)) {
    for (const [, name] of (attrs ?? '').matchAll(/\s([^\s=]+)(?:="[^"]*")?/g)) expect([name, ALLOWED_ATTRIBUTES.has(name!.toLowerCase())]).toEqual([name, true]);
  }
  for (const [, cls] of html.matchAll(/class="([^"]*)"/g)) expect(cls).toMatch(/^[\w+#. -]*$/);
  for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^(https?:\/\/|mailto:)/i);
}

const highlighted: MarkdownOptions = { labels: { copy: 'Copier le code', code: 'Code', table: 'Tableau' }, highlighter };

describe('renderMarkdown', () => {
  it('renders Markdown: emphasis, code, lists and http links opening in a new tab without the opener', () => {
    const html = renderMarkdown('# Title\n\n**bold** _em_ `code`\n\n- one\n- two\n\n[docs](https://example.com/a?b=1)\n\n```\nx < y\n```');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<em>em</em>');
    expect(html).toContain('<code>code</code>');
    expect(html).toContain('<li>one</li>');
    expect(html).toContain('<a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">docs</a>');
    expect(html).toContain('<pre tabindex="0"><code>x &lt; y\n</code></pre>');
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

  it('renders GFM tables in a focusable, labelled region, aligned by class', () => {
    const html = renderMarkdown('| Lang | Stars |\n| :--- | ---: |\n| **Go** | 1 |\n| `<b>` | 2 |', highlighted);
    expect(html).toBe(
      '<div class="table-wrap" tabindex="0" role="region" aria-label="Tableau"><table>\n<thead>\n<tr>\n<th class="align-left">Lang</th>\n<th class="align-right">Stars</th>\n</tr>\n</thead>\n' +
        '<tbody>\n<tr>\n<td class="align-left"><strong>Go</strong></td>\n<td class="align-right">1</td>\n</tr>\n<tr>\n<td class="align-left"><code>&lt;b&gt;</code></td>\n<td class="align-right">2</td>\n</tr>\n</tbody>\n</table></div>',
    );
    expectInert(html);
  });

  it('gives code blocks a language label and a copy button, highlighted once the highlighter is there', () => {
    const source = '```python\ndef f(x):\n    return "<b>" + x\n```';
    expect(hasNamedCodeBlock(source)).toBe(true);
    expect(hasNamedCodeBlock('```\nplain\n```\n\n    indented')).toBe(false);
    const plain = renderMarkdown(source);
    expect(plain).toBe(
      '<div class="code-block"><div class="code-head"><span class="code-lang">python</span><button type="button" class="copy-code" data-copy-code>Copy code</button></div>' +
        '<pre tabindex="0"><code class="language-python">def f(x):\n    return &quot;&lt;b&gt;&quot; + x\n</code></pre></div>',
    );
    const html = renderMarkdown(source, highlighted);
    expect(html).toContain('<code class="language-python hljs"><span class="hljs-keyword">def</span> <span class="hljs-title function_">f</span>');
    expect(html).toContain('<span class="hljs-string">&quot;&lt;b&gt;&quot;</span>');
    expect(html).toContain('>Copier le code</button>');
    // A language it does not know, or a hostile info string, stays plain and escaped.
    expect(renderMarkdown('```klingon\nqapla\n```', highlighted)).toContain('<code class="language-klingon">qapla\n</code>');
    const hostile = renderMarkdown('```"><script>x\nalert(1)\n```', highlighted);
    expect(hostile).toContain('<span class="code-lang">Code</span>');
    expectInert(html);
    expectInert(hostile);
  });

  it('produces only Markdown tags and safe links for any input', () => {
    const piece = fc.constantFrom('<script>', '</script>', '<img src=x onerror=alert(1)>', '[a](', 'javascript:', ')', '**', '`', '\n', '<', '>', '"', "'", '&', 'https://x.example', '![i](', '<a href="javascript:x">', ' on', 'load=', '# ', '- ', '```', '```js\n', '```html\n', '| a | b |\n| :-- | --: |\n', '| ', 'text');
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string()), { maxLength: 40 }), (parts) => {
        expectInert(renderMarkdown(parts.join('')));
        expectInert(renderMarkdown(parts.join(''), highlighted));
      }),
      { numRuns: 500 },
    );
  });
});
