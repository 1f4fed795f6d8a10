// `matrix --changed-from` at estate scale: the generated 200 sites × 4 environments × 27 modules in
// a real git repository, and a pull request that changes one environment file, one site.yaml and
// one credentials.yaml (a catalog folder would touch every site: 800 entries, over GitHub's 256).
// Measured in one run, alternating:
//   (a) the bundled CLI in a fresh process, as the matrix job of a workflow pays it;
//   (b) plain `git diff --name-only $(git merge-base main HEAD) HEAD` of the same range;
// and the ratio a ÷ b (target: a < 1 s and ≤ 5×). Also the whole matrix without --changed-from.
// Run with `node bench/run.mjs matrix` (BENCH_SITES=N for a smaller estate).
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateEstate } from './estate.js';

const RUNS = 7;
const CLI = resolve(process.env.SD_TEST_CLI ?? 'dist/cli.js');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function timed(f: () => string): { ms: number; out: string } {
  const t0 = performance.now();
  const out = f();
  return { ms: performance.now() - t0, out };
}

function main(): void {
  const estate = generateEstate({ sites: Number(process.env.BENCH_SITES ?? 200) });
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: estate.root, encoding: 'utf8', maxBuffer: 1 << 28 });
  try {
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'estate');
    git('checkout', '-q', '-b', 'change');
    const [first, second] = estate.sites as [string, string];
    appendFileSync(join(estate.root, 'sites', first, 'environments', 'staging.yaml'), '# reviewed\n');
    appendFileSync(join(estate.root, 'sites', second, 'site.yaml'), '# reviewed\n');
    appendFileSync(join(estate.root, 'sites', second, 'credentials.yaml'), '# reviewed\n');
    git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qam', 'change');

    const cli = (...args: string[]): string =>
      execFileSync(process.execPath, [CLI, 'matrix', '--root', estate.root, '--json', ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
        env: { ...process.env, GITHUB_ACTIONS: '' },
      });
    const diff = (): string => git('diff', '--name-only', git('merge-base', 'main', 'HEAD').trim(), 'HEAD');

    cli('--changed-from', 'main');
    diff();
    const a: number[] = [];
    const b: number[] = [];
    let entries = 0;
    let files = 0;
    for (let i = 0; i < RUNS; i++) {
      const m = timed(() => cli('--changed-from', 'main'));
      a.push(m.ms);
      entries = (JSON.parse(m.out) as { include: unknown[] }).include.length;
      const d = timed(diff);
      b.push(d.ms);
      files = d.out.split('\n').filter(Boolean).length;
    }
    // The whole estate is 800 entries: refused (exit 2, how to split); time to the answer.
    // Its stderr is captured, not shown: the refusal is the expected answer, checked here.
    const full: number[] = [];
    const all = estate.sites.length * estate.environments.length;
    let refusal = '';
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'matrix', '--root', estate.root, '--json'], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
        env: { ...process.env, GITHUB_ACTIONS: '' },
      });
      full.push(performance.now() - t0);
      if (r.status !== 2 || !r.stderr.includes('at most 256 jobs'))
        throw new Error(
          `the whole matrix was not refused as over 256 entries: exit ${r.status}\n${r.stderr}`,
        );
      refusal = r.stderr.split('\n')[0] ?? '';
    }
    const ms = (x: number): string => `${x.toFixed(0)} ms`;
    console.log(
      `  estate: ${estate.sites.length} sites × ${estate.environments.length} environments, ${estate.files} files; change: ${files} files`,
    );
    console.log(
      `  matrix --changed-from (fresh process): median ${ms(median(a))} [${a.map(ms).join(', ')}] → ${entries} of ${all} entries`,
    );
    console.log(
      `  git diff --name-only of the same range: median ${ms(median(b))} [${b.map(ms).join(', ')}]`,
    );
    console.log(`  matrix ÷ git diff: ${(median(a) / median(b)).toFixed(1)}× (target ≤ 5×, and < 1 s)`);
    console.log(
      `  whole matrix (no --changed-from, ${all} entries, refused as over 256, as expected): median ${ms(median(full))}`,
    );
    console.log(`  its expected refusal (exit 2): ${refusal.slice(0, 100)}…`);
  } finally {
    estate.cleanup();
  }
}

main();
