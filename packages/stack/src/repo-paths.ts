// Where the built apps live, found from this file (packages/stack/{src,dist}/) rather than the cwd.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface AppScripts {
  gateway: string;
  worker: string;
  sim: string;
  mcpTools: string;
}

export const APP_SCRIPTS: Readonly<AppScripts> = Object.freeze({
  gateway: fileURLToPath(new URL('../../../apps/gateway/dist/main.js', import.meta.url)),
  worker: fileURLToPath(new URL('../../../apps/llm-worker/dist/main.js', import.meta.url)),
  sim: fileURLToPath(new URL('../../../apps/llm-sim/dist/main.js', import.meta.url)),
  mcpTools: fileURLToPath(new URL('../../../apps/mcp-tools/dist/main.js', import.meta.url)),
});
