import { expect, test } from '@jest/globals';
import { ConfigError } from '@chat-fleet/shared';
import { loadSimConfig } from '../src/sim-config.js';

test('the simulator config has its defaults and is frozen', () => {
  expect(loadSimConfig({})).toMatchObject({ LLM_SIM_PORT: 8090, HOST: '127.0.0.1', SIM_TTFT_MS: 150, SIM_SEED: 42 });
  expect(Object.isFrozen(loadSimConfig({}))).toBe(true);
});

test('a bad simulator variable is named in a ConfigError', () => {
  expect(loadSimConfig({ SIM_FAIL_RATE: '0.25' }).SIM_FAIL_RATE).toBe(0.25);
  expect(() => loadSimConfig({ SIM_FAIL_RATE: '2' })).toThrow(ConfigError);
  expect(() => loadSimConfig({ SIM_FAIL_RATE: '2' })).toThrow(/SIM_FAIL_RATE/);
});
