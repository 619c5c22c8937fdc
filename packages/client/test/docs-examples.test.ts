// The examples of docs/client-sdk.md are checked: every ```ts and ```tsx block is type-checked, as a
// module of its own, against the SDK's source with the TypeScript compiler API (the React example
// against preact/compat, the Node one against the `ws` package's types).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const docsPath = join(packageDir, '../../docs/client-sdk.md');

/** The fenced ts/tsx blocks of a Markdown text, with the line each starts on. */
export function codeBlocks(markdown: string): Array<{ lang: 'ts' | 'tsx'; code: string; line: number }> {
  const blocks: Array<{ lang: 'ts' | 'tsx'; code: string; line: number }> = [];
  for (const m of markdown.matchAll(/^```(ts|tsx)\n([\s\S]*?)^```$/gm)) {
    blocks.push({ lang: m[1] as 'ts' | 'tsx', code: m[2]!, line: markdown.slice(0, m.index).split('\n').length + 1 });
  }
  return blocks;
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(packageDir, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir);
  return {
    ...parsed.options,
    noEmit: true,
    types: ['node'],
    jsx: ts.JsxEmit.ReactJSX,
    jsxImportSource: 'preact',
    // The examples import the package by its name: check them against its source.
    paths: {
      ...parsed.options.paths,
      '@chat-fleet/client': [join(packageDir, 'src/index.ts')],
      '@chat-fleet/client/react': [join(packageDir, 'src/react.ts')],
    },
  };
}

describe('docs/client-sdk.md', () => {
  const blocks = codeBlocks(readFileSync(docsPath, 'utf8'));

  it('has examples for the browser, Node, cancel, the close codes, the options, tool calls and the hook', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    expect(blocks.filter((b) => b.lang === 'tsx')).toHaveLength(1);
    const all = blocks.map((b) => b.code).join('\n');
    for (const needle of ["from 'ws'", 'for await', '.cancel()', 'closeAction', 'keepText', 'decode:', 'useChat(', 'ConversationStore', "on('tool_call'"]) expect(all).toContain(needle);
  });

  it('type-checks every example against the SDK', () => {
    const options = compilerOptions();
    const files = new Map(blocks.map((b, i) => [join(here, `docs-example-${i + 1}.${b.lang}`), b]));
    const host = ts.createCompilerHost(options);
    const { fileExists, readFile, getSourceFile } = host;
    host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
    host.readFile = (f) => files.get(f)?.code ?? readFile.call(host, f);
    host.getSourceFile = (f, lang, onError, create) => {
      const block = files.get(f);
      return block !== undefined ? ts.createSourceFile(f, block.code, lang, true) : getSourceFile.call(host, f, lang, onError, create);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.has(d.file.fileName))
      .map((d) => {
        const block = files.get(d.file!.fileName)!;
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `docs/client-sdk.md:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 60_000);
});
