import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@chat-fleet/shared';
import { loadSimConfig } from '../src/sim-config.js';

describe('sim config', () => {
  it('gives the defaults, frozen', () => {
    const c = loadSimConfig({});
    expect(c.LLM_SIM_PORT).toBe(8090);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.SIM_TTFT_MS).toBe(150);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses numbers and names a bad variable', () => {
    expect(loadSimConfig({ SIM_FAIL_RATE: '0.25' }).SIM_FAIL_RATE).toBe(0.25);
    expect(() => loadSimConfig({ SIM_FAIL_RATE: '2' })).toThrow(ConfigError);
    expect(() => loadSimConfig({ SIM_FAIL_RATE: '2' })).toThrow(/SIM_FAIL_RATE/);
  });
});
