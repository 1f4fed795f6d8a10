// Validation at estate scale: 200 sites × 4 environments × 27 modules, read from disk.
//   (a) a full `validate` of every site and environment,
//   (b) per site × environment: validateProject({ site, env }) + graphDocument (what `graph --json`
//       and every matrix job do first), warm, median and p95,
//   (c) peak memory (RSS sampled by a worker thread, heapUsed sampled on every file read),
//   (d) one site × environment in a fresh process, as a matrix job pays it (JIT cold, schemas compiled).
// Also prints how much of (b) is YAML parsing alone, and CPU time next to wall time (a busy host
// inflates wall time; the load average is printed).
// Run: node bench/run.mjs validate   (BENCH_SITES=N for a smaller estate, KEEP_ESTATE=1 to keep it)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism as availableCores, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { fsReader } from '../src/adapters/fs-reader.js';
import type { ConfigReader } from '../src/core/config/load.js';
import { parseYaml } from '../src/core/yaml.js';
import { formatProblem, Problems } from '../src/core/errors.js';
import { graphDocument } from '../src/core/graph/build.js';
import { validateProject } from '../src/core/project.js';
import { generateEstate, type Estate } from './estate.js';

const TARGET_MS = 5;
const SAMPLE_PAIRS = 100;
const ROUNDS = 3;
const ctx = {
  repository: 'org/repo',
  sha: 'a'.repeat(40),
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'bench',
};
const MiB = 1024 * 1024;
const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

// RSS is process-wide, so a worker can sample it while the main thread is busy in synchronous code.
// [0] = peak RSS in KiB since the last reset, [1] = stop flag, [2] = peak RSS in KiB overall
const shared = new Int32Array(new SharedArrayBuffer(12));
const sampler = new Worker(
  `const { workerData } = require('node:worker_threads');
   const a = new Int32Array(workerData);
   const tick = () => {
     const kib = Math.round(process.memoryUsage.rss() / 1024);
     if (kib > Atomics.load(a, 0)) Atomics.store(a, 0, kib);
     if (kib > Atomics.load(a, 2)) Atomics.store(a, 2, kib);
     if (Atomics.load(a, 1) === 0) setTimeout(tick, 2);
   };
   tick();`,
  { eval: true, workerData: shared.buffer },
);
const resetRss = (): void => void Atomics.store(shared, 0, Math.round(process.memoryUsage.rss() / 1024));
const peakRss = (): number => Atomics.load(shared, 0) * 1024;
const peakRssOverall = (): number => Atomics.load(shared, 2) * 1024;

// heapUsed belongs to the main isolate: sample it from the main thread, on every file read.
let heapPeak = 0;
let heapPeakOverall = 0;
const sampleHeap = (): void => {
  const h = process.memoryUsage().heapUsed;
  if (h > heapPeak) heapPeak = h;
  if (h > heapPeakOverall) heapPeakOverall = h;
};
const sampling = (r: ConfigReader): ConfigReader => ({
  ...r,
  read(path) {
    sampleHeap();
    return r.read(path);
  },
});

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** CPU time of the main thread in ms (whole process before Node 23.9). */
const cpuNow = (): number => {
  const p = process as unknown as { threadCpuUsage?: () => NodeJS.CpuUsage };
  const u = p.threadCpuUsage ? p.threadCpuUsage() : process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const median = (xs: number[]): number =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

/** (a) Validates every site and environment; the first run also proves the estate is valid. */
function fullEstate(estate: Estate, reader: ConfigReader): boolean {
  const pairs = estate.sites.length * estate.environments.length;
  gc();
  resetRss();
  heapPeak = 0;
  let t = performance.now();
  let full: ReturnType<typeof validateProject> | undefined = validateProject(
    sampling(reader),
    estate.layout,
    ctx,
  );
  const coldMs = performance.now() - t;
  sampleHeap();
  const errors = full.problems.filter((p) => p.severity === 'error');
  const warnings = full.problems.length - errors.length;
  if (errors.length > 0 || full.graphs.length !== pairs) {
    console.error(
      `the generated estate does not validate: ${errors.length} errors, ${full.graphs.length}/${pairs} graphs`,
    );
    for (const p of errors.slice(0, 20)) console.error(`  ${formatProblem(p)}`);
    return false;
  }
  const moduleCount = full.graphs.reduce((n, g) => n + g.nodes.length, 0);
  const edgeCount = full.graphs.reduce((n, g) => n + g.nodes.reduce((m, x) => m + x.dependsOn.length, 0), 0);
  const waveCount = full.graphs.reduce((n, g) => n + g.waves.length, 0);
  gc();
  const retained = process.memoryUsage().heapUsed;
  const firstRss = peakRss();
  const firstHeap = heapPeak;
  full = undefined;
  console.log(
    `full validation: ok, 0 errors, ${warnings} warnings; ${pairs} graphs, ${moduleCount} module nodes, ${edgeCount} edges, ${waveCount} waves`,
  );
  const warm: number[] = [];
  const warmCpu: number[] = [];
  for (let i = 0; i < 2; i++) {
    t = performance.now();
    const c = cpuNow();
    validateProject(sampling(reader), estate.layout, ctx);
    warm.push(performance.now() - t);
    warmCpu.push(cpuNow() - c);
  }
  const best = Math.min(...warm);
  console.log(
    `full estate (${pairs} site×envs): ${(coldMs / 1000).toFixed(2)} s → ${(coldMs / pairs).toFixed(2)} ms per site×environment (first run); warm ${(best / 1000).toFixed(2)} s → ${(best / pairs).toFixed(2)} ms per site×environment (main-thread CPU ${(Math.min(...warmCpu) / pairs).toFixed(2)} ms)`,
  );
  console.log(
    `  memory of full validation: first run peak RSS ${mib(firstRss)}, peak heapUsed ${mib(firstHeap)}; over 3 runs peak RSS ${mib(peakRss())}, peak heapUsed ${mib(heapPeak)}; the result (workspace + ${pairs} graphs) retained after GC ${mib(retained)}`,
  );
  return true;
}

/** (b) validateProject({ site, env }) + graphDocument per site × environment, warm. */
function perPair(estate: Estate, reader: ConfigReader): void {
  const pairs = estate.sites.length * estate.environments.length;
  const sample: { site: string; env: string }[] = [];
  for (let k = 0; k < Math.min(SAMPLE_PAIRS, pairs); k++) {
    sample.push({
      site: estate.sites[(k * 37) % estate.sites.length] as string,
      env: estate.environments[k % estate.environments.length] as string,
    });
  }
  const one = (site: string, env: string): { validate: number; graph: number } => {
    const a = performance.now();
    const v = validateProject(reader, estate.layout, ctx, { site, env });
    const b = performance.now();
    const graph = v.graphs[0];
    if (!v.ok || !graph)
      throw new Error(
        `${site}/${env} did not validate: ${v.problems.map((p) => formatProblem(p)).join('; ')}`,
      );
    const p = new Problems();
    const doc = graphDocument(v.workspace, graph, p);
    const c = performance.now();
    if (p.hasErrors || !doc)
      throw new Error(`graphDocument ${site}/${env}: ${p.list.map((x) => formatProblem(x)).join('; ')}`);
    return { validate: b - a, graph: c - b };
  };
  for (const { site, env } of sample.slice(0, 20)) one(site, env); // warm-up
  gc();
  resetRss();
  heapPeak = 0;
  const totals: number[] = [];
  const validates: number[] = [];
  const graphs: number[] = [];
  const cpu0 = cpuNow();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { site, env } of sample) {
      const r = one(site, env);
      totals.push(r.validate + r.graph);
      validates.push(r.validate);
      graphs.push(r.graph);
      sampleHeap();
    }
  }
  const cpuMean = (cpuNow() - cpu0) / totals.length;
  for (const a of [totals, validates, graphs]) a.sort((x, y) => x - y);
  const med = quantile(totals, 0.5);
  const p95 = quantile(totals, 0.95);
  console.log(
    `validate+graph per site×environment: median ${ms(med)}, p95 ${ms(p95)} (target < ${TARGET_MS} ms)${med < TARGET_MS ? ' — median under target' : ' — OVER TARGET'}  [${totals.length} runs over ${sample.length} pairs]`,
  );
  console.log(
    `  CPU time of the main thread: mean ${ms(cpuMean)} per site×environment (less sensitive than wall time to a busy host; load average now ${loadavg()[0]?.toFixed(1)})`,
  );
  console.log(
    `  of which validateProject: median ${ms(quantile(validates, 0.5))}, p95 ${ms(quantile(validates, 0.95))}; graphDocument: median ${ms(quantile(graphs, 0.5))}, p95 ${ms(quantile(graphs, 0.95))}`,
  );
  // RSS rarely shrinks, so this phase inherits the full validation's; the fresh processes of (d) show a job's own peak.
  console.log(`  memory during per-pair runs: peak heapUsed ${mib(heapPeak)}`);

  // Where the time goes: parsing alone (parseYaml) of what one validateProject({ site, env }) reads.
  const site = sample[0]?.site as string;
  const dir = `${estate.layout.configRoot}/${site}`;
  const siteFiles = [
    `${dir}/site.yaml`,
    `${dir}/credentials.yaml`,
    ...estate.environments.map((e) => `${dir}/environments/${e}.yaml`),
    ...['network', 'database', 'cluster'].map((m) => `${dir}/modules/${m}.yaml`),
  ];
  const manifests = (reader.list(estate.layout.catalog) ?? [])
    .filter((e) => e.dir)
    .map((e) => `${estate.layout.catalog}/${e.name}/module.yaml`);
  const parseAll = (files: string[]): number => {
    const bytes = files.map((f) => reader.read(f) ?? new Uint8Array());
    const runs: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      for (const [j, b] of bytes.entries()) parseYaml(b, files[j] as string, new Problems());
      runs.push(performance.now() - t);
    }
    return median(runs.slice(10));
  };
  const size = (files: string[]): string =>
    `${(files.reduce((n, f) => n + (reader.read(f)?.length ?? 0), 0) / 1024).toFixed(1)} KiB`;
  console.log(
    `  YAML parsing alone (parseYaml, warm): ${manifests.length} catalog manifests ${ms(parseAll(manifests))} (${size(manifests)}); the site's ${siteFiles.length} files ${ms(parseAll(siteFiles))} (${size(siteFiles)}; site.yaml alone ${ms(parseAll([siteFiles[0] as string]))})`,
  );
}

/** (d) One site × environment in a fresh process, as a matrix job or `site-deploy graph` runs it. */
function coldProcess(estate: Estate): void {
  const build = join(import.meta.dirname, '..');
  const url = (p: string): string => new URL(`file://${join(build, p)}`).href;
  const script = `
    const t0 = performance.now();
    const { fsReader } = await import(${JSON.stringify(url('src/adapters/fs-reader.js'))});
    const { validateProject } = await import(${JSON.stringify(url('src/core/project.js'))});
    const { graphDocument } = await import(${JSON.stringify(url('src/core/graph/build.js'))});
    const { Problems } = await import(${JSON.stringify(url('src/core/errors.js'))});
    const t1 = performance.now();
    const [root, site, env] = process.argv.slice(1);
    const v = validateProject(fsReader(root), { configRoot: 'sites', catalog: 'modules' }, ${JSON.stringify(ctx)}, { site, env });
    if (!v.ok) process.exit(3);
    graphDocument(v.workspace, v.graphs[0], new Problems());
    const t2 = performance.now();
    console.log(JSON.stringify({ imports: t1 - t0, run: t2 - t1, maxRss: process.resourceUsage().maxRSS * 1024, heap: process.memoryUsage().heapUsed }));`;
  type Run = { imports: number; run: number; maxRss: number; heap: number };
  const runs: Run[] = [];
  for (let i = 0; i < 7; i++) {
    const site = estate.sites[(i * 53) % estate.sites.length] as string;
    const env = estate.environments[i % estate.environments.length] as string;
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', script, estate.root, site, env],
      { encoding: 'utf8' },
    );
    runs.push(JSON.parse(out) as Run);
  }
  console.log(
    `validate+graph of one site×environment in a fresh process (no JIT warm-up): median ${ms(median(runs.map((r) => r.run)))} (+ ${ms(median(runs.map((r) => r.imports)))} loading the modules)  [${runs.length} processes]; peak RSS per process ${mib(Math.max(...runs.map((r) => r.maxRss)))}, heapUsed at exit ${mib(median(runs.map((r) => r.heap)))}`,
  );
}

function main(): number {
  const rssStart = process.memoryUsage.rss();
  const t0 = performance.now();
  const estate = generateEstate({ sites: Number(process.env.BENCH_SITES ?? 200) });
  const genMs = performance.now() - t0;
  const pairs = estate.sites.length * estate.environments.length;
  const count = (re: RegExp): number => estate.paths.filter((p) => re.test(p)).length;
  console.log(
    `estate: ${estate.sites.length} sites × ${estate.environments.length} environments × ${estate.modulesPerSite} modules = ${pairs * estate.modulesPerSite} module instances; ${estate.files} files, ${(estate.bytes / MiB).toFixed(2)} MiB (${estate.bytes} bytes): ${count(/^sites\/[^/]+\/site\.yaml$/)} site.yaml, ${count(/\/environments\//)} environments, ${count(/credentials\.yaml$/)} credentials.yaml, ${count(/^sites\/[^/]+\/modules\//)} config files, ${count(/^modules\//)} catalog files; generated in ${(genMs / 1000).toFixed(2)} s`,
  );
  const siteYaml = readFileSync(join(estate.root, 'sites', estate.sites[0] as string, 'site.yaml'));
  console.log(
    `  one site.yaml: ${siteYaml.length} bytes, ${siteYaml.toString().split('\n').length - 1} lines; node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableCores()} cores`,
  );
  const reader = fsReader(estate.root);
  try {
    if (!fullEstate(estate, reader)) return 1;
    perPair(estate, reader);
    coldProcess(estate);
    console.log(
      `peak RSS ${mib(Math.max(peakRssOverall(), process.resourceUsage().maxRSS * 1024))}, peak heapUsed ${mib(heapPeakOverall)} (whole bench process, estate generation included; at start ${mib(rssStart)})`,
    );
    return 0;
  } finally {
    Atomics.store(shared, 1, 1);
    void sampler.terminate();
    if (process.env.KEEP_ESTATE) console.log(`estate kept at ${estate.root}`);
    else estate.cleanup();
  }
}

process.exitCode = main();
