import { describe, expect, it } from '@jest/globals';
import { RequestLog } from '../src/request-log.js';

const entry = (n: number) => ({ at: `t${n}`, model: 'm', stream: false, messages: [{ role: 'user' as const, content: `${n}` }] });

describe('RequestLog', () => {
  it('keeps the newest entries up to its capacity, oldest first', () => {
    const log = new RequestLog(3);
    for (let i = 1; i <= 5; i++) log.add(entry(i));
    expect(log.last(10).map((e) => e.at)).toEqual(['t3', 't4', 't5']);
    expect(log.last(2).map((e) => e.at)).toEqual(['t4', 't5']);
    expect(log.last(0)).toEqual([]);
  });

  it('empties on clear', () => {
    const log = new RequestLog(3);
    log.add(entry(1));
    log.clear();
    expect(log.last(5)).toEqual([]);
    log.add(entry(2));
    expect(log.last(5).map((e) => e.at)).toEqual(['t2']);
  });
});
