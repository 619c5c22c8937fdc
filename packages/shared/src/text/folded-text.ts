// Text folded for pattern matching, whose matches are replaced in the text as written.

/**
 * A view of `original` in which the forms of one character a reader takes for the same thing
 * are one: NFKC compatibility forms (full-width `４`, `＠`, no-break and ideographic spaces),
 * decimal digits of every script as ASCII, hyphens and minus signs as `-`, and invisible
 * format characters (Unicode Cf: zero-width space and joiners, word joiner, soft hyphen, BOM,
 * bidi marks) gone. Replacing a span of the view replaces the original characters it came
 * from; everything else stays as the user wrote it, so the history shows their text.
 */
export class FoldedText {
  /** The view; patterns run on it. */
  text: string;
  // Per UTF-16 unit of the view, the original range it stands for; null while the view is the
  // original text with replacements (nothing folded), the common case, where the view is the result.
  private from: Int32Array | null = null;
  private to: Int32Array | null = null;
  private replaced: Replaced[] = [];

  constructor(readonly original: string) {
    this.text = original;
    if (!NOT_ASCII.test(original)) return;
    const from = new Int32Array(original.length);
    const to = new Int32Array(original.length);
    const parts: string[] = [];
    let length = 0;
    let copied = 0; // original[copied..i) folds to itself and is not yet in `parts`
    for (let i = 0; i < original.length; ) {
      const cp = original.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const folded = cp < 0x80 ? null : foldChar(cp, width);
      if (folded !== null) {
        parts.push(original.slice(copied, i), folded);
        copied = i + width;
      }
      for (let k = 0, n = folded === null ? width : folded.length; k < n; k++) {
        from[length] = i;
        to[length++] = i + width;
      }
      i += width;
    }
    if (parts.length === 0) return;
    parts.push(original.slice(copied));
    this.text = parts.join('');
    this.from = from.subarray(0, length);
    this.to = to.subarray(0, length);
  }

  /**
   * Replaces, for every match of the global `pattern` in the view, the spans `decide` returns
   * (offsets into the match) with `replacement`; returns how many spans were replaced.
   */
  replace(pattern: RegExp, replacement: string, decide: (match: RegExpExecArray) => ReadonlyArray<readonly [number, number]>): number {
    const spans: Array<readonly [number, number]> = [];
    for (const m of this.text.matchAll(pattern)) {
      for (const [start, end] of decide(m)) if (end > start) spans.push([m.index + start, m.index + end]);
    }
    if (spans.length === 0) return 0;
    const parts: string[] = [];
    let at = 0;
    for (const [start, end] of spans) {
      parts.push(this.text.slice(at, start), replacement);
      at = end;
    }
    parts.push(this.text.slice(at));
    const text = parts.join('');
    if (this.from !== null && this.to !== null) {
      const from = new Int32Array(text.length);
      const to = new Int32Array(text.length);
      const added: Replaced[] = [];
      let length = 0;
      at = 0;
      for (const [start, end] of spans) {
        from.set(this.from.subarray(at, start), length);
        to.set(this.to.subarray(at, start), length);
        length += start - at;
        // The placeholder stands for every original character from the span's first to its
        // last, invisible ones between them included.
        const origin = { from: this.from[start]!, to: this.to[end - 1]!, text: replacement };
        from.fill(origin.from, length, length + replacement.length);
        to.fill(origin.to, length, length + replacement.length);
        length += replacement.length;
        added.push(origin);
        at = end;
      }
      from.set(this.from.subarray(at), length);
      to.set(this.to.subarray(at), length);
      this.from = from;
      this.to = to;
      this.replaced = merge(this.replaced, added);
    }
    this.text = text;
    return spans.length;
  }

  /** The original text with every replaced span in place. */
  toString(): string {
    if (this.from === null) return this.text;
    const parts: string[] = [];
    let at = 0;
    for (const r of this.replaced) {
      parts.push(this.original.slice(at, r.from), r.text);
      at = r.to;
    }
    parts.push(this.original.slice(at));
    return parts.join('');
  }

}

interface Replaced {
  from: number;
  to: number;
  text: string;
}

/** Both lists in original order; a new span that took in earlier placeholders stands for them. */
function merge(old: Replaced[], added: Replaced[]): Replaced[] {
  const out: Replaced[] = [];
  let i = 0;
  for (const span of added) {
    while (i < old.length && old[i]!.from < span.from) out.push(old[i++]!);
    while (i < old.length && old[i]!.to <= span.to) i++;
    out.push(span);
  }
  while (i < old.length) out.push(old[i++]!);
  return out;
}

// eslint-disable-next-line no-control-regex
const NOT_ASCII = /[^\u0000-\u007f]/;
const FORMAT = /^\p{Cf}$/u;
const DECIMAL = /^\p{Nd}$/u;
// Hyphen, non-breaking hyphen, figure dash, en dash, minus sign: how word processors and phones
// write the `-` in numbers and ranges. Em dashes separate words, not digit groups.
const HYPHENS = new Set([0x2010, 0x2011, 0x2012, 0x2013, 0x2212]);
const cache = new Map<number, string | null>();

/** What a character reads as for matching, or null when that is itself. */
function foldChar(cp: number, width: number): string | null {
  const hit = cache.get(cp);
  if (hit !== undefined) return hit;
  const ch = String.fromCodePoint(cp);
  let folded: string | null;
  if (FORMAT.test(ch)) folded = '';
  else if (HYPHENS.has(cp)) folded = '-';
  else {
    const nfkc = ch.normalize('NFKC');
    // One character for one, never longer: an expansion (`½` → `1⁄2`, `ﬁ` → `fi`) could put a
    // match's edge inside a single original character.
    let one = [...nfkc].length === 1 && nfkc.length <= width ? nfkc : ch;
    const fcp = one.codePointAt(0)!;
    if (fcp > 0x7f && DECIMAL.test(one)) one = String(decimalValue(fcp));
    folded = one === ch ? null : one;
  }
  // Bounded: a message of every code point must not grow the process.
  if (cache.size < 4096) cache.set(cp, folded);
  return folded;
}

// Unicode encodes every script's decimal digits as runs 0..9 in order, so a digit's value is its
// distance from the start of its run of decimal digits, modulo 10 (for adjacent runs).
function decimalValue(cp: number): number {
  let zero = cp;
  while (DECIMAL.test(String.fromCodePoint(zero - 1))) zero--;
  return (cp - zero) % 10;
}
