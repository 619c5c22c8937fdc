// What may start: every check a new session or message passes before the gateway spends work
// on it (sanitizing, scrubbing, reading the session), cheapest first.
import {
  quotaExceeded,
  ChatError,
  ledgerUserId,
  type BudgetPolicy,
  type CreateSessionBody,
  type PerMinuteLimit,
  type SessionStore,
  type UsageLedger,
  type UserRateLimits,
} from '@chat-fleet/shared';
import type { RoomCheck } from './redis-memory.js';
import type { BlockCheck } from '../admin/user-blocks.js';

/** Admission of new work. A refusal throws a ChatError and leaves nothing behind. */
export interface Admission {
  /**
   * Throws `too_large`, `unavailable` (Redis full), `forbidden` (`userId`, the ledger's user the
   * session would be for, is blocked) or `rate_limited` (sessions per `subject`: the client's
   * address, or `user:<userId>` for an authenticated user).
   */
  admitSession(body: CreateSessionBody, subject: string, userId: string): Promise<void>;
  /** Remembers a new session's owner, so its messages need no lookup here. */
  sessionCreated(sessionId: string, userId: string | undefined, plan?: string): void;
  /**
   * Throws `unavailable` (Redis full), `not_found`, `forbidden` (the user is blocked),
   * `rate_limited` (messages per user) or `quota_exceeded` (the user's budget is spent); else
   * counts the message and resolves with who it is from.
   */
  admitMessage(sessionId: string, clientAddress: string): Promise<MessageSender>;
}

/** Who a message is from, as the limits and the ledger see it. */
export interface MessageSender {
  /** The per-minute limits' subject: `user:<userId>`, or `ip:<address>` for a session without one. */
  subject: string;
  /** The ledger's user: the session's userId, or `ip:<address>`. */
  userId: string;
  plan: string | undefined;
  /** The session's own userId; undefined for a session created without one. */
  sessionUserId: string | undefined;
}

interface Owner {
  /** '' when the session has no userId. */
  userId: string;
  plan: string | undefined;
}

export interface ChatAdmissionParts {
  room: RoomCheck;
  sessionsPerAddress: PerMinuteLimit;
  userLimits: UserRateLimits;
  /** Reads a session's owner on a cache miss. */
  sessions: Pick<SessionStore, 'ownerOf'>;
  /** The users' budgets; unset or unlimited: not checked. */
  budgets?: { policy: BudgetPolicy; ledger: UsageLedger };
  /** Users an admin blocked; unset: none. */
  blocks?: BlockCheck;
  maxSystemPromptChars: number;
  maxMetadataBytes: number;
  /** Sessions whose owner this gateway remembers. */
  ownerCacheSize?: number;
}

export class ChatAdmission implements Admission {
  /** sessionId → its owner; a session's owner never changes. Oldest first. */
  private readonly owners = new Map<string, Owner>();
  private readonly ownerCacheSize: number;

  constructor(private readonly parts: ChatAdmissionParts) {
    this.ownerCacheSize = parts.ownerCacheSize ?? 50_000;
  }

  async admitSession(body: CreateSessionBody, subject: string, userId: string): Promise<void> {
    const { maxSystemPromptChars, maxMetadataBytes } = this.parts;
    if (body.systemPrompt !== undefined && body.systemPrompt.length > maxSystemPromptChars) {
      throw new ChatError('too_large', `systemPrompt has ${body.systemPrompt.length} characters; the limit is ${maxSystemPromptChars}`);
    }
    if (body.metadata !== undefined) {
      const bytes = Buffer.byteLength(JSON.stringify(body.metadata));
      if (bytes > maxMetadataBytes) throw new ChatError('too_large', `metadata has ${bytes} bytes as JSON; the limit is ${maxMetadataBytes}`);
    }
    this.parts.room.assertRoom('sessions');
    this.assertNotBlocked(userId);
    await this.parts.sessionsPerAddress.admit(subject);
  }

  sessionCreated(sessionId: string, userId: string | undefined, plan?: string): void {
    this.remember(sessionId, { userId: userId ?? '', plan });
  }

  async admitMessage(sessionId: string, clientAddress: string): Promise<MessageSender> {
    this.parts.room.assertRoom('messages');
    let owner = this.owners.get(sessionId);
    if (owner === undefined) {
      const found = await this.parts.sessions.ownerOf(sessionId);
      if (found === undefined) throw new ChatError('not_found', `session ${sessionId} does not exist or has expired`);
      owner = { userId: found.userId ?? '', plan: found.plan };
      this.remember(sessionId, owner);
    }
    const sessionUserId = owner.userId === '' ? undefined : owner.userId;
    const sender: MessageSender = {
      subject: sessionUserId === undefined ? `ip:${clientAddress}` : `user:${sessionUserId}`,
      userId: ledgerUserId(sessionUserId, clientAddress),
      plan: owner.plan,
      sessionUserId,
    };
    // Before the user's limits count the message: a blocked user's refusals cost them nothing.
    this.assertNotBlocked(sender.userId);
    // The user's limits and budget in one round trip. A spent budget is refused before anything
    // is queued; what is left is reserved per reply.
    const budgets = this.parts.budgets;
    const budget = budgets === undefined || budgets.policy.unlimited ? undefined : budgets.policy.budgetFor(sender.plan);
    const [limits, spent] = await Promise.allSettled([
      this.parts.userLimits.admitMessage(sender.subject),
      budget === undefined ? undefined : budgets!.ledger.spent(sender.userId, budget),
    ]);
    if (limits.status === 'rejected') throw limits.reason;
    if (spent.status === 'rejected') throw spent.reason;
    if (spent.value !== undefined && budget !== undefined) throw quotaExceeded(spent.value, budget);
    return sender;
  }

  private assertNotBlocked(userId: string): void {
    if (this.parts.blocks?.isBlocked(userId) === true) throw new ChatError('forbidden', `the user ${userId} is blocked by an administrator`);
  }

  private remember(sessionId: string, owner: Owner): void {
    this.owners.delete(sessionId);
    this.owners.set(sessionId, owner);
    if (this.owners.size > this.ownerCacheSize) {
      const oldest = this.owners.keys().next();
      if (oldest.done !== true) this.owners.delete(oldest.value);
    }
  }
}
