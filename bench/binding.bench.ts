// Approval binding check cost against plan size: one module of 1k, 10k and 100k resource changes
// (synthetic plan JSON in Terraform's `show -json` shape, each change with a sensitive value and two
// values unknown at review, so the review records 2 unknown paths per resource and every one is
// masked at apply). Prints, per size, the median time of `checkModule` (the fresh plan's digest with
// the unknown paths masked and every known value compared, keyed with a binding key) ÷ the median
// time of one `JSON.parse` of that plan's text, measured in the same run: a flat ratio is linear.
// Run: node bench/run.mjs binding
import { performance } from 'node:perf_hooks';
import { checkModule, reviewedModule } from '../src/core/binding.js';

const KEY = 'bench-binding-key';
const NOW = Date.parse('2025-03-10T12:00:00Z');
const CREATED = '2025-03-10T11:00:00Z';

function planText(n: number): string {
  const resource_changes = Array.from({ length: n }, (_, i) => ({
    address: `module.app.aws_route53_record.r["${i.toString(36).padStart(6, '0')}"]`,
    mode: 'managed',
    type: 'aws_route53_record',
    change: {
      actions: ['create'],
      before: null,
      after: {
        name: `r${i}.example.com`,
        ttl: 300,
        records: [`10.0.${i % 256}.${i % 251}`],
        secret: `s${i}`,
      },
      after_unknown: { id: true, fqdn: true },
      after_sensitive: { secret: true },
    },
  }));
  return JSON.stringify({ format_version: '1.2', resource_changes });
}

function median(runs: number, f: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
}

for (const n of [1_000, 10_000, 100_000]) {
  const text = planText(n);
  const reviewed = reviewedModule(JSON.parse(text), { mocked: false, key: KEY });
  const runs = n >= 100_000 ? 5 : 15;
  const parse = median(runs, () => JSON.parse(text));
  let ok = true;
  const check = median(runs, () => {
    const plan: unknown = JSON.parse(text);
    ok = checkModule(reviewed, plan, NOW, CREATED, 86_400_000, 'app', { key: KEY }).ok && ok;
  });
  const checkOnly = Math.max(check - parse, 0);
  console.log(
    `${n.toLocaleString('en-US').padStart(7)} resources, ${reviewed.unknown.length.toLocaleString('en-US')} unknown paths: ` +
      `JSON.parse ${parse.toFixed(1)} ms, checkModule ${checkOnly.toFixed(1)} ms, ratio ${(checkOnly / parse).toFixed(1)}${ok ? '' : ' (NOT ok)'}`,
  );
}
