import { describe, expect, it } from '@jest/globals';
import { InFlightRequests } from '../src/in-flight.js';

describe('in-flight requests', () => {
  it('cancels the one request an address has in flight with that id, and only while registered', () => {
    const inFlight = new InFlightRequests();
    const cancelled: string[] = [];
    const done = inFlight.add('10.0.0.1', [3], () => cancelled.push('a'));
    inFlight.add('10.0.0.2', [3], () => cancelled.push('b'));
    expect(inFlight.cancel('10.0.0.1', 3)).toBe('cancelled');
    expect(cancelled).toEqual(['a']);
    // The id's type counts: 3 and "3" are different requests.
    expect(inFlight.cancel('10.0.0.1', '3')).toBe('unknown');
    done();
    expect(inFlight.cancel('10.0.0.1', 3)).toBe('unknown');
  });

  it('ignores a cancel that names two requests', () => {
    const inFlight = new InFlightRequests();
    let cancels = 0;
    inFlight.add('127.0.0.1', [1], () => cancels++);
    inFlight.add('127.0.0.1', [1, 2], () => cancels++);
    expect(inFlight.cancel('127.0.0.1', 1)).toBe('ambiguous');
    expect(inFlight.cancel('127.0.0.1', 2)).toBe('cancelled');
    expect(cancels).toBe(1);
  });
});
