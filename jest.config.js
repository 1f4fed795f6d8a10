/** Jest runs the TypeScript sources as ESM through ts-jest. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.check.json', diagnostics: { ignoreCodes: [151002] } }] },
  globalSetup: '<rootDir>/__tests__/setup/bundle.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
  // Every test file in a fresh worker. A file that sends real requests through @actions/github's
  // fetch (undici) leaves process-wide state behind — undici's global dispatcher under a
  // Symbol.for key on the shared global is one part of it — and nock in the next file of the same
  // worker then misses requests (faults-github.test.ts before github-check-run.test.ts shows it);
  // each nock file also cleans its interceptors after every test and restores nock after all.
  workerIdleMemoryLimit: '1MB',
};
