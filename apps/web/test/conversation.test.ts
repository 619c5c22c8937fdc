import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  EMPTY,
  activeReply,
  addUserMessage,
  applyReplyFrame,
  expectReply,
  fromHistory,
  markUnsent,
  openReplies,
  type AssistantMessage,
  type Conversation,
  type ResumePoint,
} from '../src/conversation.js';
import type { ReplyFrame } from '../src/protocol.js';

const token = (messageId: string, seq: number, text: string): ReplyFrame => ({ type: 'token', messageId, seq, text });
const done = (messageId: string, seq: number, finishReason: 'stop' | 'cancelled' = 'stop'): ReplyFrame => ({
  type: 'done',
  messageId,
  seq,
  cached: false,
  usage: { promptTokens: 1, completionTokens: seq },
  finishReason,
});

function apply(c: Conversation, ...frames: ReplyFrame[]): { conversation: Conversation; resumes: ResumePoint[] } {
  const resumes: ResumePoint[] = [];
  for (const f of frames) {
    const r = applyReplyFrame(c, f);
    c = r.conversation;
    if (r.resume) resumes.push(r.resume);
  }
  return { conversation: c, resumes };
}

const reply = (c: Conversation, id: string): AssistantMessage => c.messages.find((m) => m.key === id) as AssistantMessage;

describe('conversation', () => {
  it('reads the stored history: users and replies with their status, no system prompt', () => {
    const c = fromHistory([
      { id: 's', role: 'system', content: 'be brief', createdAt: '' },
      { id: 'u1', role: 'user', content: 'hi', createdAt: '' },
      { id: 'm1', role: 'assistant', content: 'hello', createdAt: '' },
      { id: 'u2', role: 'user', content: 'more', createdAt: '' },
      { id: 'm2', role: 'assistant', content: 'par', createdAt: '', status: 'cancelled' },
    ]);
    expect(c.messages.map((m) => [m.role, m.key, m.text, m.status])).toEqual([
      ['user', 'u1', 'hi', 'sent'],
      ['assistant', 'm1', 'hello', 'done'],
      ['user', 'u2', 'more', 'sent'],
      ['assistant', 'm2', 'par', 'cancelled'],
    ]);
    expect(activeReply(c)).toBeUndefined();
  });

  it('follows a sent message through ack, tokens and done', () => {
    let c = addUserMessage(EMPTY, 'c1', 'hello');
    expect(c.messages[0]).toMatchObject({ status: 'sending' });
    c = expectReply(c, 'm1', 'c1');
    expect(c.messages.map((m) => m.status)).toEqual(['sent', 'waiting']);
    expect(activeReply(c)?.key).toBe('m1');
    const { conversation, resumes } = apply(c, token('m1', 1, 'Hel'), token('m1', 2, 'lo'), done('m1', 2));
    expect(resumes).toEqual([]);
    expect(reply(conversation, 'm1')).toMatchObject({ text: 'Hello', status: 'done', seq: 2 });
    expect(activeReply(conversation)).toBeUndefined();
  });

  it('drops duplicate tokens and asks to resume after a gap instead of applying past it', () => {
    const c = expectReply(EMPTY, 'm1');
    const r = apply(c, token('m1', 1, 'a'), token('m1', 1, 'a'), token('m1', 3, 'c'));
    expect(reply(r.conversation, 'm1')).toMatchObject({ text: 'a', seq: 1 });
    expect(r.resumes).toEqual([{ messageId: 'm1', afterSeq: 1, attempt: 1 }]);
    const early = apply(r.conversation, done('m1', 3));
    expect(reply(early.conversation, 'm1').status).toBe('streaming');
    expect(early.resumes).toEqual([{ messageId: 'm1', afterSeq: 1, attempt: 1 }]);
  });

  it('starts over on reset and resumes in the new attempt', () => {
    const c = apply(expectReply(EMPTY, 'm1'), token('m1', 1, 'old'), { type: 'reset', messageId: 'm1', attempt: 2 }, token('m1', 1, 'new')).conversation;
    expect(reply(c, 'm1')).toMatchObject({ text: 'new', attempt: 2, seq: 1 });
    expect(openReplies(c)).toEqual([{ messageId: 'm1', afterSeq: 1, attempt: 2 }]);
    // A replayed reset of an earlier attempt changes nothing.
    expect(apply(c, { type: 'reset', messageId: 'm1', attempt: 1 }).conversation).toBe(c);
  });

  it('ignores frames after the end and keeps a failed reply with its note', () => {
    let c = apply(expectReply(EMPTY, 'm1'), token('m1', 1, 'x'), done('m1', 1, 'cancelled')).conversation;
    expect(reply(c, 'm1').status).toBe('cancelled');
    expect(apply(c, token('m1', 2, 'y')).conversation).toBe(c);
    c = apply(expectReply(c, 'm2'), token('m2', 1, 'part'), { type: 'error', code: 'upstream_error', message: 'model failed', messageId: 'm2' }).conversation;
    expect(reply(c, 'm2')).toMatchObject({ text: 'part', status: 'error', note: 'model failed' });
  });

  it('follows a reply it did not start, from its first frame', () => {
    const seen = apply(EMPTY, token('m9', 1, 'hi')).conversation;
    expect(reply(seen, 'm9')).toMatchObject({ text: 'hi', status: 'streaming' });
    const late = apply(EMPTY, token('m9', 4, 'later'));
    expect(reply(late.conversation, 'm9')).toMatchObject({ text: '', seq: 0 });
    expect(late.resumes).toEqual([{ messageId: 'm9', afterSeq: 0, attempt: 1 }]);
  });

  it('marks a refused message unsent with the reason', () => {
    const c = markUnsent(addUserMessage(EMPTY, 'c1', 'hi'), 'c1', 'rate limited');
    expect(c.messages[0]).toMatchObject({ status: 'unsent', note: 'rate limited' });
  });

  it('ends with the whole text whatever is duplicated or lost live, resuming like the gateway does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.constantFrom('deliver', 'drop', 'duplicate'), { minLength: 1, maxLength: 80 }),
        (texts, fates) => {
          const frames: ReplyFrame[] = [...texts.map((t, i) => token('m1', i + 1, t)), done('m1', texts.length)];
          let c = expectReply(EMPTY, 'm1');
          const applyOne = (f: ReplyFrame): ResumePoint | undefined => {
            const r = applyReplyFrame(c, f);
            c = r.conversation;
            return r.resume;
          };
          // Live delivery with losses and duplicates; every resume replays what follows its point.
          const resumeFrom = (point: ResumePoint): void => {
            for (const f of frames.slice(point.afterSeq)) applyOne(f);
          };
          frames.forEach((f, i) => {
            const fate = fates[i % fates.length];
            if (fate === 'drop') return;
            const point = applyOne(f);
            if (fate === 'duplicate') applyOne(f);
            if (point) resumeFrom(point);
          });
          // A reconnect resumes whatever is still open.
          for (const point of openReplies(c)) resumeFrom(point);
          const m = reply(c, 'm1');
          expect(m.text).toBe(texts.join(''));
          expect(m.status).toBe('done');
        },
      ),
    );
  });
});
