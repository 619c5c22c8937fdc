// Boundary parsing: untrusted input in, a typed value or a `bad_request` ChatError out.
import type { z } from 'zod';
import { ChatError } from './errors.js';
import { ClientFrameSchema, type ClientFrame } from '@chat-fleet/protocol';

const CLIENT_FRAME_TYPES: readonly string[] = ClientFrameSchema.options.map((frame) => frame.shape.type.value);

export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid value';
  const path = issue.path.length > 0 ? issue.path.join('.') : 'value';
  return `${path}: ${issue.message}`;
}

/** Parses `value` with `schema` or throws `bad_request` naming the first bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ChatError('bad_request', `invalid ${what}: ${describeIssues(result.error)}`);
  return result.data;
}

/** Parses one WebSocket text frame. Never throws anything but a `bad_request` ChatError. */
export function parseClientFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ChatError('bad_request', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChatError('bad_request', 'frame must be a JSON object with a "type"');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ChatError('bad_request', 'frame has no "type" string');
  if (!CLIENT_FRAME_TYPES.includes(type)) {
    throw new ChatError('bad_request', `unknown frame type "${type.slice(0, 32)}"; expected one of ${CLIENT_FRAME_TYPES.join(', ')}`);
  }
  return parseOrThrow(ClientFrameSchema, value, `${type} frame`);
}
