/** Jest runs the TypeScript sources as ESM through ts-jest. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.check.json', diagnostics: { ignoreCodes: [151002] } }] },
  testTimeout: 60000,
  maxWorkers: 2,
  // Every test file in a fresh worker: nock (and its HTTP interceptors) patches Node's own modules,
  // and a file's leftover interceptors would answer the next file's requests in a reused worker.
  workerIdleMemoryLimit: '1MB',
};
