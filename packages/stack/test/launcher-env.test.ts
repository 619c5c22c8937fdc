import { ConfigError } from '@chat-fleet/shared';
import { describe, expect, it } from '@jest/globals';
import { parseLauncherEnv } from '../src/launcher-env.js';

describe('parseLauncherEnv', () => {
  it('has the documented defaults', () => {
    expect(parseLauncherEnv({})).toEqual({
      gateways: 2,
      workers: 2,
      port: 8088,
      metricsPort: 9464,
      simPort: 8090,
      redisUrl: 'redis://127.0.0.1:6379',
      openaiApiKey: undefined,
      authSecret: undefined,
      logPrettySet: false,
    });
  });

  it('reads every variable', () => {
    const config = parseLauncherEnv({
      GATEWAYS: '3',
      WORKERS: '0',
      PORT: '9000',
      METRICS_PORT: '9100',
      LLM_SIM_PORT: '9200',
      REDIS_URL: 'redis://redis.internal:6380/2',
      OPENAI_API_KEY: 'sk-test',
      AUTH_SECRET: 'x'.repeat(32),
      LOG_PRETTY: '0',
    });
    expect(config).toMatchObject({ gateways: 3, workers: 0, port: 9000, metricsPort: 9100, simPort: 9200 });
    expect(config.redisUrl).toBe('redis://redis.internal:6380/2');
    expect(config.openaiApiKey).toBe('sk-test');
    expect(config.logPrettySet).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty values as unset', () => {
    expect(parseLauncherEnv({ GATEWAYS: '', PORT: ' ', OPENAI_API_KEY: '' })).toMatchObject({
      gateways: 2,
      port: 8088,
      openaiApiKey: undefined,
    });
  });

  const bad: [Record<string, string>, string][] = [
    [{ GATEWAYS: 'two' }, 'GATEWAYS'],
    [{ GATEWAYS: '0' }, 'GATEWAYS'],
    [{ GATEWAYS: '1.5' }, 'GATEWAYS'],
    [{ WORKERS: '-1' }, 'WORKERS'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '65535', GATEWAYS: '2' }, 'PORT'],
    [{ METRICS_PORT: 'abc' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '8089' }, 'METRICS_PORT'],
    [{ LLM_SIM_PORT: '0' }, 'LLM_SIM_PORT'],
    [{ LLM_SIM_PORT: '8089' }, 'LLM_SIM_PORT'],
    [{ LLM_SIM_PORT: '9465' }, 'LLM_SIM_PORT'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ AUTH_SECRET: 'short' }, 'AUTH_SECRET'],
  ];
  it.each(bad)('%j names %s in one line', (env, variable) => {
    let caught: unknown;
    try {
      parseLauncherEnv(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(new RegExp(`^invalid environment variable ${variable}: [^\\n]+$`));
  });

  it('ignores the simulator port when OpenAI is used', () => {
    expect(parseLauncherEnv({ LLM_SIM_PORT: '8088', OPENAI_API_KEY: 'sk-x' }).simPort).toBe(8088);
  });
});
