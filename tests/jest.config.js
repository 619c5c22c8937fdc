import base from '../jest.config.base.js';

export default {
  ...base,
  displayName: '@chat-fleet/tests',
  testMatch: ['<rootDir>/integration/**/*.test.ts', '<rootDir>/e2e/**/*.test.ts'],
  // Only the cluster run (jest.cluster.config.js) has a cluster to fault.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/integration/cluster-faults\\.test\\.ts$'],
  globalSetup: '<rootDir>/support/global-setup.ts',
  globalTeardown: '<rootDir>/support/global-teardown.ts',
  testTimeout: 60_000,
};
