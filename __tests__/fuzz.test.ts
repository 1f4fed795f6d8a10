// Every fuzz target of __tests__/fuzz/targets.ts on a small budget: once from a fixed seed, once
// from a random one that is printed, so a failure can be replayed with `npm run fuzz -- --seed N`.
import { describe, expect, test } from '@jest/globals';
import { CASE_LIMIT_MS, runTarget, TARGETS, type FuzzResult } from './fuzz/targets.js';

/** Cases per target and run: the whole file takes about 25 s on two idle cores. */
const RUNS = 200;
const FIXED_SEED = 20_240_601;
const randomSeed = Math.floor(Math.random() * 0x7fffffff);
/**
 * The hang guard, generous here: Jest runs other test files beside this one on the same cores.
 * `npm run fuzz` holds every case to CASE_LIMIT_MS.
 */
const CASE_LIMIT_IN_JEST_MS = 5 * CASE_LIMIT_MS;

function expectClean(result: FuzzResult): void {
  // The counterexample, the error and the replay path, in the failure message itself.
  expect({
    failures: result.failures,
    counterexample: result.counterexample,
    error: result.error,
    path: result.path,
  }).toEqual({
    failures: 0,
    counterexample: undefined,
    error: undefined,
    path: undefined,
  });
  expect(result.cases).toBe(RUNS);
}

describe.each(TARGETS.map((t) => [t.name, t] as const))('fuzz target %s', (_name, target) => {
  test(`fixed seed ${FIXED_SEED}`, () => {
    expectClean(runTarget(target, { numRuns: RUNS, seed: FIXED_SEED, caseLimitMs: CASE_LIMIT_IN_JEST_MS }));
  });

  test('random seed (printed)', () => {
    console.log(
      `fuzz ${target.name}: random seed ${randomSeed} (replay: npm run fuzz -- --target ${target.name} --seed ${randomSeed} --runs ${RUNS})`,
    );
    expectClean(runTarget(target, { numRuns: RUNS, seed: randomSeed, caseLimitMs: CASE_LIMIT_IN_JEST_MS }));
  });
});
