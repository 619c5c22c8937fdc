import { describe, expect, it } from '@jest/globals';
import type { ToolCall } from '@chat-fleet/client';
import { argumentsText, shownState, stateLabel, toolsSummary } from '../src/tool-calls.js';

const call = (state: ToolCall['state'], args: unknown = { flight: 'XY123' }): ToolCall => ({ callId: 'c1', name: 'flight_status', arguments: args, state });
const source = { id: 'p1', title: 'Rebooking policy' };

describe('tool calls as the page words them', () => {
  it('sums a reply up in one line: tools, then sources, "Using" while one runs', () => {
    expect(toolsSummary([call('done'), call('failed')], [source], false)).toEqual([
      { id: 'tools.used', count: 2 },
      { id: 'tools.sources', count: 1 },
    ]);
    expect(toolsSummary([call('running')], [], true)).toEqual([{ id: 'tools.using', count: 1 }]);
    expect(toolsSummary([], [source, { ...source, id: 'p2' }], false)).toEqual([{ id: 'tools.sources', count: 2 }]);
  });

  it('shows arguments as compact JSON, raw text as it is, and cuts long ones', () => {
    expect(argumentsText({ flight: 'XY123', legs: [1, 2] })).toBe('{"flight":"XY123","legs":[1,2]}');
    expect(argumentsText('{not json')).toBe('{not json');
    expect(argumentsText(undefined)).toBe('');
    const long = argumentsText({ q: 'x'.repeat(500) });
    expect(long).toHaveLength(240);
    expect(long.endsWith('…')).toBe(true);
  });

  it('shows a call that never answered before its reply ended as failed, with no answer', () => {
    expect([shownState(call('running'), true), stateLabel(call('running'), true)]).toEqual(['running', 'tools.running']);
    expect([shownState(call('running'), false), stateLabel(call('running'), false)]).toEqual(['failed', 'tools.noAnswer']);
    expect([shownState(call('done'), false), stateLabel(call('done'), false)]).toEqual(['done', 'tools.ok']);
    expect(stateLabel(call('failed'), false)).toBe('tools.failed');
  });
});
