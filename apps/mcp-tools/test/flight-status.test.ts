import { describe, expect, it } from '@jest/globals';
import { describeFlight, FLIGHT_NUMBER, FLIGHT_STATUSES, flightStatus, FlightStatusSchema } from '../src/tools/flight-status.js';

describe('flight status', () => {
  it('is the same for the same flight, whatever its case', () => {
    expect(flightStatus('ab12')).toEqual(flightStatus('AB12'));
    expect(flightStatus(' AB12 ').flight).toBe('AB12');
  });

  it('has XY123 on time', () => {
    expect(flightStatus('XY123')).toMatchObject({ flight: 'XY123', status: 'on_time', delayMinutes: 0 });
  });

  it('spreads flights over every status, with a delay only when delayed', () => {
    const seen = new Set<string>();
    for (let n = 1; n <= 400; n++) {
      const s = FlightStatusSchema.parse(flightStatus(`QF${n}`));
      seen.add(s.status);
      expect(s.delayMinutes > 0).toBe(s.status === 'delayed');
      expect(s.departureAirport).not.toBe(s.arrivalAirport);
      expect(s.departureTime).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
      expect(s.arrivalTime).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);
      expect(s.gate).toMatch(/^[A-F]([1-9]|[1-3]\d|40)$/);
      // Up to two days later: a late departure westwards over the date line, San Francisco to Sydney.
      expect(s.arrivalDayOffset).toBeGreaterThanOrEqual(-1);
      expect(s.arrivalDayOffset).toBeLessThanOrEqual(2);
    }
    expect([...seen].sort()).toEqual([...FLIGHT_STATUSES].sort());
  });

  it('says each status in a sentence', () => {
    const sentences = new Map<string, string>();
    for (let n = 1; sentences.size < FLIGHT_STATUSES.length; n++) {
      const s = flightStatus(`QF${n}`);
      sentences.set(s.status, describeFlight(s));
    }
    expect(sentences.get('on_time')).toMatch(/ is on time: it departs at \d\d:\d\d from gate \w+ and arrives at \d\d:\d\d/);
    expect(sentences.get('delayed')).toMatch(/ is delayed by \d+ min: scheduled at \d\d:\d\d from gate \w+, now leaving at \d\d:\d\d\.$/);
    expect(sentences.get('boarding')).toMatch(/ is boarding at gate \w+; it departs at/);
    expect(sentences.get('cancelled')).toMatch(/, scheduled at \d\d:\d\d, is cancelled\.$/);
  });

  it('takes two letters or digits and 1-4 digits as a flight number', () => {
    for (const ok of ['XY123', 'xy1', 'U21234', 'LH400', 'X123']) expect(FLIGHT_NUMBER.test(ok)).toBe(true);
    for (const bad of ['XY12345', 'XYZ12', 'XY', 'XY 123', 'XY12a']) expect(FLIGHT_NUMBER.test(bad)).toBe(false);
  });
});
