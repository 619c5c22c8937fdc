// What may start: every check a new session or message passes before the gateway spends work
// on it (sanitizing, scrubbing, reading the session), cheapest first.
import { ChatError, type CreateSessionBody, type SessionCreationLimit, type SessionStore, type UserRateLimits } from '@chat-fleet/shared';
import type { RoomCheck } from './redis-memory.js';

/** Admission of new work. A refusal throws a ChatError and leaves nothing behind. */
export interface Admission {
  /**
   * Throws `too_large`, `unavailable` (Redis full) or `rate_limited` (sessions per `subject`:
   * the client's address, or `user:<userId>` for an authenticated user).
   */
  admitSession(body: CreateSessionBody, subject: string): Promise<void>;
  /** Remembers a new session's owner, so its messages need no lookup here. */
  sessionCreated(sessionId: string, userId: string | undefined, plan?: string): void;
  /**
   * Throws `unavailable` (Redis full), `not_found` or `rate_limited` (messages per user);
   * else counts the message and resolves with the rate-limit subject it was counted against.
   */
  admitMessage(sessionId: string, clientAddress: string): Promise<string>;
}

export interface ChatAdmissionParts {
  room: RoomCheck;
  sessionsPerAddress: SessionCreationLimit;
  userLimits: UserRateLimits;
  /** Reads a session's owner on a cache miss. */
  sessions: Pick<SessionStore, 'ownerOf'>;
  maxSystemPromptChars: number;
  maxMetadataBytes: number;
  /** Sessions whose owner this gateway remembers. */
  ownerCacheSize?: number;
}

export class ChatAdmission implements Admission {
  /** sessionId → userId ('' when anonymous); a session's owner never changes. Oldest first. */
  private readonly owners = new Map<string, string>();
  private readonly ownerCacheSize: number;

  constructor(private readonly parts: ChatAdmissionParts) {
    this.ownerCacheSize = parts.ownerCacheSize ?? 50_000;
  }

  async admitSession(body: CreateSessionBody, subject: string): Promise<void> {
    const { maxSystemPromptChars, maxMetadataBytes } = this.parts;
    if (body.systemPrompt !== undefined && body.systemPrompt.length > maxSystemPromptChars) {
      throw new ChatError('too_large', `systemPrompt has ${body.systemPrompt.length} characters; the limit is ${maxSystemPromptChars}`);
    }
    if (body.metadata !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(body.metadata));
      if (bytes > maxMetadataBytes) throw new ChatError('too_large', `metadata has ${bytes} bytes as JSON; the limit is ${maxMetadataBytes}`);
    }
    this.parts.room.assertRoom('sessions');
    await this.parts.sessionsPerAddress.admit(subject);
  }

  sessionCreated(sessionId: string, userId: string | undefined): void {
    this.remember(sessionId, userId ?? '');
  }

  async admitMessage(sessionId: string, clientAddress: string): Promise<string> {
    this.parts.room.assertRoom('messages');
    let userId = this.owners.get(sessionId);
    if (userId === undefined) {
      const owner = await this.parts.sessions.ownerOf(sessionId);
      if (owner === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
      userId = owner.userId ?? '';
      this.remember(sessionId, userId);
    }
    const subject = userId !== '' ? `user:${userId}` : `ip:${clientAddress}`;
    await this.parts.userLimits.admitMessage(subject);
    return subject;
  }

  private remember(sessionId: string, userId: string): void {
    this.owners.delete(sessionId);
    this.owners.set(sessionId, userId);
    if (this.owners.size > this.ownerCacheSize) {
      const oldest = this.owners.keys().next();
      if (oldest.done !== true) this.owners.delete(oldest.value);
    }
  }
}
