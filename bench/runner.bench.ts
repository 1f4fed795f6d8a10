// Runner benchmark: 30 command-engine modules (a `plan` script that exits at once, an `apply`
// script that sleeps a known time) applied through runGraph + enginePorts, as the CLI does.
// - weights: makespan against the sum of each wave's longest module (the bound with a whole wave
//   running at once);
// - the runner's own cost per module step: 0-sleep scripts run one at a time, against spawning the
//   same scripts directly;
// - dependencies: the same modules with DAG edges, against the critical path.
// Run with `node bench/run.mjs runner`.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GroupedLog } from '../src/adapters/run/group-log.js';
import { Redactor } from '../src/core/redact.js';
import { fsReader } from '../src/adapters/fs-reader.js';
import { enginePorts } from '../src/adapters/run/steps.js';
import { loadProject } from '../src/core/project.js';
import { runGraph, type RunResult } from '../src/core/run/runner.js';

const run = promisify(execFile);
const MODULES = 30;
const WAVES = 6;
const CTX = {
  repository: 'org/repo',
  sha: '0'.repeat(40),
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'bench',
};

/** Deterministic PRNG (mulberry32): every run benches the same durations and edges. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Mod {
  name: string;
  weight: number;
  /** Seconds the apply script sleeps. */
  sleep: number;
  dependsOn: string[];
}

/** 30 modules over 6 weights (5 each), sleeps 0.10–0.60 s in 0.05 s steps, 0–2 edges to lighter modules. */
function modules(seed: number): Mod[] {
  const next = rng(seed);
  const mods: Mod[] = [];
  for (let i = 0; i < MODULES; i++) {
    const wave = Math.floor(i / (MODULES / WAVES));
    const lighter = mods.filter((m) => m.weight < 10 * (wave + 1));
    const deps = new Set<string>();
    const count = lighter.length === 0 ? 0 : Math.floor(next() * 3);
    for (let k = 0; k < count; k++) deps.add((lighter[Math.floor(next() * lighter.length)] as Mod).name);
    mods.push({
      name: `m${String(i).padStart(2, '0')}`,
      weight: 10 * (wave + 1),
      sleep: 0.1 + Math.round(next() * 10) * 0.05,
      dependsOn: [...deps],
    });
  }
  return mods;
}

/** Writes a repository: one catalog type per module (its own scripts), site `bench`, environment `dev`. */
function writeRepo(mods: Mod[], opts: { ordering: 'weights' | 'dependencies'; zeroSleep: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'sd-bench-runner-'));
  const put = (path: string, text: string, exe = false): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
    if (exe) chmodSync(join(root, path), 0o755);
  };
  for (const m of mods) {
    put(`modules/${m.name}/module.yaml`, 'engine: command\nservices: []\n');
    put(`modules/${m.name}/plan`, '#!/bin/sh\nexit 0\n', true);
    put(
      `modules/${m.name}/apply`,
      opts.zeroSleep ? '#!/bin/sh\nexit 0\n' : `#!/bin/sh\nexec sleep ${m.sleep.toFixed(2)}\n`,
      true,
    );
  }
  const entries = mods.map((m) => {
    const deps =
      opts.ordering === 'dependencies' && m.dependsOn.length
        ? `, depends_on: [${m.dependsOn.join(', ')}]`
        : '';
    return `    - { type: ${m.name}, weight: ${m.weight}${deps} }`;
  });
  put(
    'sites/bench/site.yaml',
    `site:\n  name: bench\n  ordering: ${opts.ordering}\n  modules:\n${entries.join('\n')}\n  environments:\n    - path: environments/dev.yaml\n`,
  );
  put('sites/bench/environments/dev.yaml', 'environment: dev\n');
  return root;
}

/** One apply through runGraph + enginePorts; the clock covers runGraph only. */
async function applyOnce(
  root: string,
  maxParallel: number,
): Promise<{ ms: number; result: RunResult; events: { type: string; name: string; at: number }[] }> {
  const { workspace, graph } = loadProject(
    fsReader(root),
    { configRoot: 'sites', catalog: 'modules' },
    CTX,
    'bench',
    'dev',
  );
  const ports = enginePorts(workspace, graph, {
    root,
    workRoot: join(root, '.site-deploy', 'work'),
    terraformBinary: 'terraform',
    lockTimeout: '30s',
    log: new GroupedLog({ startGroup: () => {}, endGroup: () => {}, write: () => {} }),
    redactor: new Redactor(),
  });
  const events: { type: string; name: string; at: number }[] = [];
  const t0 = performance.now();
  const result = await runGraph(
    workspace,
    graph,
    { mode: 'apply', maxParallel },
    {
      ...ports,
      onEvent: (e) => events.push({ type: e.type, name: e.node.name, at: performance.now() - t0 }),
    },
  );
  const ms = performance.now() - t0;
  if (result.status !== 'succeeded')
    throw new Error(
      `bench run ${result.status}: ${JSON.stringify(result.modules.filter((m) => m.status !== 'succeeded'))}`,
    );
  return { ms, result, events };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (x: number, digits = 2): string => x.toFixed(digits);

async function medianOf(runs: number, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await f());
  return median(xs);
}

/** Longest path through the DAG, each module weighted by its sleep. */
function criticalPathMs(mods: Mod[]): number {
  const finish = new Map<string, number>();
  for (const m of mods) {
    // mods are in weight order and edges point to lighter modules, so upstreams come first.
    const start = Math.max(0, ...m.dependsOn.map((d) => finish.get(d) as number));
    finish.set(m.name, start + m.sleep * 1000);
  }
  return Math.max(...finish.values());
}

async function main(): Promise<void> {
  const mods = modules(42);
  const roots: string[] = [];
  try {
    // weights: each wave waits for its slowest member.
    const waveMax = Array.from({ length: WAVES }, (_, w) =>
      Math.max(...mods.filter((m) => m.weight === 10 * (w + 1)).map((m) => m.sleep * 1000)),
    );
    const waveBound = waveMax.reduce((a, b) => a + b, 0);
    const wRoot = writeRepo(mods, { ordering: 'weights', zeroSleep: false });
    roots.push(wRoot);
    await applyOnce(wRoot, MODULES); // warm-up (file cache, first spawns)
    const wMs = await medianOf(3, async () => (await applyOnce(wRoot, MODULES)).ms);
    console.log(
      `weights: ${MODULES} command modules, ${WAVES} waves, max-parallel ${MODULES}: median makespan ${fmt(wMs, 0)} ms, sum-of-wave-max ${fmt(waveBound, 0)} ms`,
    );
    console.log(`weights: makespan/sum-of-wave-max = ${fmt(wMs / waveBound)} (target <= 1.05)`);
    // The same scripts spawned directly, wave by wave (no runner): what process starts cost on this machine.
    const directMs = await medianOf(3, async () => {
      const t0 = performance.now();
      for (let w = 0; w < WAVES; w++) {
        await Promise.all(
          mods
            .filter((m) => m.weight === 10 * (w + 1))
            .map(async (m) => {
              const cwd = join(wRoot, 'modules', m.name);
              await run(join(cwd, 'plan'), [], { cwd });
              await run(join(cwd, 'apply'), [], { cwd });
            }),
        );
      }
      return performance.now() - t0;
    });
    console.log(
      `weights: the same scripts spawned directly, wave by wave: ${fmt(directMs, 0)} ms; runner/direct = ${fmt(wMs / directMs)}`,
    );
    {
      const { ms, result, events } = await applyOnce(wRoot, MODULES);
      // The same ratio against each module's own measured duration (its two script spawns included):
      // what the scheduling itself costs, whatever process start-up costs on this machine.
      const measured = Array.from({ length: WAVES }, (_, w) =>
        Math.max(...result.modules.filter((m) => m.weight === 10 * (w + 1)).map((m) => m.durationMs)),
      ).reduce((a, b) => a + b, 0);
      console.log(
        `weights: makespan/sum-of-wave-max with measured module durations = ${fmt(ms / measured)} (${fmt(ms, 0)} / ${fmt(measured, 0)} ms; target <= 1.05)`,
      );
      const sleepOf = new Map(mods.map((m) => [m.name, m.sleep * 1000]));
      const extra = result.modules.map((m) => m.durationMs - (sleepOf.get(m.name) as number));
      const gaps: number[] = [];
      for (let w = 1; w < WAVES; w++) {
        const names = (k: number) =>
          new Set(mods.filter((m) => m.weight === 10 * (k + 1)).map((m) => m.name));
        const prev = names(w - 1);
        const cur = names(w);
        const lastFinish = Math.max(
          ...events.filter((e) => e.type === 'finish' && prev.has(e.name)).map((e) => e.at),
        );
        const firstStart = Math.min(
          ...events.filter((e) => e.type === 'start' && cur.has(e.name)).map((e) => e.at),
        );
        gaps.push(firstStart - lastFinish);
      }
      console.log(
        `weights: per step, wall time minus its script's sleep: median ${fmt(median(extra), 0)} ms, max ${fmt(Math.max(...extra), 0)} ms; gap between waves: median ${fmt(median(gaps), 1)} ms`,
      );
    }

    // The runner's own cost per step: 0-sleep scripts one at a time, against the bare scripts.
    const zRoot = writeRepo(mods, { ordering: 'weights', zeroSleep: true });
    roots.push(zRoot);
    await applyOnce(zRoot, 1);
    const serialMs = await medianOf(3, async () => (await applyOnce(zRoot, 1)).ms);
    const bareMs = await medianOf(3, async () => {
      const t0 = performance.now();
      for (const m of mods) {
        await run(join(zRoot, 'modules', m.name, 'plan'), [], { cwd: join(zRoot, 'modules', m.name) });
        await run(join(zRoot, 'modules', m.name, 'apply'), [], { cwd: join(zRoot, 'modules', m.name) });
      }
      return performance.now() - t0;
    });
    const perStep = (serialMs - bareMs) / MODULES;
    console.log(
      `overhead: ${MODULES} 0-sleep modules at max-parallel 1: median ${fmt(serialMs, 0)} ms; the same plan+apply scripts spawned directly: ${fmt(bareMs, 0)} ms`,
    );
    console.log(`overhead: runner cost per module step = ${fmt(perStep, 1)} ms (target < 30 ms)`);
    const parallel = await applyOnce(zRoot, MODULES);
    console.log(
      `overhead: 0-sleep modules, a whole wave at once: makespan ${fmt(parallel.ms, 0)} ms, median step ${fmt(median(parallel.result.modules.map((m) => m.durationMs)), 0)} ms (incl. 2 script spawns)`,
    );

    // dependencies: with enough parallelism the bound is the critical path.
    const critical = criticalPathMs(mods);
    const dRoot = writeRepo(mods, { ordering: 'dependencies', zeroSleep: false });
    roots.push(dRoot);
    await applyOnce(dRoot, MODULES);
    const dMs = await medianOf(3, async () => (await applyOnce(dRoot, MODULES)).ms);
    const edges = mods.reduce((n, m) => n + m.dependsOn.length, 0);
    console.log(
      `dependencies: same modules, ${edges} edges, max-parallel ${MODULES}: median makespan ${fmt(dMs, 0)} ms, critical path ${fmt(critical, 0)} ms`,
    );
    console.log(`dependencies: makespan/critical-path = ${fmt(dMs / critical)} (target <= 1.05)`);
    {
      const { ms, result } = await applyOnce(dRoot, MODULES);
      const took = new Map(result.modules.map((m) => [m.name, m.durationMs]));
      const measuredCritical = criticalPathMs(
        mods.map((m) => ({ ...m, sleep: (took.get(m.name) as number) / 1000 })),
      );
      console.log(
        `dependencies: makespan/critical-path with measured module durations = ${fmt(ms / measuredCritical)} (${fmt(ms, 0)} / ${fmt(measuredCritical, 0)} ms; target <= 1.05)`,
      );
    }
    const dagMs = await medianOf(3, async () => {
      const t0 = performance.now();
      const done = new Map<string, Promise<void>>();
      for (const m of mods) {
        const cwd = join(dRoot, 'modules', m.name);
        done.set(
          m.name,
          Promise.all(m.dependsOn.map((d) => done.get(d))).then(async () => {
            await run(join(cwd, 'plan'), [], { cwd });
            await run(join(cwd, 'apply'), [], { cwd });
          }),
        );
      }
      await Promise.all(done.values());
      return performance.now() - t0;
    });
    console.log(
      `dependencies: the same scripts spawned directly along the DAG: ${fmt(dagMs, 0)} ms; runner/direct = ${fmt(dMs / dagMs)}`,
    );
    console.log(`dependencies vs weights: ${fmt(dMs / wMs)} of the weights makespan`);
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  }
}

await main();
