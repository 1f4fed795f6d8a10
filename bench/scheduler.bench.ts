// Scheduler benchmark: how close real makespans come to their lower bounds, and the cost per node.
// Run with `node bench/run.mjs scheduler`.
import { schedule, waves, type ScheduleNode, type StepOutcome } from '../src/core/graph/scheduler.js';

/** Deterministic PRNG (mulberry32), so every run benchmarks the same graph. */
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 30 nodes over 6 weights (5 per wave), each with 0-2 dependencies on lighter nodes and a 50-300 ms step. */
function site(seed: number): { nodes: ScheduleNode[]; ms: Map<string, number> } {
  const next = rng(seed);
  const nodes: ScheduleNode[] = [];
  const ms = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const weight = Math.floor(i / 5) + 1;
    const lighter = nodes.filter((n) => n.weight < weight);
    const dependsOn = new Set<string>();
    const count = lighter.length === 0 ? 0 : Math.floor(next() * 3);
    for (let k = 0; k < count; k++)
      dependsOn.add((lighter[Math.floor(next() * lighter.length)] as ScheduleNode).id);
    const id = `m${String(i).padStart(2, '0')}`;
    nodes.push({ id, weight, position: i, dependsOn: [...dependsOn] });
    ms.set(id, 50 + Math.round(next() * 250));
  }
  return { nodes, ms };
}

function sleeper(ms: Map<string, number>): (id: string) => Promise<StepOutcome> {
  return async (id) => {
    await sleep(ms.get(id) ?? 0);
    return 'succeeded';
  };
}

/** Longest path through the graph, each node weighted by its step duration. */
function criticalPath(nodes: ScheduleNode[], ms: Map<string, number>): number {
  const finish = new Map<string, number>();
  for (const level of waves(nodes, 'dependencies')) {
    for (const id of level) {
      const node = nodes.find((n) => n.id === id) as ScheduleNode;
      const start = Math.max(0, ...node.dependsOn.map((d) => finish.get(d) ?? 0));
      finish.set(id, start + (ms.get(id) ?? 0));
    }
  }
  return Math.max(...finish.values());
}

async function makespan(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

/** Median makespan of three runs: timers on a busy machine overshoot now and then. */
async function makespan3(run: () => Promise<unknown>): Promise<number> {
  return median([await makespan(run), await makespan(run), await makespan(run)]);
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const { nodes, ms } = site(42);

  // weights: each wave waits for its slowest member, so the bound is the sum of wave maxima.
  const waveBound = waves(nodes, 'weights').reduce(
    (sum, w) => sum + Math.max(...w.map((id) => ms.get(id) ?? 0)),
    0,
  );
  const wMakespan = await makespan3(() =>
    schedule(nodes, sleeper(ms), { maxParallel: 5, haltOnFailure: true, ordering: 'weights' }),
  );
  console.log(
    `weights: 30 nodes, 6 waves, maxParallel 5: median makespan ${fmt(wMakespan, 0)} ms, sum-of-wave-max ${waveBound} ms`,
  );
  console.log(`weights: makespan/sum-of-wave-max = ${fmt(wMakespan / waveBound)} (target <= 1.05)`);

  // dependencies: with enough parallelism the bound is the critical path.
  const critical = criticalPath(nodes, ms);
  const dMakespan = await makespan3(() =>
    schedule(nodes, sleeper(ms), { maxParallel: 30, haltOnFailure: true, ordering: 'dependencies' }),
  );
  console.log(
    `dependencies: same graph, maxParallel 30: median makespan ${fmt(dMakespan, 0)} ms, critical path ${critical} ms`,
  );
  console.log(`dependencies: makespan/critical-path = ${fmt(dMakespan / critical)} (target <= 1.05)`);
  console.log(`dependencies vs weights: ${fmt(dMakespan / wMakespan)} of the weights makespan`);

  // Overhead: zero-duration steps, so all the time is the scheduler's (plus promise plumbing).
  const instant = async (): Promise<StepOutcome> => 'succeeded';
  const big = (count: number, seed: number): ScheduleNode[] => {
    const next = rng(seed);
    return Array.from({ length: count }, (_, i) => ({
      id: `n${i}`,
      weight: Math.floor(i / 100),
      position: i,
      // Up to 3 edges into the previous 100-node band keeps both orderings valid.
      dependsOn:
        i < 100
          ? []
          : [0, 1, 2]
              .filter(() => next() < 0.5)
              .map(() => `n${Math.floor(i / 100 - 1) * 100 + Math.floor(next() * 100)}`),
    }));
  };
  const cases: Array<[string, Parameters<typeof schedule>[2]]> = [
    ['weights, maxParallel 4', { maxParallel: 4, haltOnFailure: true, ordering: 'weights' }],
    ['weights, unbounded', { maxParallel: Infinity, haltOnFailure: true, ordering: 'weights' }],
    ['dependencies, maxParallel 4', { maxParallel: 4, haltOnFailure: true, ordering: 'dependencies' }],
    ['dependencies, unbounded', { maxParallel: Infinity, haltOnFailure: true, ordering: 'dependencies' }],
  ];
  const n = 2000;
  const graph = big(n, 7);
  for (const [name, options] of cases) {
    await schedule(graph, instant, options); // warm-up
    const times: number[] = [];
    for (let r = 0; r < 7; r++) times.push(await makespan(() => schedule(graph, instant, options)));
    console.log(
      `overhead: ${name}: ${fmt((median(times) * 1000) / n, 1)} us/node (${n} zero-duration nodes, median of 7)`,
    );
  }
}

await main();
