// A model that says exactly what a test wants: an OpenAI-compatible chat completions endpoint that
// streams a fixed reply in small chunks. Workers reach it over HTTP through the real `openai` SDK,
// like any model server; it stands in for a model whose output is hostile (HTML, script links).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StackOptions } from '@chat-fleet/stack';

export interface ScriptedModel {
  /** OPENAI_BASE_URL for the workers. */
  readonly baseUrl: string;
  /** The text of every following reply. */
  reply: string;
  close(): Promise<void>;
}

export async function startScriptedModel(reply: string, chunkChars = 12, chunkDelayMs = 15): Promise<ScriptedModel> {
  const model = { reply } as ScriptedModel;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'scripted', object: 'model', created: 0, owned_by: 'tests' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    req.on('end', () => void stream(res, model.reply, chunkChars, chunkDelayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(model, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

async function stream(res: ServerResponse, text: string, chunkChars: number, delayMs: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
  const chunk = (delta: Record<string, string>, finish: string | null): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: 'scripted', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.write(chunk({ role: 'assistant' }, null));
  for (let i = 0; i < text.length; i += chunkChars) {
    if (res.destroyed) return;
    res.write(chunk({ content: text.slice(i, i + chunkChars) }, null));
    await new Promise((r) => setTimeout(r, delayMs));
  }
  res.write(chunk({}, 'stop'));
  res.end('data: [DONE]\n\n');
}

/** A one-gateway, one-worker stack whose worker calls `model` instead of the simulator, with `env` for every process. */
export function scriptedModelStack(model: ScriptedModel, env: Record<string, string> = {}): Partial<StackOptions> {
  return {
    gateways: 1,
    workers: 1,
    useSimulator: false,
    env: { CACHE_TTL_SECONDS: '0', ...env },
    workerEnv: { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'scripted' },
  };
}
