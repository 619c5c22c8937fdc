// Identifier formats: generated ids are UUIDs; client-chosen ids are short and URL-safe.
import { z } from 'zod';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const IdSchema = z.string().regex(ID_PATTERN, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -');

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}
