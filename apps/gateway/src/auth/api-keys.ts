// Keys of trusted callers (CHAT_API_KEYS, ADMIN_API_KEY). Only their SHA-256 digests are kept,
// and a presented key is compared with every one in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export class ApiKeys {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** Whether `presented` is one of the keys; as long whichever key it matches, or none. */
  has(presented: string): boolean {
    const d = digest(presented);
    let found = false;
    for (const key of this.digests) found = timingSafeEqual(key, d) || found;
    return found;
  }
}
