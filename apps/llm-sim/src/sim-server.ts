// The simulator's HTTP server: OpenAI-compatible routes plus /_sim control routes for tests and benchmarks.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { SimConfig } from './sim-config.js';
import { createChatCompletionHandler } from './chat-completions.js';
import { describeIssues } from './chat-request.js';
import { FailureInjector } from './failure-injector.js';
import { HttpRequestError, openAiError, readJson, sendJson } from './http-json.js';
import { RequestLog } from './request-log.js';
import { SimSettingsPatchSchema, SimSettingsStore, settingsFromConfig } from './sim-settings.js';

export interface SimServerOptions {
  /** Defaults to a silent logger. */
  logger?: Logger;
}

export interface SimServer {
  /** The bound port (the real one when LLM_SIM_PORT is 0). */
  port: number;
  /** Base URL without a trailing slash; the OpenAI base URL is `${url}/v1`. */
  url: string;
  /** Stops listening and drops every open connection, streams included. */
  close(): Promise<void>;
}

export const SIM_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-4.1'] as const;

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MODELS_CREATED = 1_715_367_049;
const DEFAULT_REQUEST_LIMIT = 50;

export async function startSimServer(config: SimConfig, opts: SimServerOptions = {}): Promise<SimServer> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const defaults = settingsFromConfig(config);
  const settings = new SimSettingsStore(defaults);
  const requestLog = new RequestLog(1000);
  const failures = new FailureInjector(defaults.seed);
  const chatCompletion = createChatCompletionHandler({ settings, requestLog, failures, logger });
  const modelList = {
    object: 'list',
    data: SIM_MODELS.map((id) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'llm-sim' })),
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const key = `${req.method ?? 'GET'} ${path}`;
    switch (key) {
      case 'POST /v1/chat/completions':
        chatCompletion(res, await readJson(req, MAX_BODY_BYTES));
        return;
      case 'GET /v1/models':
        sendJson(res, 200, modelList);
        return;
      case 'GET /health':
        sendJson(res, 200, { status: 'ok' });
        return;
      case 'GET /_sim/config':
        sendJson(res, 200, settings.current);
        return;
      case 'POST /_sim/config': {
        const parsed = SimSettingsPatchSchema.safeParse(await readJson(req, MAX_BODY_BYTES));
        if (!parsed.success) {
          sendJson(res, 400, openAiError(describeIssues(parsed.error), 'invalid_request_error'));
          return;
        }
        const next = settings.update(parsed.data);
        if (parsed.data.seed !== undefined) failures.reseed(next.seed);
        logger.info({ settings: next }, 'settings changed');
        sendJson(res, 200, next);
        return;
      }
      case 'GET /_sim/requests': {
        const raw = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1)).get('limit');
        const limit = raw === null || raw === '' ? DEFAULT_REQUEST_LIMIT : Number(raw);
        if (!Number.isInteger(limit) || limit < 0) {
          sendJson(res, 400, openAiError(`limit must be a non-negative integer, got "${raw}"`, 'invalid_request_error'));
          return;
        }
        sendJson(res, 200, requestLog.last(Math.min(limit, requestLog.capacity)));
        return;
      }
      case 'POST /_sim/reset': {
        const next = settings.reset();
        requestLog.clear();
        failures.reseed(next.seed);
        logger.info('reset to defaults');
        sendJson(res, 200, next);
        return;
      }
      default:
        sendJson(res, 404, openAiError(`unknown route ${key}`, 'not_found_error'));
    }
  };

  const server = createServer({ noDelay: true }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpRequestError) {
        if (!res.headersSent) sendJson(res, err.status, openAiError(err.message, 'invalid_request_error'));
        return;
      }
      logger.error({ err, url: req.url }, 'request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, openAiError('internal simulator error', 'server_error'));
    });
  });
  // Longer than typical client pools (undici 4s, nginx 60s) so the server is never the side closing a reused socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Streams can legitimately run for minutes at a slow token rate.
  server.requestTimeout = 0;
  server.timeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.LLM_SIM_PORT, host: config.HOST, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'server error'));

  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${urlHost(config.HOST)}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A host a client can dial: wildcard binds are reached over loopback; IPv6 literals need brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
