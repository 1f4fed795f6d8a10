// Compiles the TypeScript once (like bench/run.mjs) and runs every fuzz target of
// __tests__/fuzz/targets.ts: at least 10,000 cases each, printing cases run, failures, the slowest
// case and the seed; exits 1 on any failure.
//
//   npm run fuzz                                  every target, 10,000 cases, a random seed
//   npm run fuzz -- --runs 50000 --seed 42        more cases, a fixed seed
//   npm run fuzz -- --target plan --seed 42 --path 12:3:1   replay one counterexample
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    target: { type: 'string', multiple: true },
    path: { type: 'string' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive whole number, not ${values.runs}`);
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(values.seed);
if (!Number.isInteger(seed)) {
  console.error(`--seed must be a whole number, not ${values.seed}`);
  process.exit(2);
}

// Replaying one case: keep its whole stack (a stack overflow's cause is at the bottom).
if (values.path !== undefined) Error.stackTraceLimit = Infinity;

const out = '.fuzz/build';
rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.check.json', '--noEmit', 'false', '--outDir', out],
  { stdio: 'inherit' },
);
const { TARGETS, runTarget, CASE_LIMIT_MS } = await import(
  pathToFileURL(resolve(join(out, '__tests__', 'fuzz', 'targets.js'))).href
);

const wanted = values.target ?? [];
const unknown = wanted.filter((w) => !TARGETS.some((t) => t.name === w));
if (unknown.length > 0) {
  console.error(`no fuzz target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const chosen = TARGETS.filter((t) => wanted.length === 0 || wanted.includes(t.name));

console.log(
  `fuzzing ${chosen.length} target(s), ${runs} cases each, seed ${seed}; a case over ${CASE_LIMIT_MS} ms fails\n`,
);
const rows = [];
for (const target of chosen) {
  const started = Date.now();
  const result = runTarget(target, { numRuns: runs, seed, path: values.path });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  rows.push(result);
  console.log(
    `${result.failures ? '✗' : '✓'} ${target.name.padEnd(13)} cases ${String(result.cases).padStart(6)}  failures ${result.failures}  ` +
      `slowest ${String(result.slowestMs).padStart(5)} ms  seed ${result.seed}  (${seconds} s)`,
  );
  console.log(`  ${target.about}`);
  console.log(`  slowest case: ${result.slowest}`);
  if (result.failures) {
    console.log(`  counterexample: ${result.counterexample}`);
    console.log(`  error: ${result.error}`);
    console.log(
      `  replay: npm run fuzz -- --target ${target.name} --seed ${result.seed} --path ${result.path}`,
    );
  }
}
const failed = rows.filter((r) => r.failures > 0);
console.log(
  `\n${failed.length ? `✗ ${failed.length} target(s) failed: ${failed.map((r) => r.name).join(', ')}` : '✓ no failures'} ` +
    `(${rows.reduce((n, r) => n + r.cases, 0)} cases, seed ${seed})`,
);
process.exit(failed.length ? 1 : 0);
