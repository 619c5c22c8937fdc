// Frames the server sends over the WebSocket (and as SSE event data).
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { PII_KINDS } from './pii-kinds.js';
import { FinishReasonSchema, UsageSchema } from './usage.js';

export const ReadyFrameSchema = z.object({
  type: z.literal('ready'),
  sessionId: z.string(),
  clientId: z.string(),
  instance: z.string(),
});

export const AckFrameSchema = z.object({
  type: z.literal('ack'),
  id: z.string().optional(),
  messageId: z.string(),
  /** Extension: personal data replaced by placeholders in this message, counted per kind. */
  scrubbed: z.partialRecord(z.enum(PII_KINDS), z.number().int().positive()).optional(),
});

export const TokenFrameSchema = z.object({
  type: z.literal('token'),
  messageId: z.string(),
  seq: z.number().int().positive(),
  text: z.string(),
});

export const DoneFrameSchema = z.object({
  type: z.literal('done'),
  messageId: z.string(),
  seq: z.number().int().nonnegative(),
  cached: z.boolean(),
  usage: UsageSchema,
  finishReason: FinishReasonSchema,
  /** Extension: the reply was shared with an identical request in flight (one model call for both). */
  coalesced: z.boolean().optional(),
});

export const ResetFrameSchema = z.object({
  type: z.literal('reset'),
  messageId: z.string(),
  attempt: z.number().int().positive(),
});

export const ErrorFrameSchema = z.object({
  type: z.literal('error'),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  messageId: z.string().optional(),
  id: z.string().optional(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});

export const PongFrameSchema = z.object({ type: z.literal('pong') });

/**
 * The model called a tool (issue 18). `arguments` is the JSON the model passed, parsed; its raw
 * text when it was not valid JSON. Written to the reply's stream like a token, but it has no
 * `seq`: token seqs stay 1..n without gaps. A resumed reply sends it again, in order.
 */
export const ToolCallFrameSchema = z.object({
  type: z.literal('tool_call'),
  messageId: z.string(),
  callId: z.string(),
  name: z.string(),
  arguments: z.unknown(),
});

/** The tool answered: `ok: false` when it failed, timed out or was refused; `summary` is short, for display. */
export const ToolResultFrameSchema = z.object({
  type: z.literal('tool_result'),
  messageId: z.string(),
  callId: z.string(),
  name: z.string(),
  ok: z.boolean(),
  summary: z.string().optional(),
});

export const SourceSchema = z.object({
  id: z.string(),
  title: z.string(),
  url: z.string().optional(),
});

/** The retrieved passages the reply was given (a context provider's or a tool's), by source. */
export const SourcesFrameSchema = z.object({
  type: z.literal('sources'),
  messageId: z.string(),
  sources: z.array(SourceSchema),
});

export const ServerFrameSchema = z.discriminatedUnion('type', [
  ReadyFrameSchema,
  AckFrameSchema,
  TokenFrameSchema,
  DoneFrameSchema,
  ResetFrameSchema,
  ErrorFrameSchema,
  PongFrameSchema,
  ToolCallFrameSchema,
  ToolResultFrameSchema,
  SourcesFrameSchema,
]);

/** Frames that belong to one reply and travel from a worker through Redis. */
export const ReplyFrameSchema = z.discriminatedUnion('type', [
  TokenFrameSchema,
  DoneFrameSchema,
  ResetFrameSchema,
  ErrorFrameSchema.extend({ messageId: z.string() }),
  ToolCallFrameSchema,
  ToolResultFrameSchema,
  SourcesFrameSchema,
]);

export type ReadyFrame = z.infer<typeof ReadyFrameSchema>;
export type AckFrame = z.infer<typeof AckFrameSchema>;
export type TokenFrame = z.infer<typeof TokenFrameSchema>;
export type DoneFrame = z.infer<typeof DoneFrameSchema>;
export type ResetFrame = z.infer<typeof ResetFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
export type PongFrame = z.infer<typeof PongFrameSchema>;
export type ToolCallFrame = z.infer<typeof ToolCallFrameSchema>;
export type ToolResultFrame = z.infer<typeof ToolResultFrameSchema>;
export type SourcesFrame = z.infer<typeof SourcesFrameSchema>;
export type Source = z.infer<typeof SourceSchema>;
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type ReplyFrame = z.infer<typeof ReplyFrameSchema>;
