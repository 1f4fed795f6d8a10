// Minimal counterexamples of the crashes and hangs the fuzz targets (__tests__/fuzz/targets.ts)
// found, and of those found while sizing their generators: each must end in the project's own
// error or a result, never a JavaScript exception, a stack overflow or a wait of minutes.
import { describe, expect, test } from '@jest/globals';
import { parseYaml } from '../src/core/yaml.js';
import { Problems, SiteDeployError } from '../src/core/errors.js';
import { PlaceholderError } from '../src/core/placeholders/parse.js';
import {
  MAX_RESOLVED_NODES,
  resolveTemplate,
  resolveValue,
  type PathError,
  type ResolveScope,
} from '../src/core/placeholders/resolve.js';
import { renderSummaryMarkdown, renderSummaryText } from '../src/core/report/markdown.js';
import { PlanFormatError, parsePlanJson, summarizePlan } from '../src/core/plan/summary.js';
import { loadProject, validateProject } from '../src/core/project.js';
import { baseRepo, memoryReader } from './helpers/repo.js';

const LAYOUT = { configRoot: 'sites', catalog: 'modules' };
const CTX = { repository: 'org/repo', sha: 'a'.repeat(40), ref: 'refs/heads/main', runId: '1', actor: 'me' };

/** A JSON list nested `depth` levels around `leaf`, as text (JSON.parse takes any depth). */
const nestedJson = (depth: number, leaf: string): string => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('plan summary', () => {
  test('format_version nested 5,000 lists deep is a plan format error, not a stack overflow', () => {
    // fuzz target plan: {"op":"deep","at":0,"depth":3134} (String() of the list recursed in Array#join)
    const text = `{"format_version":${nestedJson(5000, 'null')},"resource_changes":[]}`;
    const e = thrown(() => summarizePlan(parsePlanJson(text)));
    expect(e).toBeInstanceOf(PlanFormatError);
    expect((e as PlanFormatError).code).toBe('bad-input');
    expect((e as Error).message).toMatch(/^unsupported plan format_version a list: site-deploy reads 1\.x/);
  });

  test('a *_sensitive tree nested 100,000 deep still marks its output sensitive', () => {
    // fuzz target plan: {"op":"deep","depth":3921} inside output_changes (anySensitive recursed)
    const text =
      `{"format_version":"1.2","output_changes":{"token":{"actions":["update"],"before":"a","after":"b",` +
      `"before_sensitive":${nestedJson(100_000, 'false')},"after_sensitive":${nestedJson(100_000, 'true')}}}}`;
    const s = summarizePlan(parsePlanJson(text));
    expect(s.outputChanges).toEqual([{ name: 'token', actions: ['update'], sensitive: true }]);
    expect(renderSummaryText(s)).toContain('update token (sensitive)');
  });

  test('a plan destroying 150,000 resources renders: no list is spread into one call', () => {
    const resource_changes = Array.from({ length: 150_000 }, (_, i) => ({
      address: `aws_s3_bucket.b[${i}]`,
      mode: 'managed',
      type: 'aws_s3_bucket',
      change: { actions: ['delete'] },
    }));
    const s = summarizePlan({ format_version: '1.2', resource_changes });
    expect(s.risks).toHaveLength(150_000);
    const text = renderSummaryText(s);
    expect(text).toMatch(/^Plan: 0 to add, 0 to change, 150000 to destroy\./);
    expect(text).toContain('high-risk-destroy: aws_s3_bucket.b[149999] (aws_s3_bucket)');
    expect(renderSummaryMarkdown(s)).toContain('aws\\_s3\\_bucket.b\\[149999\\]');
  });
});

describe('YAML', () => {
  test('a duplicate key at the end of a 60,000-key file is reported at its line', () => {
    // yaml's own check compared every key with every earlier one: minutes for a 1 MiB map.
    const lines = Array.from({ length: 60_000 }, (_, i) => `k${i}: v`);
    lines.push('k7: again');
    const problems = new Problems();
    expect(parseYaml(`${lines.join('\n')}\n`, 'big.yaml', problems)).toBeUndefined();
    expect(problems.list).toEqual([
      {
        file: 'big.yaml',
        line: 60_001,
        column: 1,
        severity: 'error',
        message: 'invalid YAML: duplicate key "k7" (first on line 8): each key may appear once in a map',
      },
    ]);
  });

  test('101 aliases of 101 different anchors are an alias bomb, reported at the 101st', () => {
    // yaml limits uses per anchor only; 8,000 anchors each aliased once took 9 s and passed.
    const lines: string[] = [];
    for (let i = 0; i < 101; i++) lines.push(`a${i}: &a${i} x`, `b${i}: *a${i}`);
    const problems = new Problems();
    expect(parseYaml(`${lines.join('\n')}\n`, 'f.yaml', problems)).toBeUndefined();
    expect(problems.list).toEqual([
      {
        file: 'f.yaml',
        line: 202,
        column: 7,
        severity: 'error',
        message: 'too many alias expansions (limit 100): refusing a possible alias bomb',
      },
    ]);
  });
});

describe('placeholders', () => {
  const scope = (value: unknown): ResolveScope => ({
    variable: () => undefined,
    unknownVariable: (n) => `unknown variable "${n}"`,
    output: (m, o) => (m === 'net' && o === 'deep' ? { state: 'known', value } : { state: 'unknown' }),
  });

  test('an output nested 100,000 deep is an error where it is read, embedded or whole', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    for (const text of ['#{net.deep}', 'x-#{net.deep}']) {
      const e = thrown(() => resolveTemplate(text, scope(deep)));
      expect(e).toBeInstanceOf(PlaceholderError);
      expect((e as PlaceholderError).message).toBe(
        '#{net.deep} holds a value nested deeper than 64 levels: flatten it',
      );
      expect((e as PlaceholderError).offset).toBe(text.indexOf('#{'));
    }
  });

  test('a string with 150,000 placeholders of unknown outputs resolves: pending once', () => {
    const errors: PathError[] = [];
    const r = resolveValue({ a: '#{m.o}'.repeat(150_000) }, scope(null), errors);
    expect(errors).toEqual([]);
    expect(r.pending).toEqual(['m.o']);
  });

  test('a placeholder bomb in environment variables is an error, not billions of entries', () => {
    // fuzz target graph: l0 lists "x" n times, each next level lists the one before n times.
    const repo = baseRepo();
    const vars: Record<string, unknown> = { vpc_cidr: '10.0.0.0/16', domain: 'example.com' };
    vars.l0 = Array.from({ length: 10 }, () => 'x');
    for (let i = 1; i <= 9; i++) vars[`l${i}`] = Array.from({ length: 10 }, () => `#{l${i - 1}}`);
    const s1 = repo.sites.s1 as (typeof repo.sites)[string];
    (s1.envs.dev as { variables: unknown }).variables = vars;
    (s1.modules[0] as Record<string, unknown>).replicas = '#{l9}';
    const v = validateProject(memoryReader(repo), LAYOUT, CTX);
    expect(v.ok).toBe(false);
    const bomb = v.problems.filter((p) => /placeholder bomb/.test(p.message));
    expect(bomb.length).toBeGreaterThan(0);
    // l0 holds 11 nodes, l1 111 ... l3 11,111; l4 would hold 111,111: its tenth #{l3} crosses the limit.
    expect(bomb[0]).toMatchObject({
      file: 'sites/s1/environments/dev.yaml',
      message: `more than ${MAX_RESOLVED_NODES.toLocaleString('en-US')} list items, map entries and scalars once #{l3} is substituted here: a placeholder bomb? (environment dev)`,
    });
    for (const p of v.problems) expect(p.message).not.toMatch(/Invalid string length|Maximum call stack/);
  });

  test('through loadProject, a placeholder bomb is a bad-input error', () => {
    const repo = baseRepo();
    const s1 = repo.sites.s1 as (typeof repo.sites)[string];
    const vars: Record<string, unknown> = { vpc_cidr: '10.0.0.0/16', domain: 'example.com', l0: ['x', 'x'] };
    for (let i = 1; i <= 20; i++) vars[`l${i}`] = [`#{l${i - 1}}`, `#{l${i - 1}}`];
    (s1.envs.dev as { variables: unknown }).variables = vars;
    const e = thrown(() => loadProject(memoryReader(repo), LAYOUT, CTX, 's1', 'dev'));
    expect(e).toBeInstanceOf(SiteDeployError);
    expect((e as SiteDeployError).code).toBe('bad-input');
  });
});
