// POST /v1/chat/completions: validates, logs, then answers a deterministic reply streamed or whole, or an injected failure.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ChatCompletionRequestSchema, describeIssues } from './chat-request.js';
import { streamCompletion } from './completion-stream.js';
import type { FailureInjector } from './failure-injector.js';
import { openAiError, sendJson } from './http-json.js';
import { countPromptTokens } from './prompt-tokens.js';
import { generateReply } from './reply-generator.js';
import type { RequestLog } from './request-log.js';
import type { SimSettingsStore } from './sim-settings.js';

export interface ChatCompletionDeps {
  settings: SimSettingsStore;
  requestLog: RequestLog;
  failures: FailureInjector;
  logger: Logger;
}

export type ChatCompletionHandler = (res: ServerResponse, body: unknown) => void;

export function createChatCompletionHandler(deps: ChatCompletionDeps): ChatCompletionHandler {
  return (res, body) => {
    const parsed = ChatCompletionRequestSchema.safeParse(body);
    if (!parsed.success) {
      sendJson(res, 400, openAiError(describeIssues(parsed.error), 'invalid_request_error'));
      return;
    }
    const request = parsed.data;
    const settings = deps.settings.current;
    const stream = request.stream === true;
    deps.requestLog.add({ at: new Date().toISOString(), model: request.model, stream, messages: request.messages });

    const fails = deps.failures.shouldFail(settings.failRate);
    const breakStream = fails && stream && settings.failAfterTokens > 0;
    if (fails && !breakStream) {
      deps.logger.debug({ status: settings.failStatus }, 'injected failure');
      const retryable = settings.failStatus === 429 || settings.failStatus === 503;
      sendJson(
        res,
        settings.failStatus,
        openAiError('simulated upstream failure', 'server_error'),
        retryable ? { 'Retry-After': '1' } : {},
      );
      return;
    }

    const full = generateReply(request.messages, request.model, settings);
    const caps = [request.max_tokens, request.max_completion_tokens].filter((n): n is number => typeof n === 'number');
    const cap = caps.length > 0 ? Math.min(...caps) : Infinity;
    const tokens = cap < full.length ? full.slice(0, cap) : full;
    const finishReason = tokens.length < full.length ? 'length' : 'stop';
    const promptTokens = countPromptTokens(request.messages);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    };
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);

    if (stream) {
      streamCompletion(res, {
        id,
        created,
        model: request.model,
        tokens,
        finishReason,
        usage: request.stream_options?.include_usage === true ? usage : null,
        ttftMs: settings.ttftMs,
        tokensPerSec: settings.tokensPerSec,
        breakAfterTokens: breakStream ? settings.failAfterTokens : null,
      });
      return;
    }

    const delayMs = settings.ttftMs + (settings.tokensPerSec > 0 ? (tokens.length * 1000) / settings.tokensPerSec : 0);
    const answer = (): void => {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: tokens.join(''), refusal: null },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
      });
    };
    if (delayMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(answer, delayMs);
    // A client that gave up needs no answer; without this the timer would write to a dead socket.
    res.on('close', () => clearTimeout(timer));
  };
}
