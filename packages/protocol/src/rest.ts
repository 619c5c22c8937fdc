// REST request and response bodies.
import { z } from 'zod';
import { IdSchema } from './ids.js';
import { ERROR_CODES } from './errors.js';
import { UsageSchema } from './usage.js';
import { SourceSchema } from './server-frames.js';

export const MetadataSchema = z
  .record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata keys');

/** A user's id: a label in anonymous mode, a user token's `sub` in jwt mode. */
export const UserIdSchema = z.string().min(1).max(128);

/** A user's plan (a user token's plan claim, or what a backend with an API key says). */
export const PlanSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected 1-64 characters of A-Z, a-z, 0-9, _, ., : or -');

/**
 * A language as a BCP 47 tag (`es`, `zh-CN`, `ar`), at most 35 characters; read in its canonical
 * form (`zh-cn` is `zh-CN`).
 */
export const LocaleSchema = z
  .string()
  .max(35)
  .transform((tag, ctx) => {
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical !== undefined) return canonical;
    } catch {
      // Not a well-formed tag: reported below.
    }
    ctx.addIssue({ code: 'custom', message: 'expected a BCP 47 language tag, e.g. es or zh-CN' });
    return z.NEVER;
  });

export const CreateSessionBodySchema = z.object({
  userId: UserIdSchema.optional(),
  /** Only with an API key (`forbidden` otherwise): the user's plan, stored with the session. */
  plan: PlanSchema.optional(),
  /** Bounded by MAX_SYSTEM_PROMPT_CHARS at the gateway (`too_large`), not here. */
  systemPrompt: z.string().optional(),
  metadata: MetadataSchema.optional(),
  /** Extension (issue 20): the language the model is asked to answer in, unless the system prompt says otherwise. */
  locale: LocaleSchema.optional(),
});

export const CreateSessionResponseSchema = z.object({
  sessionId: z.string(),
  token: z.string(),
  expiresAt: z.string(),
});

export const MessageRoleSchema = z.enum(['system', 'user', 'assistant']);

export const StoredToolCallSchema = z.object({
  step: z.number().int().nonnegative(),
  callId: z.string(),
  name: z.string(),
  /** The arguments as the model wrote them (JSON text). */
  arguments: z.string(),
  ok: z.boolean(),
  /** What the model was given back (capped). */
  result: z.string(),
});

export const StoredMessageSchema = z.object({
  id: z.string(),
  role: MessageRoleSchema,
  content: z.string(),
  createdAt: z.string(),
  /** Absent for whole replies; `cancelled` or `error` for partial ones. */
  status: z.enum(['cancelled', 'error']).optional(),
  /**
   * Extension (issue 18): the tool calls an assistant reply made, in the order the model made
   * them (`step` counts the model's turns from 0), with what each returned to the model, so a
   * follow-up question has them.
   */
  tools: z.array(StoredToolCallSchema).optional(),
  /** Extension (issue 18): the sources the reply was given. */
  sources: z.array(SourceSchema).optional(),
});

export const SessionViewSchema = z.object({
  sessionId: z.string(),
  createdAt: z.string(),
  /** One page, oldest first: the newest messages, or those before `?before=`. */
  messages: z.array(StoredMessageSchema),
  /** Extension: older messages remain; ask again with `?before=<nextBefore>`. */
  hasMore: z.boolean().optional(),
  /** Extension: the id of the oldest message of this page, when hasMore. */
  nextBefore: z.string().optional(),
  /** Extension (issue 20): the session's title, `""` before its first message. */
  title: z.string().optional(),
  /** Extension (issue 20): the session's language, when it was created with one. */
  locale: z.string().optional(),
});

/** A session in its user's list (`GET /chat/sessions`). */
export const SessionListItemSchema = z.object({
  sessionId: z.string(),
  /** From the first message (scrubbed, at most 60 characters) or a rename; `""` before the first message. */
  title: z.string(),
  createdAt: z.string(),
  /** The last activity: creation, or the last accepted message. */
  updatedAt: z.string(),
});

/** `GET /chat/sessions?limit=&before=`: newest activity first. */
export const SessionListSchema = z.object({
  sessions: z.array(SessionListItemSchema),
  /** More remain: ask again with `?before=<nextBefore>`. */
  nextBefore: z.string().optional(),
});

/** `PATCH /chat/session/:id`. The gateway trims it, strips control characters and scrubs it like a message; 1-120 characters. */
export const RenameSessionBodySchema = z.object({
  title: z.string(),
});

export const RenameSessionResponseSchema = z.object({
  sessionId: z.string(),
  title: z.string(),
});

/** A user message (`content`), or `regenerate: true` (no content) to answer the last user message again. */
export const PostMessageBodySchema = z
  .object({
    sessionId: IdSchema,
    content: z.string().optional(),
    regenerate: z.literal(true).optional(),
  })
  .refine((b) => (b.content === undefined) !== (b.regenerate === undefined), 'send content, or regenerate: true without content');

export const PostMessageResponseSchema = z.object({
  messageId: z.string(),
  reply: z.string(),
  cached: z.boolean(),
  usage: UsageSchema,
  finishReason: z.string().optional(),
  /** Extension (issue 18): the tools the reply called, with their outcome. */
  tools: z.array(z.object({ callId: z.string(), name: z.string(), arguments: z.unknown(), ok: z.boolean().optional(), summary: z.string().optional() })).optional(),
  /** Extension (issue 18): the sources the reply was given. */
  sources: z.array(SourceSchema).optional(),
});

export const HealthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  redis: z.enum(['up', 'down']),
  instance: z.string(),
  connections: z.number().int().nonnegative(),
  sessions: z.number().int().nonnegative(),
});

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
});

export type CreateSessionBody = z.infer<typeof CreateSessionBodySchema>;
export type CreateSessionResponse = z.infer<typeof CreateSessionResponseSchema>;
export type MessageRole = z.infer<typeof MessageRoleSchema>;
export type StoredToolCall = z.infer<typeof StoredToolCallSchema>;
export type StoredMessage = z.infer<typeof StoredMessageSchema>;
export type SessionView = z.infer<typeof SessionViewSchema>;
export type SessionListItem = z.infer<typeof SessionListItemSchema>;
export type SessionList = z.infer<typeof SessionListSchema>;
export type RenameSessionBody = z.infer<typeof RenameSessionBodySchema>;
export type RenameSessionResponse = z.infer<typeof RenameSessionResponseSchema>;
export type PostMessageBody = z.infer<typeof PostMessageBodySchema>;
export type PostMessageResponse = z.infer<typeof PostMessageResponseSchema>;
export type HealthResponse = z.infer<typeof HealthResponseSchema>;
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
