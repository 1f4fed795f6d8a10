// Sandbox benchmark: the per-process cost of the step sandbox (own PID + mount namespace, own uid,
// folders lent and given back) against the same process unsandboxed, for a trivial command and
// for `terraform version`. Medians of one run each, interleaved, so they compare like with like.
// - plain: runProcess as an unsandboxed step runs it (spool files, pdeathsig, reaper);
// - bare: runProcess without a spool folder (a plain spawn).
// Needs root (or passwordless sudo); prints why not otherwise. Run with `node bench/run.mjs sandbox`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type ProcessOptions } from '../src/adapters/engines/process.js';
import { probeIsolation, releaseUid, takeUid } from '../src/adapters/engines/sandbox.js';
import { TerraformEngine } from '../src/adapters/engines/terraform.js';

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
  await terraformStep();
}

/**
 * A whole Terraform step (plan of a terraform_data module with local state and a kept data folder,
 * so init is skipped as in a repeat run), plain and sandboxed (data folder and plugin cache mounted,
 * state staged in and out), interleaved; the first round of each (the init) is left out.
 */
async function terraformStep(): Promise<void> {
  const probe = probeIsolation();
  const dir = mkdtempSync(join(tmpdir(), 'sd-bench-sbx-tf-'));
  // Passable, not listable, as a sandboxed run's work base is (the step's uid reaches its own folder).
  chmodSync(dir, 0o711);
  const moduleDir = join(dir, 'module');
  mkdirSync(moduleDir);
  writeFileSync(join(moduleDir, 'main.tf'), 'resource "terraform_data" "x" {\n  input = "v"\n}\n');
  const engine = new TerraformEngine();
  const uid = takeUid();
  const times = { plain: [] as number[], sandboxed: [] as number[] };
  const ROUNDS_TF = 9;
  try {
    for (let i = 0; i < ROUNDS_TF; i++)
      for (const how of ['plain', 'sandboxed'] as const) {
        const r = await engine.run({
          mode: 'plan',
          binary: 'terraform',
          moduleDir,
          workDir: join(dir, `work-${how}`),
          dataDir: join(dir, `data-${how}`),
          pluginCacheDir: join(dir, 'plugins'),
          backend: { kind: 'local', path: join(dir, `state-${how}`, 'm.tfstate') },
          lockTimeout: '0s',
          inputs: {},
          env: { PATH: process.env.PATH ?? '', CHECKPOINT_DISABLE: '1' },
          log: () => undefined,
          ...(how === 'sandboxed' ? { sandbox: { uid, prefix: probe.prefix } } : {}),
        });
        if (r.status === 'failed') throw new Error(`terraform step (${how}) failed: ${r.error}`);
        if (i > 0) times[how].push(r.durationMs);
      }
  } finally {
    releaseUid(uid);
    rmSync(dir, { recursive: true, force: true });
  }
  const [plain, sandboxed] = [median(times.plain), median(times.sandboxed)];
  console.log(
    `terraform plan step (init kept): plain ${plain.toFixed(0)} ms, sandboxed ${sandboxed.toFixed(0)} ms — ` +
      `sandboxed ÷ plain ${(sandboxed / plain).toFixed(2)}, +${(sandboxed - plain).toFixed(0)} ms per step (median of ${ROUNDS_TF - 1})`,
  );
}

await main();
