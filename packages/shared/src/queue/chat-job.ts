// The BullMQ job payload: everything a worker needs that is not already in Redis.
import { z } from 'zod';

export const ChatJobSchema = z.object({
  sessionId: z.string(),
  messageId: z.string(),
  /** The user message this reply answers (already in the session history). */
  userMessageId: z.string(),
  /** Rate-limit subject: the session's userId, else the client's address. */
  subject: z.string(),
  /** The usage ledger's user: the session's userId, or `ip:<address>` for a session without one. */
  userId: z.string().optional(),
  /** The user's plan (from the login or the backend that created the session), for its budgets. */
  plan: z.string().optional(),
  model: z.string(),
  enqueuedAt: z.number(),
  /** When the accepting gateway gives up on the reply (ms since the epoch): a job picked later is dropped. */
  deadlineAt: z.number().optional(),
  /**
   * A regenerated reply: the user asked for another answer to the same context, so it is not read
   * from the response cache nor shared with an identical request in flight.
   */
  fresh: z.boolean().optional(),
  /** W3C trace context carrier, so one trace spans gateway, queue and worker. */
  trace: z.record(z.string(), z.string()).optional(),
});

export type ChatJob = z.infer<typeof ChatJobSchema>;

export const CHAT_JOB_NAME = 'chat';
