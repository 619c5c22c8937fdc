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
      mcpToolsPort: 8100,
      mcpServers: undefined,
      redisUrl: 'redis://127.0.0.1:6379',
      redisMode: 'single',
      redisGiven: undefined,
      sentinelMaster: 'chat-fleet',
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
      MCP_TOOLS_PORT: '9300',
      MCP_SERVERS: 'kb=http://kb.internal/mcp',
      REDIS_URL: 'redis://redis.internal:6380/2',
      OPENAI_API_KEY: 'sk-test',
      AUTH_SECRET: 'x'.repeat(32),
      LOG_PRETTY: '0',
    });
    expect(config).toMatchObject({ gateways: 3, workers: 0, port: 9000, metricsPort: 9100, simPort: 9200, mcpToolsPort: 9300 });
    expect(config.mcpServers).toBe('kb=http://kb.internal/mcp');
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
    [{ MCP_TOOLS_PORT: 'x' }, 'MCP_TOOLS_PORT'],
    [{ MCP_TOOLS_PORT: '8088' }, 'MCP_TOOLS_PORT'],
    [{ MCP_TOOLS_PORT: '9464' }, 'MCP_TOOLS_PORT'],
    [{ MCP_TOOLS_PORT: '8090' }, 'MCP_TOOLS_PORT'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ AUTH_SECRET: 'short' }, 'AUTH_SECRET'],
    [{ REDIS_MODE: 'replicated' }, 'REDIS_MODE'],
    [{ REDIS_MODE: 'sentinel', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, 'REDIS_MODE'],
    [{ REDIS_MODE: 'single', REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_MODE'],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:70000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: '127.0.0.1:26379' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_MASTER: 'm', REDIS_CLUSTER_NODES: 'b:2' }, 'REDIS_SENTINELS'],
    [{ REDIS_MODE: 'sentinel', REDIS_SENTINEL_MASTER: 'my master' }, 'REDIS_SENTINEL_MASTER'],
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

  it('REDIS_MODE picks the private Redis; REDIS_CLUSTER_NODES and REDIS_SENTINELS name one to use as it is', () => {
    expect(parseLauncherEnv({ REDIS_MODE: 'cluster' })).toMatchObject({ redisMode: 'cluster', redisGiven: undefined });
    expect(parseLauncherEnv({ REDIS_MODE: 'sentinel', REDIS_SENTINEL_MASTER: 'fleet' })).toMatchObject({
      redisMode: 'sentinel',
      redisGiven: undefined,
      sentinelMaster: 'fleet',
    });
    expect(parseLauncherEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000', REDIS_URL: 'redis://ignored:1' })).toMatchObject({
      redisMode: 'cluster',
      redisGiven: { mode: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }] },
    });
    expect(parseLauncherEnv({ REDIS_MODE: 'sentinel', REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'main' })).toMatchObject({
      redisMode: 'sentinel',
      redisGiven: { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'main' },
    });
  });

  it('ignores the simulator port when OpenAI is used', () => {
    expect(parseLauncherEnv({ LLM_SIM_PORT: '8088', OPENAI_API_KEY: 'sk-x' }).simPort).toBe(8088);
  });

  it('ignores the tools server port when MCP_SERVERS names the servers', () => {
    expect(parseLauncherEnv({ MCP_TOOLS_PORT: '8088', MCP_SERVERS: 'kb=http://kb/mcp' }).mcpToolsPort).toBe(8088);
  });
});
