import type { Config } from 'jest';

// Tests import workspace packages from source, never from a possibly stale dist/.
const shared = {
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // The OTLP exporter loads node:http with import(), which Jest's sandbox refuses: compiled to require() here.
    'otlp-exporter-base/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!.*@opentelemetry/otlp-exporter-base/)'],
  moduleNameMapper: {
    // `@orch/<name>/testing`: what a package or app offers other packages' tests (its src/testing.ts).
    '^@orch/([a-z-]+)/testing$': ['<rootDir>/packages/$1/src/testing', '<rootDir>/apps/$1/src/testing'],
    '^@orch/([a-z-]+)$': '<rootDir>/packages/$1/src',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/packages/worker-sdk/package/'],
  // The generated publishable SDK: its package.json names @orchestrator/worker too, and none of it is a test.
  modulePathIgnorePatterns: ['<rootDir>/packages/worker-sdk/package/'],
  roots: ['<rootDir>/packages', '<rootDir>/apps', '<rootDir>/bench/src'],
  testEnvironment: 'node',
};

const config: Config = {
  // On a 2-core machine Jest runs every file in one process (in band), one after another. A Cluster client keeps
  // a reconnect timer while its cluster is gone (its retry strategy never gives up, by design for the services), and
  // one such timer left by a test kept a full run from ever exiting after all tests had passed. Each cluster test
  // closes what it made and exits on its own when run alone; this ends the whole run once the results are written.
  forceExit: true,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, '\\.int\\.test\\.ts$'],
    },
    { ...shared, displayName: 'int', testMatch: ['**/*.int.test.ts'] },
  ],
};

export default config;
