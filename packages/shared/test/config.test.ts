import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadGatewayConfig, loadWorkerConfig } from '../src/index.js';

describe('config', () => {
  it('gives the contract defaults', () => {
    const g = loadGatewayConfig({});
    expect(g.PORT).toBe(8088);
    expect(g.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(g.MAX_MESSAGE_CHARS).toBe(8000);
    expect(g.SESSION_TTL_SECONDS).toBe(3600);
    expect(g.ALLOWED_ORIGINS).toEqual(['*']);
    const w = loadWorkerConfig({});
    expect(w.CHAT_MODEL).toBe('gpt-4o-mini');
    expect(w.METRICS_PORT).toBe(9464);
    expect([g.HEARTBEAT_MS, w.HEARTBEAT_MS]).toEqual([2000, 2000]);
    expect(Object.isFrozen(g)).toBe(true);
  });

  it('points the worker at the simulator unless a key or URL is given', () => {
    expect(loadWorkerConfig({ LLM_SIM_PORT: '9999' }).openaiBaseUrl).toBe('http://127.0.0.1:9999/v1');
    expect(loadWorkerConfig({ OPENAI_API_KEY: 'sk-x' }).openaiBaseUrl).toBe('https://api.openai.com/v1');
    expect(loadWorkerConfig({ OPENAI_BASE_URL: 'http://vllm:8000/v1' }).openaiBaseUrl).toBe('http://vllm:8000/v1');
  });

  it.each([
    [{ PORT: 'abc' }, /^invalid environment variable PORT: expected an integer from 0 to 65535, got "abc"$/],
    [{ PORT: '70000' }, /PORT/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL: expected a URL/],
    [{ AUTH_SECRET: 'short' }, /AUTH_SECRET: must be at least 32 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ LOG_PRETTY: 'maybe' }, /LOG_PRETTY: expected true or false/],
    [{ REDIS_PREFIX: 'a b' }, /REDIS_PREFIX/],
    [{ HEARTBEAT_MS: '50' }, /HEARTBEAT_MS: expected an integer from 100 to 60000/],
  ])('names the bad variable in one line: %p', (env, message) => {
    let caught: unknown;
    try {
      loadGatewayConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('\n');
  });

  it('parses lists and numbers', () => {
    const g = loadGatewayConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example', PORT: '0' });
    expect(g.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(g.PORT).toBe(0);
  });
});
