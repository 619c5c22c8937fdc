// The sidebar's list as values: pages merged without repeats, activity moving a conversation to the
// top, and the search by title.
import { describe, expect, it } from '@jest/globals';
import type { SessionListItem } from '@chat-fleet/client';
import { matching, withActivity, withPage } from '../src/conversation-list.js';

const item = (sessionId: string, title = sessionId, updatedAt = '2026-01-01T00:00:00Z'): SessionListItem => ({ sessionId, title, createdAt: '2026-01-01T00:00:00Z', updatedAt });

describe('the conversation list', () => {
  it('appends a later page and puts a first page read again on top, each conversation once', () => {
    const first = withPage([], [item('c'), item('b')], true);
    const both = withPage(first, [item('b'), item('a')], false);
    expect(both.map((s) => s.sessionId)).toEqual(['c', 'b', 'a']);
    // Read again after `a` had a message elsewhere and `d` was made: they lead, the rest keep their order.
    const again = withPage(both, [item('d', 'new'), item('a', 'A titled')], true);
    expect(again.map((s) => [s.sessionId, s.title])).toEqual([
      ['d', 'new'],
      ['a', 'A titled'],
      ['c', 'c'],
      ['b', 'b'],
    ]);
  });

  it('moves a conversation with activity to the top, adding one it did not know untitled', () => {
    const items = [item('a'), item('b'), item('c')];
    expect(withActivity(items, 'c', '2026-02-01T00:00:00Z').map((s) => [s.sessionId, s.updatedAt])).toEqual([
      ['c', '2026-02-01T00:00:00Z'],
      ['a', '2026-01-01T00:00:00Z'],
      ['b', '2026-01-01T00:00:00Z'],
    ]);
    expect(withActivity(items, 'new', '2026-02-01T00:00:00Z')[0]).toEqual({ sessionId: 'new', title: '', createdAt: '2026-02-01T00:00:00Z', updatedAt: '2026-02-01T00:00:00Z' });
  });

  it('searches titles in any case, by the reader’s language’s rules', () => {
    const items = [item('1', 'Trip to Lyon'), item('2', 'İstanbul notes'), item('3', ''), item('4', 'LYON again')];
    expect(matching(items, '  lyon ', 'en').map((s) => s.sessionId)).toEqual(['1', '4']);
    expect(matching(items, '', 'en')).toBe(items);
    expect(matching(items, 'istanbul', 'tr').map((s) => s.sessionId)).toEqual(['2']);
  });
});
