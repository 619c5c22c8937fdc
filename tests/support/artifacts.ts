// Figures a test measured, written as JSON under test-artifacts/ for the closing notes and docs.
import { mkdirSync, writeFileSync } from 'node:fs';

export function writeArtifact(name: string, data: unknown): void {
  const dir = new URL('../../test-artifacts/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify(data, null, 2)}\n`);
}
