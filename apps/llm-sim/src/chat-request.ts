// The body of POST /v1/chat/completions: the fields the simulator uses; unknown ones (temperature, seed…) are ignored.
import { z } from 'zod';

const ContentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });

// OpenAI's own rule for function names; a bad name is a 400 there too.
const FunctionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');

export const ToolCallSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

/** A call the model made, as an assistant message carries it and a response returns it. */
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
});

export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** A message with its tool fields: an assistant's calls, or the call a tool message answers. */
export const ToolMessageSchema = ChatMessageSchema.extend({
  tool_calls: z.array(ToolCallSchema).nullish(),
  tool_call_id: z.string().min(1).optional(),
}).superRefine((message, ctx) => {
  if (message.role === 'tool' && message.tool_call_id === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tool_call_id'], message: 'a tool message needs the tool_call_id it answers' });
  }
});

export type ToolMessage = z.infer<typeof ToolMessageSchema>;

const ToolMessagesSchema = z.array(ToolMessageSchema);

export const FunctionToolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: FunctionName,
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export type FunctionTool = z.infer<typeof FunctionToolSchema>;

const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: FunctionName }) }),
]);

export type ToolChoice = z.infer<typeof ToolChoiceSchema>;

const maxTokens = z.number().int().min(1).nullish();

export const ChatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: maxTokens,
  max_completion_tokens: maxTokens,
  tools: z.array(FunctionToolSchema).min(1).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** A request that involves tools, its messages' tool fields checked. */
export type ToolConversation = Omit<ChatCompletionRequest, 'messages'> & { messages: ToolMessage[] };

/**
 * Checks what only a request that involves tools needs: the messages' tool fields and a named
 * tool_choice. Apart from the schema so requests without tools parse as fast as before.
 */
export function parseToolConversation(
  request: ChatCompletionRequest,
): { success: true; data: ToolConversation } | { success: false; message: string } {
  const choice = request.tool_choice;
  if (typeof choice === 'object' && choice !== null) {
    const { name } = choice.function;
    if (!(request.tools ?? []).some((tool) => tool.function.name === name)) {
      return { success: false, message: `tool_choice: names function "${name}", which is not in tools` };
    }
  }
  const messages = ToolMessagesSchema.safeParse(request.messages);
  if (!messages.success) return { success: false, message: describeIssues(messages.error, ['messages']) };
  return { success: true, data: { ...request, messages: messages.data } };
}

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

/** One readable line from a zod error, e.g. `messages.0.role: Invalid option …`; `at`: where the value parsed sits. */
export function describeIssues(error: z.ZodError, at: readonly PropertyKey[] = []): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [...at, ...issue.path];
      return path.length > 0 ? `${path.map(String).join('.')}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
