// Frames a client sends over the WebSocket. Parsed once at the boundary.
import { z } from 'zod';
import { IdSchema } from './ids.js';

export const ChatFrameSchema = z.object({
  type: z.literal('chat'),
  id: z.string().min(1).max(128).optional(),
  content: z.string(),
});

/**
 * Answers the session's last user message again: its last reply leaves the history and a new one
 * streams like a chat's (`ack` with `id`, then its frames). `busy` while a reply is in flight,
 * `not_found` when there is no user message to answer.
 */
export const RegenerateFrameSchema = z.object({
  type: z.literal('regenerate'),
  id: z.string().min(1).max(128).optional(),
});

export const CancelFrameSchema = z.object({
  type: z.literal('cancel'),
  messageId: IdSchema,
});

export const ResumeFrameSchema = z.object({
  type: z.literal('resume'),
  messageId: IdSchema,
  afterSeq: z.number().int().nonnegative(),
  /** The attempt the client's frames belong to; when it is not the current one, the reply restarts. */
  attempt: z.number().int().positive().optional(),
});

export const PingFrameSchema = z.object({ type: z.literal('ping') });

export const ClientFrameSchema = z.discriminatedUnion('type', [
  ChatFrameSchema,
  RegenerateFrameSchema,
  CancelFrameSchema,
  ResumeFrameSchema,
  PingFrameSchema,
]);

export type ChatFrame = z.infer<typeof ChatFrameSchema>;
export type RegenerateFrame = z.infer<typeof RegenerateFrameSchema>;
export type CancelFrame = z.infer<typeof CancelFrameSchema>;
export type ResumeFrame = z.infer<typeof ResumeFrameSchema>;
export type PingFrame = z.infer<typeof PingFrameSchema>;
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
