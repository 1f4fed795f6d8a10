import { describe, expect, test } from '@jest/globals';
import { summarizePlan, type PlanSummary } from '../src/core/plan/summary.js';
import { formatDuration } from '../src/core/report/format.js';
import { toRunReport } from '../src/core/report/run-report.js';
import type { SiteGraph } from '../src/core/graph/build.js';
import type { RunResult } from '../src/core/run/runner.js';
import {
  bindingHeader,
  makeReview,
  parseBindingHeader,
  reviewedModule,
  type BindingReview,
} from '../src/core/binding.js';
import {
  renderReport,
  renderSummaryMarkdown,
  renderSummaryText,
  type ModuleReport,
  type RunReport,
} from '../src/core/report/markdown.js';
import type { ModuleStatus } from '../src/core/status.js';

const MARKER = '<!-- site-deploy:client-portal:production -->';

/** A summary made the real way: from a show-json shaped plan. */
function summary(
  changes: [address: string, actions: string[], extra?: Record<string, unknown>][],
): PlanSummary {
  return summarizePlan({
    format_version: '1.2',
    resource_changes: changes.map(([address, actions, extra]) => ({
      address,
      mode: 'managed',
      type: address.split('.').at(-2)?.replace(/\[.*$/, '') ?? 'x',
      change: { actions, before: null, after: {} },
      ...extra,
    })),
  });
}

function report(modules: ModuleReport[], extra: Partial<RunReport> = {}): RunReport {
  return {
    marker: MARKER,
    site: 'client-portal',
    environment: 'production',
    account: '222222222222',
    region: 'us-east-1',
    commit: '0123456789abcdef0123456789abcdef01234567',
    command: 'plan',
    status: 'succeeded',
    modules,
    ...extra,
  };
}

const tableRows = (md: string): string[] => md.split('\n').filter((l) => /^\| (\d+|…) \|/.test(l));

/** 27 modules sharing 5,000 changed resources, unevenly (the largest has 400). */
function bigSite(): RunReport {
  const sizes = Array.from({ length: 27 }, (_, i) => 50 + ((i * 37) % 350));
  const scale = 5000 / sizes.reduce((a, b) => a + b, 0);
  const counts = sizes.map((s) => Math.floor(s * scale));
  counts[0] = (counts[0] ?? 0) + 5000 - counts.reduce((a, b) => a + b, 0);
  const actions = [['create'], ['update'], ['delete'], ['delete', 'create'], ['create', 'delete']];
  const modules = counts.map((n, m) => ({
    name: `module-${String(m).padStart(2, '0')}`,
    type: 'aws-thing',
    weight: (m + 1) * 10,
    status: 'succeeded' as const,
    durationMs: 1000 + m * 17,
    summary: summary(
      Array.from({ length: n }, (_, r) => [
        `module.app.aws_security_group_rule.rule_${m}["ingress-${String(r).padStart(5, '0')}-tcp"]`,
        actions[r % actions.length] ?? ['create'],
      ]),
    ),
  }));
  return report(modules, { planDigest: `sha256:${'ab'.repeat(32)}` });
}

describe('renderReport', () => {
  test('27 modules with 5,000 changed resources stay under 65,536 characters, every module row kept', () => {
    const input = bigSite();
    expect(input.modules.reduce((n, m) => n + (m.summary?.resources.length ?? 0), 0)).toBe(5000);
    const md = renderReport(input);
    expect(md.length).toBeLessThan(65_536);
    expect(md.split('\n')[0]).toBe(MARKER);
    const rows = tableRows(md);
    expect(rows).toHaveLength(27);
    rows.forEach((row, i) => expect(row).toContain(`**module-${String(i).padStart(2, '0')}** (aws-thing)`));
    // It says what it folded, and the folded lists are the largest ones.
    const note = /_Folded (\d+) lists \(([\d,]+) entries\), largest first/.exec(md);
    expect(note).not.toBeNull();
    const folded = input.modules.filter((m) =>
      md.includes(`<b>${m.name}</b>: ${m.summary?.resources.length.toLocaleString('en-US')} entries folded`),
    );
    const kept = input.modules.filter((m) => md.includes(`<summary><b>${m.name}</b>`));
    expect(folded.length).toBe(Number(note?.[1]));
    expect(folded.length + kept.length).toBe(27);
    expect(kept.length).toBeGreaterThan(0);
    const sizeOf = (m: ModuleReport): number => m.summary?.resources.length ?? 0;
    expect(Math.min(...folded.map(sizeOf))).toBeGreaterThanOrEqual(Math.max(...kept.map(sizeOf)));
    expect(folded.reduce((n, m) => n + sizeOf(m), 0).toLocaleString('en-US')).toBe(note?.[2]);
    // Kept lists are whole.
    for (const m of kept) {
      for (const r of m.summary?.resources ?? [])
        expect(md).toContain(
          r.address.replace(/"/g, '&quot;').replace(/_/g, '\\_').replace(/\[/g, '\\[').replace(/\]/g, '\\]'),
        );
    }
    expect(md.split('<details>').length).toBe(md.split('</details>').length);
  });

  test('a smaller limit folds every list, still keeping the whole table', () => {
    const md = renderReport(bigSite(), { maxLength: 8000 });
    expect(md.length).toBeLessThan(8000);
    expect(tableRows(md)).toHaveLength(27);
    expect(md).not.toContain('<details>');
    expect(md).toMatch(/_Folded 2\d lists \(/);
  });

  test('a table longer than the limit on its own loses whole rows from its end, and says so', () => {
    const modules = Array.from({ length: 400 }, (_, i) => ({
      name: `m${i}`,
      weight: i,
      status: 'succeeded' as const,
    }));
    const md = renderReport(report(modules), { maxLength: 10_000 });
    expect(md.length).toBeLessThan(10_000);
    const rows = tableRows(md);
    const last = rows.at(-1) ?? '';
    expect(last).toMatch(/^\| … \| … \| (\d+) more modules not shown: the comment size limit/);
    expect(rows.length - 1 + Number(/(\d+) more modules/.exec(last)?.[1])).toBe(400);
    for (const row of rows) expect(row.split('|')).toHaveLength(9);
  });

  test('nothing is folded when it fits, and every address is listed', () => {
    const s = summary([
      ['aws_db_instance.main', ['delete', 'create'], { action_reason: 'replace_because_cannot_update' }],
      ['aws_instance.web', ['update']],
    ]);
    const md = renderReport(report([{ name: 'database', weight: 20, status: 'succeeded', summary: s }]));
    expect(md).not.toMatch(/folded/i);
    expect(md).toContain('<code>aws\\_db\\_instance.main</code>');
    expect(md).toContain('<code>aws\\_instance.web</code>');
    expect(md).toContain('🔴 high-risk replace');
    expect(md).toContain('replace because cannot update');
  });

  test('header, statuses, counts, marks and links', () => {
    // A plan run: a module that succeeded is shown as planned.
    const statuses: ModuleStatus[] = [
      'succeeded',
      'no-op',
      'failed',
      'halted',
      'skipped',
      'blocked',
      'cancelled',
      'succeeded',
    ];
    const modules: ModuleReport[] = statuses.map((status, i) => ({
      name: `m-${status}`,
      weight: (i + 1) * 10,
      status,
    }));
    modules[0] = {
      ...modules[0]!,
      summary: summary([
        ['a.b', ['create']],
        ['a.c', ['forget']],
        ['a.d', ['no-op'], { change: { actions: ['no-op'], importing: { id: 'i-1' } } }],
      ]),
      durationMs: 65_000,
    };
    modules[2] = { ...modules[2]!, error: 'apply failed: exit 1 | see log', durationMs: 850 };
    modules[5] = { ...modules[5]!, blockedOn: ['networking.vpc_id'] };
    modules[7] = {
      ...modules[7]!,
      mocked: ['networking.vpc_id', 'dns.zone_id'],
      counts: { add: 2, change: 1 },
    };
    const md = renderReport(
      report(modules, {
        runUrl: 'https://github.com/org/repo/actions/runs/42',
        evidenceUrl: 'javascript:alert(1)',
        planDigest: `sha256:${'0f'.repeat(32)}`,
      }),
    );
    const lines = md.split('\n');
    expect(lines[0]).toBe(MARKER);
    for (const fact of [
      '**Site** <code>client-portal</code>',
      '**Environment** <code>production</code>',
      '**Account** <code>222222222222</code>',
      '**Region** <code>us-east-1</code>',
      '**Commit** <code>0123456789ab</code>',
      '**Command** <code>plan</code>',
      '**Status** ✅ succeeded',
    ]) {
      expect(md).toContain(fact);
    }
    const rows = tableRows(md);
    expect(rows).toHaveLength(8);
    const words = [
      '📝 planned',
      'no changes',
      'failed',
      'halted',
      'skipped',
      'blocked',
      'cancelled',
      '📝 planned',
    ];
    rows.forEach((row, i) => expect(row).toContain(words[i]));
    expect(rows[0]).toContain('+1 ~0 −0 ±0 · import 1 · forget 1');
    expect(rows[0]).toContain('1 m 05 s');
    expect(rows[2]).toContain('apply failed: exit 1 &#124; see log');
    expect(rows[5]).toContain('blocked on <code>networking.vpc\\_id</code>');
    expect(rows[7]).toContain('🧪 mocked: <code>networking.vpc\\_id</code>, <code>dns.zone\\_id</code>');
    expect(rows[7]).toContain('+2 ~1 −0 ±0 |');
    expect(rows[3]).toContain('| — | — |'); // halted: no counts, no duration
    expect(md).toContain('**Changes:** +3 ~1 −0 ±0 · import 1 · forget 1 across 8 modules');
    expect(md).toContain('[Workflow run](https://github.com/org/repo/actions/runs/42)');
    expect(md).not.toContain('javascript:');
    expect(md).toContain(`Plan digest: <code>sha256:${'0f'.repeat(32)}</code>`);
    expect(md).toMatch(/#### Policy decisions\n\nNone\./);
    expect(md).toMatch(
      /#### Risks\n\nUnknown: the plan of m-failed, m-cancelled did not complete \(failed or cancelled\), so what they would destroy or replace is not known\./,
    );
  });

  test('on an apply, a module that succeeded is shown as succeeded; a pending one as halted', () => {
    const rows = tableRows(
      renderReport(
        report(
          [
            { name: 'a', weight: 10, status: 'succeeded' },
            { name: 'b', weight: 20, status: 'pending' },
          ],
          { command: 'apply' },
        ),
      ),
    );
    expect(rows[0]).toContain('| ✅ succeeded |');
    expect(rows[1]).toContain('| ⏹️ halted |');
  });

  test('an apply under break-glass opens with a CAUTION block naming the actor, reason and what it overrode', () => {
    const md = renderReport(
      report([], {
        command: 'apply',
        breakGlass: {
          actor: 'release-captain',
          reason: 'INC-4411 *outage* <b>',
          overrides: ['freeze', 'promotion'],
        },
        checks: ['Approval binding: 2 modules with changes matched the plan reviewed on pull request #7'],
      }),
    );
    const lines = md.split('\n');
    const caution = lines.indexOf('> [!CAUTION]');
    expect(caution).toBeGreaterThan(0);
    expect(caution).toBeLessThan(lines.findIndex((l) => l.startsWith('| ')));
    const said = lines[caution + 1] ?? '';
    expect(said).toContain('<code>release-captain</code>');
    expect(said).toContain('overriding freeze and promotion');
    // The reason is the actor's text: it cannot format or inject HTML.
    expect(said).not.toContain('<b>');
    expect(said).not.toMatch(/[^\\]\*outage/);
    expect(md).toContain(
      '- Approval binding: 2 modules with changes matched the plan reviewed on pull request \\#7',
    );
  });

  test('a bare hex plan digest is labelled sha256', () => {
    const md = renderReport(report([], { planDigest: 'ab'.repeat(32) }));
    expect(md).toContain(`Plan digest (sha256): <code>${'ab'.repeat(32)}</code>`);
  });

  test('policy decisions are listed in a table', () => {
    const md = renderReport(
      report([{ name: 'db', weight: 10, status: 'succeeded' }], {
        policy: [
          {
            rule: 'destructive-long-lived',
            result: 'deny',
            severity: 'high',
            message: 'destroys aws_db_instance.main',
          },
          { rule: 'mutable-image-tag', result: 'warn', severity: 'medium', message: 'image uses :latest' },
        ],
      }),
    );
    expect(md).toContain(
      '| ⛔ deny | high | <code>destructive-long-lived</code> | destroys aws\\_db\\_instance.main |',
    );
    expect(md).toContain('| ⚠️ warn | medium | <code>mutable-image-tag</code> | image uses :latest |');
    expect(md).not.toMatch(/Policy decisions\n\nNone/);
  });

  test('addresses and user text cannot break the table or inject HTML', () => {
    const evil = [
      'aws_s3_bucket.b["a|b"]',
      'aws_s3_bucket.b["x`y"]',
      'aws_s3_bucket.b["<script>alert(1)</script>"]',
      'aws_s3_bucket.b["</details><img src=x onerror=alert(1)>"]',
      'aws_s3_bucket.b["&amp; [link](http://x) *em*"]',
    ];
    const s = summary(evil.map((a) => [a, ['delete']]));
    const md = renderReport(
      report(
        [
          {
            name: 'web|<b>x</b>`',
            weight: 10,
            status: 'failed',
            summary: s,
            error: 'boom | `rm -rf` <script>',
            mocked: ['a|b'],
          },
        ],
        {
          site: 'site|`<i>`',
          policy: [
            { rule: 'r|1', result: 'deny', severity: 'x|y', message: 'm | <script>x</script>\nsecond line' },
          ],
        },
      ),
    );
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<img');
    expect(md).not.toContain('<b>x</b>');
    expect(md).not.toContain('`');
    expect(md).not.toMatch(/[^\\]\]\(http/); // only an escaped \](…) remains
    expect(md.split('<details>').length).toBe(2);
    expect(md.split('</details>').length).toBe(2);
    // Every table row has exactly its columns.
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    const moduleRow = tableRows(md)[0] ?? '';
    expect(moduleRow.split('|')).toHaveLength(9);
    const policyRow = rows.find((r) => r.startsWith('| ⛔ deny')) ?? '';
    expect(policyRow.split('|')).toHaveLength(6);
    expect(policyRow).toContain('m &#124; &lt;script&gt;x&lt;/script&gt; second line');
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('a <details> summary line is raw HTML: names are HTML-escaped there, not Markdown-escaped', () => {
    const s = summary([['a.b', ['create']]]);
    const md = renderReport(report([{ name: 'k8s_app<i>', weight: 10, status: 'succeeded', summary: s }]));
    expect(md).toContain('<details><summary><b>k8s_app&lt;i&gt;</b>: 1 entry</summary>');
    expect(tableRows(md)[0]).toContain('**k8s\\_app&lt;i&gt;**');
  });

  test('deterministic: same input, same text', () => {
    const a = renderReport(bigSite());
    const b = renderReport(structuredClone(bigSite()));
    expect(a).toBe(b);
  });

  test('the marker must be a one-line HTML comment', () => {
    expect(() => renderReport(report([], { marker: 'site-deploy:x' }))).toThrow(/one-line HTML comment/);
    expect(() => renderReport(report([], { marker: '<!-- a --> <b>x</b> <!-- b -->' }))).toThrow(
      /one-line HTML comment/,
    );
  });
});

describe('renderSummaryText and renderSummaryMarkdown', () => {
  const s = summarizePlan({
    format_version: '1.2',
    resource_changes: [
      {
        address: 'aws_db_instance.main',
        type: 'aws_db_instance',
        mode: 'managed',
        change: { actions: ['delete', 'create'] },
        action_reason: 'replace_because_cannot_update',
      },
      { address: 'aws_instance.web', type: 'aws_instance', mode: 'managed', change: { actions: ['update'] } },
      {
        address: 'aws_instance.new',
        type: 'aws_instance',
        mode: 'managed',
        change: { actions: ['no-op'] },
        previous_address: 'aws_instance.old',
      },
      {
        address: 'aws_instance.imp',
        type: 'aws_instance',
        mode: 'managed',
        change: { actions: ['no-op'], importing: { id: 'i-1' } },
      },
      {
        address: 'aws_instance.evil["\u001b[31mred"]',
        type: 'aws_instance',
        mode: 'managed',
        change: { actions: ['forget'] },
      },
    ],
    output_changes: {
      url: { actions: ['update'], before_sensitive: false, after_sensitive: false },
      pw: { actions: ['create'], after_sensitive: true },
    },
  });

  test('text: Terraform-style Plan: line, one line per resource, no terminal escapes', () => {
    const text = renderSummaryText(s);
    expect(text.split('\n')[0]).toBe('Plan: 1 to import, 1 to add, 1 to change, 1 to destroy.');
    expect(text).toContain('1 to replace, 1 to forget');
    expect(text).toContain('-/+ aws_db_instance.main  (replace_because_cannot_update)');
    expect(text).toContain('  ~ aws_instance.web\n');
    expect(text).toContain('    aws_instance.imp  (import)');
    expect(text).toContain('  aws_instance.old -> aws_instance.new');
    expect(text).toContain('  create pw (sensitive)');
    expect(text).toContain('high-risk-replace: aws_db_instance.main (aws_db_instance)');
    expect(text).not.toContain('\u001b');
    expect(text).toContain('aws_instance.evil["?[31mred"]  (forget)');
  });

  test('text and markdown for no changes', () => {
    const none = summarizePlan({ format_version: '1.2', planned_values: {}, resource_changes: [] });
    expect(renderSummaryText(none)).toBe('No changes. Your infrastructure matches the configuration.\n');
    expect(renderSummaryMarkdown(none)).toMatch(/^\*\*No changes\.\*\*/);
  });

  test('markdown: counts, a resource table, moves, outputs, risks', () => {
    const md = renderSummaryMarkdown(s);
    expect(md.split('\n')[0]).toBe('**Plan:** +1 ~1 −1 ±1 · import 1 · forget 1');
    expect(md).toContain(
      '| ♻️ replace | <code>aws\\_db\\_instance.main</code> — replace because cannot update |',
    );
    expect(md).toContain('| 📥 import | <code>aws\\_instance.imp</code> |');
    expect(md).toContain('- <code>aws\\_instance.old</code> → <code>aws\\_instance.new</code>');
    expect(md).toContain('- <code>pw</code> (create, sensitive)');
    expect(md).toContain('🔴 high-risk replace <code>aws\\_db\\_instance.main</code>');
    expect(md).not.toContain('\u001b');
  });
});

test.each([
  [0, '0 ms'],
  [999, '999 ms'],
  [1000, '1.0 s'],
  [59_949, '59.9 s'],
  [65_000, '1 m 05 s'],
  [3_600_000, '1 h 00 m'],
  [Number.NaN, '—'],
])('formatDuration(%d) = %s', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

describe('renderReport: the approval binding header', () => {
  /** A show-json shaped plan: `n` resources being created, id and arn known only after apply. */
  function showJson(n: number, prefix: string): unknown {
    return {
      format_version: '1.2',
      resource_changes: Array.from({ length: n }, (_, r) => ({
        address: `module.app.aws_security_group_rule.${prefix}["ingress-${String(r).padStart(5, '0')}-tcp"]`,
        mode: 'managed',
        type: 'aws_security_group_rule',
        change: {
          actions: ['create'],
          before: null,
          after: { from_port: 443, to_port: 443 },
          after_unknown: { id: true, arn: true },
          after_sensitive: {},
        },
      })),
    };
  }

  function binding(modules: ModuleReport[], perModule: (i: number) => number): BindingReview {
    return makeReview({
      site: 'client-portal',
      env: 'production',
      commit: '0123456789abcdef0123456789abcdef01234567',
      created_at: '2025-03-10T12:00:00Z',
      modules: Object.fromEntries(
        modules.map((m, i) => [m.name, reviewedModule(showJson(perModule(i), `r${i}`), { mocked: false })]),
      ),
    });
  }

  test('a plan run writes the header on the line after the marker; it parses back to the review', () => {
    const modules: ModuleReport[] = [
      { name: 'network', weight: 10, status: 'succeeded', summary: summary([['aws_vpc.main', ['create']]]) },
      { name: 'app', weight: 20, status: 'succeeded', mocked: ['network.vpc_id'] },
    ];
    const review = makeReview({
      site: 'client-portal',
      env: 'production',
      commit: '0123456789abcdef0123456789abcdef01234567',
      created_at: '2025-03-10T12:00:00Z',
      modules: {
        network: reviewedModule(showJson(3, 'a'), { mocked: false }),
        app: reviewedModule(showJson(2, 'b'), { mocked: true }),
      },
    });
    const md = renderReport(report(modules, { binding: review, planDigest: review.combined }));
    const lines = md.split('\n');
    expect(lines[0]).toBe(MARKER);
    expect(lines[1]).toBe(bindingHeader(review));
    expect(md.split('site-deploy-binding').length).toBe(2); // once, and only hidden
    expect(parseBindingHeader(md)).toEqual(review);
    expect(md).toContain(`Plan digest: <code>${review.combined}</code>`);
    expect(md).not.toMatch(/binding (reduced|did not fit)/);
  });

  test('no header on an apply run, or without a module digest', () => {
    const review = binding([{ name: 'app', weight: 1, status: 'succeeded' }], () => 1);
    const modules: ModuleReport[] = [{ name: 'app', weight: 1, status: 'succeeded' }];
    expect(renderReport(report(modules, { command: 'apply', binding: review }))).not.toContain(
      'site-deploy-binding',
    );
    const empty = { ...review, modules: {} };
    expect(renderReport(report(modules, { binding: empty }))).not.toContain('site-deploy-binding');
    expect(renderReport(report(modules))).toBe(renderReport(report(modules, { command: 'plan' })));
  });

  test('the header counts toward 65,536: lists fold before it shrinks', () => {
    const input = bigSite();
    // 27 modules, their per-change digests and unknown paths: about 28,000 characters of header.
    input.binding = binding(input.modules, () => 3);
    const header = bindingHeader(input.binding);
    expect(header.length).toBeGreaterThan(15_000);
    const md = renderReport(input);
    expect(md.length).toBeLessThan(65_536);
    expect(md.split('\n')[1] === header).toBe(true); // whole: the lists folded instead (not printed: 28 kB)
    expect(md).toMatch(/_Folded \d+ lists? \(/);
    expect(tableRows(md)).toHaveLength(27);
    expect(renderReport(structuredClone(input))).toBe(md);
  });

  test('a header too big for the comment shrinks: modules left unbound, and a visible line names each', () => {
    const input = bigSite();
    // 3,000 resources × 2 unknown values × 27 modules: far beyond the limit even deflated.
    input.binding = binding(input.modules, () => 3000);
    expect(bindingHeader(input.binding).length).toBeGreaterThan(65_536);
    const md = renderReport(input);
    expect(md.length).toBeLessThan(65_536);
    expect(tableRows(md)).toHaveLength(27);
    const parsed = parseBindingHeader(md);
    expect(parsed).toBeDefined();
    const mods = Object.entries(parsed?.modules ?? {});
    expect(mods).toHaveLength(27);
    expect(mods.every(([, m]) => m.changes === undefined)).toBe(true);
    const unbound = mods.filter(([, m]) => m.unbound === 'unknowns').map(([n]) => n);
    expect(unbound.length).toBeGreaterThan(0);
    // Never compared on shape instead: a module keeps all its unknowns, or is halted at apply.
    for (const [name, m] of mods) {
      expect(m.compare).toBe('values');
      expect(m.unknown.length).toBe(m.unbound ? 0 : input.binding.modules[name]?.unknown.length);
      expect(m.digest).toBe(input.binding.modules[name]?.digest);
    }
    expect(parsed?.combined).toBe(input.binding.combined);
    const first = [...unbound].sort()[0] ?? '';
    expect(md).toContain(
      `module <code>${first}</code>: 6,000 unknown values exceed what the review can hold; apply will halt it`,
    );
    expect(md).toContain('sensitive values bound as a marker, no binding key set');
  });

  test('a limit too small for even the shapes: no header, and the comment says apply will halt', () => {
    const input = bigSite();
    input.binding = binding(input.modules, () => 5);
    const md = renderReport(input, { maxLength: 6000 });
    expect(md.length).toBeLessThan(6000);
    expect(md).not.toContain('site-deploy-binding');
    expect(parseBindingHeader(md)).toBeUndefined();
    expect(md).toContain('The approval binding did not fit in the comment');
  });
});

describe('toRunReport: the binding of a plan run', () => {
  const graph = {} as SiteGraph;
  const ctx = {
    repository: 'acme/portal',
    sha: 'a'.repeat(40),
    ref: 'refs/pull/7/merge',
    runId: '1',
    actor: 'octocat',
  };
  const result = (command: 'plan' | 'apply'): RunResult =>
    ({
      site: 'client-portal',
      environment: 'production',
      command,
      status: 'succeeded',
      modules: [],
    }) as unknown as RunResult;
  const review = makeReview({
    site: 'client-portal',
    env: 'production',
    commit: 'a'.repeat(40),
    created_at: '2025-03-10T12:00:00Z',
    modules: {
      app: reviewedModule(
        { resource_changes: [{ address: 'a.b', change: { actions: ['create'], after: {} } }] },
        { mocked: false },
      ),
    },
  });

  test('a plan carries the review, and its combined normalized digest is the plan digest shown', () => {
    const r = toRunReport(graph, result('plan'), ctx, { binding: review });
    expect(r.binding).toBe(review);
    expect(r.planDigest).toBe(review.combined);
    expect(parseBindingHeader(renderReport(r))).toEqual(review);
  });

  test('an apply never carries one', () => {
    const r = toRunReport(graph, result('apply'), ctx, { binding: review });
    expect(r.binding).toBeUndefined();
    expect(renderReport(r)).not.toContain('site-deploy-binding');
  });
});
