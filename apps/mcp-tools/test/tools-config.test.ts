import { expect, test } from '@jest/globals';
import { ConfigError } from '@chat-fleet/shared';
import { loadToolsConfig } from '../src/tools-config.js';

test('the tools server config has its defaults and is frozen', () => {
  const config = loadToolsConfig({});
  expect(config).toEqual({ MCP_TOOLS_PORT: 8100, HOST: '127.0.0.1', LOG_LEVEL: 'info', MCP_TOOLS_TOKEN: undefined, MCP_TOOLS_TEST: false });
  expect(Object.isFrozen(config)).toBe(true);
  expect(loadToolsConfig({ MCP_TOOLS_PORT: '0', MCP_TOOLS_TEST: '1', MCP_TOOLS_TOKEN: ' t0ken ' })).toMatchObject({
    MCP_TOOLS_PORT: 0,
    MCP_TOOLS_TEST: true,
    MCP_TOOLS_TOKEN: 't0ken',
  });
});

test('a bad variable is named in a ConfigError', () => {
  expect(() => loadToolsConfig({ MCP_TOOLS_PORT: '70000' })).toThrow(ConfigError);
  expect(() => loadToolsConfig({ MCP_TOOLS_PORT: '70000' })).toThrow(/MCP_TOOLS_PORT/);
  expect(() => loadToolsConfig({ MCP_TOOLS_TEST: 'maybe' })).toThrow(/MCP_TOOLS_TEST/);
});
