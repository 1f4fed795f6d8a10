// Evidence record cost for one site × environment of the 27-module estate (bench/estate.ts):
// every module planned with 12 resource changes (synthetic plan JSON in Terraform's format, 3 of
// them replacements), summarized and digested as a run does; then the record built, chained to the
// previous one (read back from the folder) and written, as `run` does after the last module.
// The record is an apply's: every module's fresh plan checked against a reviewed one (approval
// binding, all matched) and a passed promotion check.
// Prints the record's size, the time to build + chain + write it (median of many runs, each into
// a folder already holding the previous record), and that time ÷ one `JSON.stringify` of the
// record, measured in the same run; then the binding check of all 27 modules (normalized digest of
// each fresh plan, compared with the review) ÷ one `JSON.parse` of those plans' JSON text.
// Run: node bench/run.mjs evidence
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeRecord } from '../src/adapters/evidence/folder.js';
import { bindingFor } from '../src/commands/binding.js';
import { makeReview, reviewedModule, type ReviewedModule } from '../src/core/binding.js';
import { fsReader } from '../src/adapters/fs-reader.js';
import { buildRecord, configDigest, digestingReader } from '../src/core/evidence/build.js';
import type { EvidencePromotion, EvidenceRun } from '../src/core/evidence/record.js';
import { planDigest } from '../src/core/plan/digest.js';
import { summarizePlan } from '../src/core/plan/summary.js';
import { loadProject } from '../src/core/project.js';
import type { ModuleResult, RunResult } from '../src/core/run/runner.js';
import { generateEstate } from './estate.js';

const RUNS = 200;
const RESOURCES = 12;
const ctx = {
  repository: 'org/repo',
  sha: 'a'.repeat(40),
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'bench',
};

/** A plan JSON document of `n` changes to a module's resources (Terraform's `show -json` shape). */
function planJson(module: string, n: number): unknown {
  const changes = Array.from({ length: n }, (_, i) => {
    const replace = i % 4 === 3;
    return {
      address: `aws_thing.${module}_${i}`,
      mode: 'managed',
      type: 'aws_thing',
      name: `${module}_${i}`,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: replace ? ['delete', 'create'] : ['create'],
        before: replace ? { name: `${module}-${i}`, size: 1, tags: { Site: 'x' } } : null,
        after: { name: `${module}-${i}`, size: 2, tags: { Site: 'x', Env: 'production' }, password: 'p' },
        after_unknown: { id: true, arn: true },
        before_sensitive: replace ? {} : false,
        after_sensitive: { password: true },
      },
    };
  });
  return {
    format_version: '1.2',
    terraform_version: '1.11.0',
    resource_changes: changes,
    output_changes: { id: { actions: ['create'], after_unknown: true } },
    configuration: { root_module: {} },
  };
}

const estate = generateEstate({ sites: 1 });
const out = mkdtempSync(join(tmpdir(), 'sd-bench-evidence-'));
try {
  const site = estate.sites[0]!;
  const env = estate.environments.at(-1)!;
  const reader = digestingReader(fsReader(estate.root));
  const { graph } = loadProject(reader, estate.layout, ctx, site, env);
  const plans = new Map(graph.nodes.map((n) => [n.name, planJson(n.name, RESOURCES)]));
  const reviewed: Record<string, ReviewedModule> = {};
  for (const [name, plan] of plans) reviewed[name] = reviewedModule(plan, { mocked: false });
  const review = makeReview({
    site,
    env,
    commit: 'a'.repeat(40),
    created_at: new Date().toISOString(),
    modules: reviewed,
  });
  const port = {
    reviewed: async () => ({
      review,
      pr: 7,
      commentUrl: 'https://github.com/org/repo/pull/7#issuecomment-1',
      headSha: review.commit,
    }),
  };
  /** The binding check of every module, as apply makes it right before each module applies. */
  const bindAll = async (): Promise<Awaited<ReturnType<typeof bindingFor>>> => {
    const b = await bindingFor(port, site, env, review.commit, 7 * 86_400_000);
    for (const [name, plan] of plans) {
      const refused = b.check(name, plan);
      if (refused) throw new Error(refused);
    }
    return b;
  };
  const binding = (await bindAll()).evidence();
  const promotion: EvidencePromotion = {
    order: ['staging', env],
    required: 'staging',
    release: { commit: 'a'.repeat(40), site_digest: `sha256:${'e'.repeat(64)}` },
    result: 'passed',
    applied_in_required: {
      commit: 'a'.repeat(40),
      status: 'success',
      at: new Date().toISOString(),
      url: 'https://github.com/org/repo/actions/runs/999',
    },
    message: null,
  };
  const modules: ModuleResult[] = graph.nodes.map((n) => {
    const plan = plans.get(n.name);
    const summary = summarizePlan(plan);
    return {
      name: n.name,
      type: n.type,
      weight: n.weight,
      status: 'succeeded',
      durationMs: 12_345,
      mocked: [],
      blockedOn: [],
      summary,
      outputs: {},
      planSha256: 'f'.repeat(64),
      planDigest: planDigest(plan),
      add: summary.add,
      change: summary.change,
      destroy: summary.destroy,
      import: summary.import,
      forget: summary.forget,
      replace: summary.replace,
    } as unknown as ModuleResult;
  });
  const result = {
    site,
    environment: env,
    command: 'apply',
    status: 'succeeded',
    modules,
  } as unknown as RunResult;
  const config = configDigest(reader.digests);
  let n = 0;
  const runFacts = (): EvidenceRun => ({
    repository: 'org/repo',
    pull_request: 7,
    commit: 'a'.repeat(40),
    ref: 'refs/heads/main',
    ref_protected: true,
    actor: 'octocat',
    triggering_actor: 'octocat',
    event: 'push',
    workflow_ref: 'org/repo/.github/workflows/deploy.yml@refs/heads/main',
    id: String(1_000_000 + n++),
    attempt: 1,
    url: `https://github.com/org/repo/actions/runs/${1_000_000 + n}`,
  });
  const once = async (): Promise<{ ms: number; bytes: string }> => {
    const t0 = performance.now();
    const record = buildRecord({
      command: 'apply',
      graph,
      run: runFacts(),
      startedAt: Date.now() - 60_000,
      finishedAt: Date.now(),
      config,
      result,
      binding,
      promotion,
    });
    const w = await writeRecord(out, record);
    return { ms: performance.now() - t0, bytes: w.bytes };
  };
  await once(); // the first record: nothing to chain to
  const times: number[] = [];
  let bytes = '';
  for (let i = 0; i < RUNS; i++) {
    // Each run's folder holds exactly one earlier record, as a site × environment's usually does
    // between two applies of the same job (the folder is fresh on a runner; locally it grows).
    rmSync(join(out, '.site-deploy', 'evidence'), { recursive: true, force: true });
    await once();
    const r = await once();
    times.push(r.ms);
    bytes = r.bytes;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const record = JSON.parse(bytes) as object;
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) JSON.stringify(record);
  const stringify = (performance.now() - t0) / RUNS;
  console.log(`estate: 1 site × ${env}, ${graph.nodes.length} modules × ${RESOURCES} resource changes`);
  console.log(
    `record: ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB), ${Object.keys(config.files).length} config files`,
  );
  console.log(
    `build + chain + write: median ${median.toFixed(2)} ms, p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(2)} ms (${RUNS} runs)`,
  );
  console.log(
    `JSON.stringify of the record: ${stringify.toFixed(3)} ms → ratio ${(median / stringify).toFixed(1)}×`,
  );
  const texts = [...plans.values()].map((p) => JSON.stringify(p));
  const checks: number[] = [];
  const parses: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t1 = performance.now();
    await bindAll();
    checks.push(performance.now() - t1);
    const t2 = performance.now();
    for (const t of texts) JSON.parse(t);
    parses.push(performance.now() - t2);
  }
  const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `binding check of ${plans.size} modules: median ${mid(checks).toFixed(2)} ms; JSON.parse of their plans ${mid(parses).toFixed(3)} ms → ratio ${(mid(checks) / mid(parses)).toFixed(1)}×`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
  estate.cleanup();
}
