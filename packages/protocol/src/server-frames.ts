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

export const ServerFrameSchema = z.discriminatedUnion('type', [
  ReadyFrameSchema,
  AckFrameSchema,
  TokenFrameSchema,
  DoneFrameSchema,
  ResetFrameSchema,
  ErrorFrameSchema,
  PongFrameSchema,
]);

/** Frames that belong to one reply and travel from a worker through Redis. */
export const ReplyFrameSchema = z.discriminatedUnion('type', [
  TokenFrameSchema,
  DoneFrameSchema,
  ResetFrameSchema,
  ErrorFrameSchema.extend({ messageId: z.string() }),
]);

export type ReadyFrame = z.infer<typeof ReadyFrameSchema>;
export type AckFrame = z.infer<typeof AckFrameSchema>;
export type TokenFrame = z.infer<typeof TokenFrameSchema>;
export type DoneFrame = z.infer<typeof DoneFrameSchema>;
export type ResetFrame = z.infer<typeof ResetFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
export type PongFrame = z.infer<typeof PongFrameSchema>;
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type ReplyFrame = z.infer<typeof ReplyFrameSchema>;
