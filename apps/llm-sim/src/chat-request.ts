// The body of POST /v1/chat/completions: the fields the simulator uses; unknown ones (temperature, tools…) are ignored.
import { z } from 'zod';

const ContentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });

export const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
});

export type ChatMessage = z.infer<typeof ChatMessageSchema>;

const maxTokens = z.number().int().min(1).nullish();

export const ChatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: maxTokens,
  max_completion_tokens: maxTokens,
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** Minimal message shape accepted by the pure helpers, so callers can pass plain `{ role, content }` objects. */
export interface MessageLike {
  role: string;
  content?: string | readonly { type: string; text?: string }[] | null;
}

/** The text of a message; non-text parts (images, audio) contribute nothing. */
export function messageText(message: MessageLike): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  let text = '';
  for (const part of content) if (part.type === 'text' && part.text !== undefined) text += part.text;
  return text;
}

/** One readable line from a zod error, e.g. `messages.0.role: Invalid option …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
