// The simulator's HTTP server: OpenAI-compatible routes plus /_sim control routes for tests and benchmarks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, startJsonServer } from '@chat-fleet/shared/http';
import { pino, type Logger } from 'pino';
import type { SimConfig } from './sim-config.js';
import { createChatCompletionHandler } from './chat-completions.js';
import { describeIssues } from './chat-request.js';
import { FailureInjector } from './failure-injector.js';
import { openAiError } from './openai-error.js';
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

/** A request's JSON body; an empty body reads as `{}`. */
const readRequest = (req: IncomingMessage): Promise<unknown> => readJson(req, MAX_BODY_BYTES, { emptyAs: {} });

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
        chatCompletion(res, await readRequest(req));
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
        const parsed = SimSettingsPatchSchema.safeParse(await readRequest(req));
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

  const server = await startJsonServer(route, {
    port: config.LLM_SIM_PORT,
    host: config.HOST,
    backlog: 4096,
    logger,
    refusal: (err) => openAiError(err.message, 'invalid_request_error'),
    internalError: openAiError('internal simulator error', 'server_error'),
  });
  return { port: server.port, url: server.origin, close: () => server.close() };
}
