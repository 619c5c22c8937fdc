#!/usr/bin/env node
// Summarises .cpuprofile files (scripts/cpu-profile.mjs): where a process's busy time goes, by
// function (self time) and by package or module (node_modules/<pkg>, the app's own files, node
// internals), idle and GC apart. Usage: node scripts/profile-summary.mjs <file.cpuprofile>... [--top N]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const files = args.filter((a, i) => a !== '--top' && (topAt < 0 || i !== topAt + 1));

function where(url) {
  if (url === '') return 'native/vm';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.split('/')[0];
  const m = /\/(apps|packages)\/([^/]+)\//.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  let total = 0;
  let idle = 0;
  let gc = 0;
  const fn = new Map();
  const pkg = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const f = n.callFrame;
    total += us;
    if (f.functionName === '(idle)' || f.functionName === '(program)') {
      idle += f.functionName === '(idle)' ? us : 0;
      if (f.functionName === '(idle)') continue;
    }
    if (f.functionName === '(garbage collector)') gc += us;
    const key = `${f.functionName || '(anonymous)'} ${where(f.url)}:${f.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const w = f.functionName.startsWith('(') ? f.functionName : where(f.url);
    pkg.set(w, (pkg.get(w) ?? 0) + us);
  }
  const busy = total - idle;
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s profiled, busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / total).toFixed(1)} %), GC ${((100 * gc) / busy).toFixed(1)} % of busy`);
  const show = (m, title) => {
    console.log(`  ${title}`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`);
  };
  show(pkg, 'by package (self time, % of busy)');
  show(fn, 'by function (self time, % of busy)');
}
