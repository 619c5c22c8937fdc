// Generated ids are UUIDs; the formats of ids (ID_PATTERN, IdSchema) are the protocol's.
import { randomUUID } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}
