import base from '../jest.config.base.js';

export default {
  ...base,
  displayName: '@chat-fleet/tests',
  testMatch: ['<rootDir>/integration/**/*.test.ts', '<rootDir>/e2e/**/*.test.ts'],
  globalSetup: '<rootDir>/support/global-setup.ts',
  globalTeardown: '<rootDir>/support/global-teardown.ts',
  testTimeout: 60_000,
};
