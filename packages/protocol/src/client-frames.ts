// Frames a client sends over the WebSocket. Parsed once at the boundary.
import { z } from 'zod';
import { IdSchema } from './ids.js';

export const ChatFrameSchema = z.object({
  type: z.literal('chat'),
  id: z.string().min(1).max(128).optional(),
  content: z.string(),
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
  CancelFrameSchema,
  ResumeFrameSchema,
  PingFrameSchema,
]);

export type ChatFrame = z.infer<typeof ChatFrameSchema>;
export type CancelFrame = z.infer<typeof CancelFrameSchema>;
export type ResumeFrame = z.infer<typeof ResumeFrameSchema>;
export type PingFrame = z.infer<typeof PingFrameSchema>;
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
