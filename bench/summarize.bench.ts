// `summarize` on a 50,000-resource plan: time against plain JSON.parse of the same text, and
// peak memory against the file size, each measured in a fresh child process.
// Run: `node bench/run.mjs summarize` (or `npm run bench`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlanJson, summarizePlan, toSummaryJson } from '../src/core/plan/summary.js';

const RESOURCES = 50_000;
const TIME_RUNS = 7;
const self = fileURLToPath(import.meta.url);

/** Deterministic pseudo-random numbers, so every run benches the same plan. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A `terraform show -json` plan shaped like Terraform 1.11's, with realistic before/after objects. */
function syntheticPlan(n: number): string {
  const rand = rng(42);
  const types = [
    'aws_security_group_rule',
    'aws_instance',
    'aws_iam_role_policy',
    'aws_s3_object',
    'aws_route53_record',
  ];
  const mixes: { actions: string[]; reason?: string }[] = [
    { actions: ['create'] },
    { actions: ['update'] },
    { actions: ['no-op'] },
    { actions: ['no-op'] },
    { actions: ['delete'], reason: 'delete_because_no_resource_config' },
    { actions: ['delete', 'create'], reason: 'replace_because_cannot_update' },
    { actions: ['create', 'delete'], reason: 'replace_because_cannot_update' },
    { actions: ['forget'], reason: 'delete_because_no_resource_config' },
  ];
  const changes: unknown[] = [];
  const planned: unknown[] = [];
  const prior: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const type = types[i % types.length] ?? 'aws_instance';
    const module = `module.site_${i % 40}`;
    const address = `${module}.${type}.r["item-${i}"]`;
    const mix = mixes[Math.floor(rand() * mixes.length)] ?? { actions: ['update'] };
    const values = (v: number): Record<string, unknown> => ({
      id: `id-${i}-${v}`,
      arn: `arn:aws:ec2:us-east-1:123456789012:${type}/r-${i.toString(16).padStart(8, '0')}`,
      name: `item-${i}`,
      description: `Managed by site-deploy for item ${i}, revision ${v}`,
      port: 1000 + (i % 5000),
      enabled: i % 2 === 0,
      cidr_blocks: ['10.0.0.0/16', `10.${i % 256}.0.0/24`],
      tags: { Site: 'client-portal', Environment: 'production', Revision: String(v), Owner: 'platform-team' },
      settings: {
        retries: 3,
        timeout_seconds: 30 + v,
        nested: { a: 'x'.repeat(10 + (i % 20)), b: [1, 2, 3] },
      },
    });
    const creates = mix.actions.includes('create');
    const deletes = mix.actions.includes('delete') || mix.actions.includes('forget');
    const before = mix.actions[0] === 'create' && mix.actions.length === 1 ? null : values(1);
    const after = deletes && !creates ? null : values(2);
    changes.push({
      address,
      module_address: module,
      mode: 'managed',
      type,
      name: 'r',
      index: `item-${i}`,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      change: {
        actions: mix.actions,
        before,
        after,
        after_unknown:
          after === null ? false : { id: creates, arn: creates, cidr_blocks: [false, false], tags: {} },
        before_sensitive:
          before === null
            ? false
            : { cidr_blocks: [false, false], tags: {}, settings: { nested: { b: [false, false, false] } } },
        after_sensitive:
          after === null
            ? false
            : { cidr_blocks: [false, false], tags: {}, settings: { nested: { b: [false, false, false] } } },
        ...(mix.actions.length === 2 ? { replace_paths: [['name']] } : {}),
      },
      ...(mix.reason ? { action_reason: mix.reason } : {}),
    });
    const row = {
      address,
      mode: 'managed',
      type,
      name: 'r',
      index: `item-${i}`,
      provider_name: 'registry.terraform.io/hashicorp/aws',
      schema_version: 0,
    };
    if (after !== null)
      planned.push({ ...row, values: after, sensitive_values: { cidr_blocks: [false, false], tags: {} } });
    if (before !== null)
      prior.push({ ...row, values: before, sensitive_values: { cidr_blocks: [false, false], tags: {} } });
  }
  return JSON.stringify({
    format_version: '1.2',
    terraform_version: '1.11.4',
    variables: { environment: { value: 'production' } },
    planned_values: { root_module: { resources: planned } },
    resource_changes: changes,
    output_changes: {
      url: {
        actions: ['update'],
        before: 'a',
        after: 'b',
        after_unknown: false,
        before_sensitive: false,
        after_sensitive: false,
      },
    },
    prior_state: {
      format_version: '1.0',
      terraform_version: '1.11.4',
      values: { root_module: { resources: prior } },
    },
    configuration: { root_module: {} },
    timestamp: '2026-01-01T00:00:00Z',
    applyable: true,
    complete: true,
    errored: false,
  });
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** The CLI path from text to the document `summarize --json` prints. */
function summarizeText(text: string): string {
  return JSON.stringify(toSummaryJson(summarizePlan(parsePlanJson(text))));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Child: reads the file, then measures one operation's peak RSS and heap growth. */
function child(mode: string, path: string): void {
  const text = readFileSync(path, 'utf8');
  gc();
  const rss0 = process.resourceUsage().maxRSS * 1024;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let keep: unknown;
  if (mode === 'parse') keep = JSON.parse(text);
  else keep = summarizeText(text);
  const ms = performance.now() - t0;
  const heap1 = process.memoryUsage().heapUsed;
  const rss1 = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    JSON.stringify({ peakRssGrowth: rss1 - rss0, heapGrowth: heap1 - heap0, ms, kept: typeof keep }),
  );
}

interface ChildResult {
  peakRssGrowth: number;
  heapGrowth: number;
  /** One cold run, as the CLI does it. */
  ms: number;
}

function measureInChild(mode: string, path: string): ChildResult {
  const r = spawnSync(process.execPath, ['--expose-gc', self, 'child', mode, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`memory child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ChildResult;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'sd-bench-'));
  try {
    const path = join(dir, 'plan.json');
    const text = syntheticPlan(RESOURCES);
    writeFileSync(path, text);
    const size = Buffer.byteLength(text);
    const summary = summarizePlan(parsePlanJson(text));
    console.log(
      `plan: ${RESOURCES} resource changes, ${(size / 1e6).toFixed(1)} MB; ` +
        `summary: +${summary.add} ~${summary.change} -${summary.destroy} ±${summary.replace} forget ${summary.forget}`,
    );

    const parseTimes: number[] = [];
    const summarizeTimes: number[] = [];
    for (let i = 0; i < TIME_RUNS; i++) {
      // Alternate, so neither side gets a warmer heap.
      for (const [times, op] of [
        [parseTimes, () => JSON.parse(text) as unknown],
        [summarizeTimes, () => summarizeText(text)],
      ] as const) {
        gc();
        const t0 = performance.now();
        op();
        times.push(performance.now() - t0);
      }
    }
    const tp = median(parseTimes);
    const ts = median(summarizeTimes);
    console.log(
      `JSON.parse median: ${tp.toFixed(0)} ms; summarize median: ${ts.toFixed(0)} ms (${TIME_RUNS} runs each)`,
    );
    console.log(`summarize/JSON.parse time ratio: ${(ts / tp).toFixed(2)} (target <= 1.5)`);

    // Fresh processes, alternating, median of three: one cold run each, as the CLI does it.
    const parseRuns: ChildResult[] = [];
    const summarizeRuns: ChildResult[] = [];
    for (let i = 0; i < 3; i++) {
      parseRuns.push(measureInChild('parse', path));
      summarizeRuns.push(measureInChild('summarize', path));
    }
    const mid = (runs: ChildResult[], key: keyof ChildResult): number => median(runs.map((r) => r[key]));
    const mp = { ms: mid(parseRuns, 'ms'), peakRssGrowth: mid(parseRuns, 'peakRssGrowth') };
    const ms = { ms: mid(summarizeRuns, 'ms'), peakRssGrowth: mid(summarizeRuns, 'peakRssGrowth') };
    console.log(
      `cold, one run in a fresh process (as the CLI), median of 3: JSON.parse ${mp.ms.toFixed(0)} ms, ` +
        `summarize ${ms.ms.toFixed(0)} ms, ratio ${(ms.ms / mp.ms).toFixed(2)}`,
    );
    console.log(
      `JSON.parse alone: peak RSS growth ${(mp.peakRssGrowth / 1e6).toFixed(0)} MB = ${(mp.peakRssGrowth / size).toFixed(2)} x file size`,
    );
    console.log(
      `summarize peak memory / file size: ${(ms.peakRssGrowth / size).toFixed(2)} (target <= 3; peak RSS growth after reading the file)`,
    );
    console.log(
      `summarize peak memory incl. the text / file size: ${((ms.peakRssGrowth + size) / size).toFixed(2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') child(process.argv[3] ?? 'summarize', process.argv[4] ?? '');
else main();
