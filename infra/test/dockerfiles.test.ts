// Lints the app images' Dockerfiles (Docker itself cannot run here): multi-stage on a pinned
// slim image of a Node LTS line still in support, production dependencies of one workspace,
// everything the app needs at run time copied in, a non-root user, a node-based HEALTHCHECK,
// no secret in ENV or ARG, and nothing copied that .dockerignore keeps out of the build context.
// Also the facts an image depends on outside its Dockerfile: `engines` admits the image's Node,
// and uWebSockets.js (a native addon) is pinned exactly and ships a binary for that Node.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { DockerfileParser, type Copy, type From, type Instruction } from 'dockerfile-ast';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE_IMAGE = /^node:(\d+)\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/;
/**
 * Node LTS lines an image may use: end of life (https://github.com/nodejs/Release) and the ABI
 * (process.versions.modules) uWebSockets.js needs a binary for. A line past its end of life fails
 * here, so the images move before they run an unpatched Node.
 */
const LTS_LINES: Record<number, { endOfLife: string; abi: number }> = {
  22: { endOfLife: '2027-04-30', abi: 127 },
  24: { endOfLife: '2028-04-30', abi: 137 },
};
const UWS_SPEC = 'npm:uwebsockets@3.0.6';
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|API_KEY|_KEY$|CREDENTIAL/i;

const APPS = [
  { dir: 'apps/gateway', port: 8088, portVariable: 'PORT' },
  { dir: 'apps/llm-worker', port: 9464, portVariable: 'METRICS_PORT' },
  { dir: 'apps/llm-sim', port: 8090, portVariable: 'LLM_SIM_PORT' },
  { dir: 'apps/mcp-tools', port: 8100, portVariable: 'MCP_TOOLS_PORT' },
] as const;

interface PackageJson {
  name: string;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  engines?: { node?: string };
  workspaces?: string[];
}

interface Stage {
  from: From;
  name: string | null;
  instructions: Instruction[];
}

const readJson = (path: string): PackageJson => JSON.parse(readFileSync(`${ROOT}${path}`, 'utf8')) as PackageJson;
const workspaceDirs = ['packages/protocol', 'packages/shared', 'packages/stack', 'apps/gateway', 'apps/llm-worker', 'apps/llm-sim', 'apps/mcp-tools'];
const dirOfPackage = new Map(workspaceDirs.map((dir) => [readJson(`${dir}/package.json`).name, dir]));

function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      out.push({ from, name: from.getBuildStage(), instructions: [] });
    } else {
      out.at(-1)?.instructions.push(instruction);
    }
  }
  return out;
}

const args = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
const content = (i: Instruction): string => i.getArgumentsContent() ?? '';
const keyword = (stage: Stage, word: string): Instruction[] => stage.instructions.filter((i) => i.getKeyword() === word);
const copiesOf = (stage: Stage): Copy[] => keyword(stage, 'COPY') as Copy[];

/** .dockerignore as Docker reads it: a path is out when it or a parent matches a pattern. */
function dockerIgnored(): (path: string) => boolean {
  const patterns = readFileSync(`${ROOT}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!'))) throw new Error('exceptions (!) in .dockerignore are not handled by this check');
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/^\//, '')
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '<any-dirs>')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          .replace(/<any-dirs>/g, '(.*/)?')}$`,
      ),
  );
  return (path) => {
    const parts = path.replace(/\/$/, '').split('/');
    return parts.some((_, i) => regexes.some((r) => r.test(parts.slice(0, i + 1).join('/'))));
  };
}

describe('.dockerignore', () => {
  test('keeps dependencies, builds, git and secrets out of the build context', () => {
    const ignored = dockerIgnored();
    for (const path of ['node_modules', 'apps/gateway/node_modules', 'apps/gateway/dist', '.git', '.env', 'apps/x/.env.local', 'test-artifacts']) {
      expect([path, ignored(path)]).toEqual([path, true]);
    }
    expect(ignored('apps/gateway/src/main.ts')).toBe(false);
  });
});

describe.each(APPS)('$dir/Dockerfile', ({ dir, port, portVariable }) => {
  const text = readFileSync(`${ROOT}${dir}/Dockerfile`, 'utf8');
  const all = stages(text);
  const final = all.at(-1)!;
  const pkg = readJson(`${dir}/package.json`);
  const workspace = pkg.name;

  test('is multi-stage on one pinned bookworm-slim image of a Node LTS line in support', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.from.getImage()).toMatch(NODE_IMAGE);
    expect(new Set(all.map((s) => s.from.getImage())).size).toBe(1);
    expect(all[0]!.name).toBe('build');
    const image = all[0]!.from.getImage()!;
    const line = LTS_LINES[Number(NODE_IMAGE.exec(image)?.[1])];
    expect([image, line !== undefined]).toEqual([image, true]);
    expect([image, new Date().toISOString().slice(0, 10) < line!.endOfLife]).toEqual([image, true]);
  });

  test('builds the app and the workspaces it depends on in the build stage', () => {
    const runs = keyword(all[0]!, 'RUN').map(content).join('\n');
    expect(runs).toMatch(/npm ci\b/);
    for (const ws of [workspace, ...workspaceDeps(pkg)]) expect(runs).toContain(`npm run build -w ${ws}`);
  });

  test('installs only production dependencies of this workspace in the final stage', () => {
    const runs = keyword(final, 'RUN').map(content);
    const installs = runs.filter((r) => /npm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/npm ci --omit=dev\b/);
    expect(installs[0]).toContain(`-w ${workspace}`);
    expect(installs[0]).toContain('--include-workspace-root=false');
    expect(installs[0]).toContain('npm cache clean --force');
  });

  test('copies in everything the app and its workspace dependencies ship, and nothing else of the repo', () => {
    const copies = copiesOf(final).map((c) => {
      const from = c.getFlags().find((f) => f.getName() === 'from')?.getValue() ?? null;
      const paths = args(c).filter((a) => !a.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
    });
    const destinations = new Set(copies.map((c) => c.dest.replace(/\/$/, '')));
    for (const [name, dirPath] of [[workspace, dir], ...workspaceDeps(pkg).map((d) => [d, dirOfPackage.get(d)!] as const)] as const) {
      const shipped = readJson(`${dirPath}/package.json`).files ?? ['dist'];
      for (const entry of ['package.json', ...shipped]) {
        const wanted = entry === 'package.json' ? dirPath : `${dirPath}/${entry}`;
        expect([name, entry, destinations.has(wanted)]).toEqual([name, entry, true]);
      }
    }
    expect(copies.filter((c) => c.from !== null).every((c) => all.some((s) => s.name === c.from))).toBe(true);
    for (const c of copies) expect(c.sources).not.toContain('.');
  });

  test('copies only files that exist and that .dockerignore lets into the context', () => {
    const ignored = dockerIgnored();
    for (const stage of all) {
      for (const c of copiesOf(stage)) {
        if (c.getFlags().some((f) => f.getName() === 'from')) continue;
        const sources = args(c).filter((a) => !a.startsWith('--')).slice(0, -1);
        for (const source of sources) {
          expect([source, existsSync(`${ROOT}${source}`), ignored(source)]).toEqual([source, true, false]);
          expect(source).not.toMatch(/(^|\/)(\.env|\.npmrc)/);
        }
      }
    }
  });

  test('runs as a non-root user, the app entry point, on its port', () => {
    const users = keyword(final, 'USER').map(content);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const cmd = JSON.parse(content(keyword(final, 'CMD').at(-1)!)) as string[];
    expect(cmd.join(' ')).toBe(pkg.scripts?.start);
    expect(keyword(final, 'WORKDIR').map(content).at(-1)).toBe(`/app/${dir}`);
    expect(keyword(final, 'EXPOSE').map(content)).toEqual([String(port)]);
  });

  test('checks its health with node, on /health at its port', () => {
    const checks = keyword(final, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const command = content(checks[0]!).replace(/^(--[\w-]+=\S+\s+)*CMD\s+/, '');
    const exec = JSON.parse(command) as string[];
    expect(exec[0]).toBe('node');
    expect(command).not.toMatch(/\b(curl|wget)\b/);
    expect(command).toContain('/health');
    expect(command).toContain(`process.env.${portVariable} || ${port}`);
  });

  test('bakes in no secret: no ENV or ARG named like one', () => {
    for (const stage of all) {
      for (const i of [...keyword(stage, 'ENV'), ...keyword(stage, 'ARG')]) {
        for (const assignment of args(i)) {
          const name = assignment.split('=')[0]!;
          expect([i.getKeyword(), name, SECRET_NAME.test(name)]).toEqual([i.getKeyword(), name, false]);
        }
      }
    }
  });
});

describe('the Node and the native addon the images run', () => {
  const images = new Set(APPS.flatMap(({ dir }) => stages(readFileSync(`${ROOT}${dir}/Dockerfile`, 'utf8')).map((s) => s.from.getImage()!)));
  const versions = [...images].map((image) => image.replace(/^node:([\d.]+)-.*$/, '$1'));
  const root = readJson('package.json');
  const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, 'utf8')) as {
    packages: Record<string, Pick<PackageJson, 'dependencies' | 'devDependencies' | 'optionalDependencies'> & { version?: string }>;
  };

  test('engines in the root package.json admits the images\' Node and the Node running this test, and no open-ended range', () => {
    const engines = root.engines?.node ?? '';
    for (const version of [...versions, process.versions.node]) expect([version, satisfies(version, engines)]).toEqual([version, true]);
    // uWebSockets.js ships binaries for the Node lines it was built for only: a later major is not supported.
    expect(engines).not.toMatch(/>/);
  });

  test('every package.json depending on uWebSockets.js pins it exactly, and the lock file agrees', () => {
    const manifests = ['', ...(root.workspaces ?? []).flatMap(workspaceGlob)].filter((dir) => existsSync(`${ROOT}${dir}${dir === '' ? '' : '/'}package.json`));
    const users = manifests.filter((dir) => {
      const pkg = readJson(`${dir}${dir === '' ? '' : '/'}package.json`);
      return [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies].some((deps) => deps?.['uWebSockets.js'] !== undefined);
    });
    expect(users).toContain('apps/gateway');
    for (const dir of users) {
      const pkg = readJson(`${dir}${dir === '' ? '' : '/'}package.json`);
      const spec = pkg.dependencies?.['uWebSockets.js'] ?? pkg.devDependencies?.['uWebSockets.js'] ?? pkg.optionalDependencies?.['uWebSockets.js'];
      const locked = lock.packages[dir];
      const lockedSpec = locked?.dependencies?.['uWebSockets.js'] ?? locked?.devDependencies?.['uWebSockets.js'] ?? locked?.optionalDependencies?.['uWebSockets.js'];
      expect([dir, spec, lockedSpec]).toEqual([dir, UWS_SPEC, UWS_SPEC]);
    }
    expect(lock.packages['node_modules/uWebSockets.js']?.version).toBe(UWS_SPEC.split('@').at(-1));
  });

  test('the pinned uWebSockets.js ships a linux binary for the images\' Node ABI', () => {
    for (const version of versions) {
      const abi = LTS_LINES[Number(version.split('.')[0])]?.abi;
      for (const arch of ['x64', 'arm64']) {
        const binary = `node_modules/uWebSockets.js/uws_linux_${arch}_${abi}.node`;
        expect([binary, existsSync(`${ROOT}${binary}`)]).toEqual([binary, true]);
      }
    }
  });
});

/** node-semver's `satisfies` for the forms engines uses here: `||` of `^x.y.z` and `>=x.y.z`. */
function satisfies(version: string, range: string): boolean {
  const parse = (v: string): number[] => v.split('.').map(Number);
  const compare = (a: number[], b: number[]): number => a.map((n, i) => n - b[i]!).find((d) => d !== 0) ?? 0;
  const v = parse(version);
  return range.split('||').some((part) => {
    const m = /^\s*(\^|>=)(\d+\.\d+\.\d+)\s*$/.exec(part);
    if (m === null) throw new Error(`engines range part not handled by this check: ${part}`);
    const min = parse(m[2]!);
    return compare(v, min) >= 0 && (m[1] === '>=' || v[0] === min[0]);
  });
}

/** The directories a root `workspaces` entry names: a path, or a path ending in `/*`. */
function workspaceGlob(pattern: string): string[] {
  if (!pattern.endsWith('/*')) return [pattern];
  const parent = pattern.slice(0, -2);
  return readdirSync(`${ROOT}${parent}`, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${parent}/${e.name}`);
}

function workspaceDeps(pkg: PackageJson): string[] {
  return Object.keys(pkg.dependencies ?? {}).filter((d) => dirOfPackage.has(d));
}
