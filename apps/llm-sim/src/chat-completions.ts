// POST /v1/chat/completions: validates, logs, then answers tool calls or a deterministic reply, streamed or whole, or an injected failure.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from '@chat-fleet/shared/http';
import type { Logger } from 'pino';
import {
  ChatCompletionRequestSchema,
  describeIssues,
  messageText,
  parseToolConversation,
  type ChatCompletionRequest,
  type ToolCall,
  type ToolConversation,
} from './chat-request.js';
import { streamCompletion, streamToolCalls, type Usage } from './completion-stream.js';
import type { FailureInjector } from './failure-injector.js';
import { openAiError } from './openai-error.js';
import { countPromptTokens, countToolTokens, tokenPieces } from './tokenizer.js';
import { generateReply } from './reply-generator.js';
import type { LoggedRequest, RequestLog } from './request-log.js';
import type { SimSettings, SimSettingsStore } from './sim-settings.js';
import { planToolCalls } from './tool-calls.js';
import { toolResultsReply } from './tool-results-reply.js';

export interface ChatCompletionDeps {
  settings: SimSettingsStore;
  requestLog: RequestLog;
  failures: FailureInjector;
  logger: Logger;
}

export type ChatCompletionHandler = (res: ServerResponse, body: unknown) => void;

/** What one answer needs besides its content. */
interface Answer {
  request: ChatCompletionRequest;
  settings: SimSettings;
  id: string;
  created: number;
  promptTokens: number;
  breakAfterTokens: number | null;
}

export function createChatCompletionHandler(deps: ChatCompletionDeps): ChatCompletionHandler {
  return (res, body) => {
    const parsed = ChatCompletionRequestSchema.safeParse(body);
    if (!parsed.success) {
      sendJson(res, 400, openAiError(describeIssues(parsed.error), 'invalid_request_error'));
      return;
    }
    const request = parsed.data;
    const afterToolResults = request.messages.at(-1)?.role === 'tool';
    // Only a request that involves tools pays for the tool steps: the load tests' path stays as it was.
    const involvesTools = request.tools != null || request.tool_choice != null || afterToolResults;
    const conversation = involvesTools ? parseToolConversation(request) : undefined;
    if (conversation?.success === false) {
      sendJson(res, 400, openAiError(conversation.message, 'invalid_request_error'));
      return;
    }
    const settings = deps.settings.current;
    const stream = request.stream === true;
    const at = new Date().toISOString();
    const entry: LoggedRequest = { at, model: request.model, stream, messages: request.messages };
    if (conversation !== undefined) logToolRequest(entry, conversation.data);
    deps.requestLog.add(entry);

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

    const answer: Answer = {
      request,
      settings,
      id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
      created: Math.floor(Date.now() / 1000),
      promptTokens: countPromptTokens(request.messages) + (request.tools ? countToolTokens(request.tools) : 0),
      breakAfterTokens: breakStream ? settings.failAfterTokens : null,
    };
    if (conversation === undefined) {
      answerText(res, answer, generateReply(request.messages, request.model, settings));
      return;
    }
    const calls = planToolCalls(conversation.data);
    if (calls.length > 0) {
      entry.toolCalls = calls.map(({ id, function: { name, arguments: args } }) => ({ id, name, arguments: args }));
      answerToolCalls(res, answer, calls);
      return;
    }
    const full = afterToolResults
      ? toolResultsReply(conversation.data.messages)
      : generateReply(request.messages, request.model, settings);
    answerText(res, answer, full);
  };
}

function logToolRequest(entry: LoggedRequest, request: ToolConversation): void {
  if (request.tools) entry.tools = request.tools.map((tool) => tool.function.name);
  if (request.tool_choice != null) entry.toolChoice = request.tool_choice;
  const results = request.messages.filter((message) => message.role === 'tool');
  if (results.length > 0) {
    entry.toolResults = results.map((message) => ({
      toolCallId: message.tool_call_id ?? '',
      contentLength: messageText(message).length,
    }));
  }
}

function answerText(res: ServerResponse, answer: Answer, full: string[]): void {
  const { request, settings } = answer;
  const caps = [request.max_tokens, request.max_completion_tokens].filter((n): n is number => typeof n === 'number');
  const cap = caps.length > 0 ? Math.min(...caps) : Infinity;
  const tokens = cap < full.length ? full.slice(0, cap) : full;
  const finishReason = tokens.length < full.length ? 'length' : 'stop';
  const usage = usageOf(answer.promptTokens, tokens.length);

  if (request.stream === true) {
    streamCompletion(res, {
      id: answer.id,
      created: answer.created,
      model: request.model,
      tokens,
      finishReason,
      usage: request.stream_options?.include_usage === true ? usage : null,
      ttftMs: settings.ttftMs,
      tokensPerSec: settings.tokensPerSec,
      breakAfterTokens: answer.breakAfterTokens,
    });
    return;
  }
  answerWhole(res, answer, tokens.length, {
    message: { role: 'assistant', content: tokens.join(''), refusal: null },
    finishReason,
    usage,
  });
}

/** Tool calls are never cut by max_tokens: their arguments are short, and a cut call could not run. */
function answerToolCalls(res: ServerResponse, answer: Answer, calls: ToolCall[]): void {
  const { request, settings } = answer;
  const split = calls.map((call) => tokenPieces(call.function.arguments));
  const completionTokens = split.reduce((sum, args) => sum + args.tokens, 0);
  const usage = usageOf(answer.promptTokens, completionTokens);

  if (request.stream === true) {
    streamToolCalls(res, {
      id: answer.id,
      created: answer.created,
      model: request.model,
      calls,
      argumentPieces: split.map((args) => args.pieces),
      usage: request.stream_options?.include_usage === true ? usage : null,
      ttftMs: settings.ttftMs,
      tokensPerSec: settings.tokensPerSec,
      breakAfterTokens: answer.breakAfterTokens,
    });
    return;
  }
  answerWhole(res, answer, completionTokens, {
    message: { role: 'assistant', content: null, refusal: null, tool_calls: calls },
    finishReason: 'tool_calls',
    usage,
  });
}

function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** A non-streamed answer, sent when a stream of `tokens` would have ended. */
function answerWhole(
  res: ServerResponse,
  answer: Answer,
  tokens: number,
  choice: { message: object; finishReason: string; usage: Usage },
): void {
  const { settings } = answer;
  const delayMs = settings.ttftMs + (settings.tokensPerSec > 0 ? (tokens * 1000) / settings.tokensPerSec : 0);
  const send = (): void => {
    sendJson(res, 200, {
      id: answer.id,
      object: 'chat.completion',
      created: answer.created,
      model: answer.request.model,
      choices: [{ index: 0, message: choice.message, logprobs: null, finish_reason: choice.finishReason }],
      usage: choice.usage,
    });
  };
  if (delayMs <= 0) {
    send();
    return;
  }
  const timer = setTimeout(send, delayMs);
  // A client that gave up needs no answer; without this the timer would write to a dead socket.
  res.on('close', () => clearTimeout(timer));
}
