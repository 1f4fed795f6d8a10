// Sandbox benchmark: the per-process cost of the step sandbox (own PID + mount namespace, own uid,
// folders lent and given back) against the same process unsandboxed, for a trivial command and
// for `terraform version`. Medians of one run each, interleaved, so they compare like with like.
// - plain: runProcess as an unsandboxed step runs it (spool files, pdeathsig, reaper);
// - bare: runProcess without a spool folder (a plain spawn).
// Needs root (or passwordless sudo); prints why not otherwise. Run with `node bench/run.mjs sandbox`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type ProcessOptions } from '../src/adapters/engines/process.js';
import { probeIsolation, releaseUid, takeUid } from '../src/adapters/engines/sandbox.js';

const ROUNDS = 25;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function timed(o: ProcessOptions): Promise<number> {
  const t = performance.now();
  const r = await runProcess(o);
  if (r.exitCode !== 0) throw new Error(`${o.command} exited ${r.exitCode} ${r.stderrTail.join('\n')}`);
  return performance.now() - t;
}

async function bench(command: string, args: string[]): Promise<void> {
  const probe = probeIsolation();
  const dir = mkdtempSync(join(tmpdir(), 'sd-bench-sbx-'));
  const uid = takeUid();
  const env = { PATH: process.env.PATH ?? '', HOME: dir, CHECKPOINT_DISABLE: '1' };
  const base = { command, args, cwd: dir, env };
  const times = { bare: [] as number[], plain: [] as number[], sandboxed: [] as number[] };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      times.bare.push(await timed(base));
      times.plain.push(await timed({ ...base, spoolDir: dir }));
      times.sandboxed.push(
        await timed({ ...base, spoolDir: dir, sandbox: { uid, prefix: probe.prefix, lend: [dir] } }),
      );
    }
  } finally {
    releaseUid(uid);
    rmSync(dir, { recursive: true, force: true });
  }
  const [bare, plain, sandboxed] = [median(times.bare), median(times.plain), median(times.sandboxed)];
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  console.log(
    `${[command, ...args].join(' ')}: bare ${ms(bare)}, plain step ${ms(plain)}, sandboxed ${ms(sandboxed)} — ` +
      `sandboxed ÷ plain ${(sandboxed / plain).toFixed(2)}, ÷ bare ${(sandboxed / bare).toFixed(2)}, ` +
      `+${ms(sandboxed - plain)} per process (median of ${ROUNDS})`,
  );
}

async function main(): Promise<void> {
  const probe = probeIsolation();
  if (probe.isolation !== 'namespace') {
    console.log(`sandbox unavailable here: ${probe.reason ?? 'unknown'}`);
    return;
  }
  await bench('true', []);
  await bench('terraform', ['version']);
}

await main();
