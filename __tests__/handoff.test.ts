// Privilege separation (SPEC §8.3, issue 17 item 3), through the bundled action with REAL Terraform
// and a stand-in for the GitHub REST API that checks every request against GitHub's OpenAPI
// description: the plan job (`publish: handoff`) writes nothing to GitHub and hands its run over as a
// file; the report job (`command: report`) computes the comment, the check run and the bound digests
// from that one file; apply binds against what the report job published.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBindingHeader, reviewedModule } from '../src/core/binding.js';
import { InputError } from '../src/core/errors.js';
import { planDigest } from '../src/core/plan/digest.js';
import { summarizePlan } from '../src/core/plan/summary.js';
import { Redactor } from '../src/core/redact.js';
import {
  handoffModule,
  handoffReport,
  normalizedPlan,
  readHandoff,
  type Handoff,
} from '../src/core/report/handoff.js';
import { actionBundle, runBundledAction, type ActionRun } from './helpers/action-runner.js';
import { startGitHubServer, type GitHubServer } from './helpers/github-server.js';
import { readAsRunner } from './helpers/runner-commands.js';
import { cleanupSites, runCli, tempFolder } from './helpers/site.js';
import { ENV, pullRequestEvent, SITE, writeVaultSite } from './helpers/vault-site.js';

const TOKEN = 'ghs_handoffToken00000000000000000000000000';
const SECRET = 'S3CR3T-handoff-unlock-value';

let github: GitHubServer;
let cases = 0;

beforeAll(async () => {
  await actionBundle();
  github = await startGitHubServer({ token: TOKEN });
}, 300_000);
afterAll(async () => {
  await github.stop();
  await cleanupSites();
});

const sha = (c: string, n: number): string => `${c}${String(n).padStart(3, '0')}`.padEnd(40, c);

interface Case {
  root: string;
  pr: number;
  head: string;
  merge: string;
  run(command: string, inputs?: Record<string, string>, push?: boolean): Promise<ActionRun>;
  merged(): void;
  applied(module: string): boolean;
}

async function newCase(): Promise<Case> {
  const n = ++cases;
  const pr = 300 + n;
  const head = sha('e', n);
  const merge = sha('f', n);
  const root = await tempFolder('sd-handoff-');
  await writeVaultSite(root, SECRET);
  const base = { site: SITE, environment: ENV, 'github-token': TOKEN, 'max-parallel': '1' };
  const pullRequest = pullRequestEvent(pr, head);

  return {
    root,
    pr,
    head,
    merge,
    run: (command, extra = {}, push = false) =>
      runBundledAction({
        root,
        inputs: { ...base, command, ...extra },
        env: {
          GITHUB_API_URL: github.url,
          ...(push
            ? { GITHUB_SHA: merge, GITHUB_REF: 'refs/heads/main' }
            : { GITHUB_SHA: sha('d', n), GITHUB_REF: `refs/pull/${pr}/merge` }),
        },
        ...(push ? {} : { event: pullRequest }),
      }),
    merged: () =>
      github.setCommitPulls(merge, [
        { number: pr, head_sha: head, merge_commit_sha: merge, merged_at: new Date().toISOString() },
      ]),
    applied: (module) => {
      const file = join(root, '.site-deploy/state', SITE, ENV, `${module}.tfstate`);
      if (!existsSync(file)) return false;
      const state = JSON.parse(readFileSync(file, 'utf8')) as { resources?: unknown[] };
      return (state.resources ?? []).length > 0;
    },
  };
}

const why = (r: ActionRun): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
const shown = (r: ActionRun): string =>
  [
    readAsRunner(r.stdout).shown.join('\n'),
    r.stderr,
    JSON.stringify(r.outputs),
    readFileSync(r.files.summary, 'utf8'),
  ].join('\n');
const checkOf = (head: string) => [...github.checkRuns.values()].find((r) => r.head_sha === head);

describe('plan job → report job → apply', () => {
  let c: Case;
  let plan: ActionRun;
  let report: ActionRun;
  let apply: ActionRun;
  let applyReport: ActionRun | undefined;
  let applyWrites: string[];
  let planRequests: number;
  let handoffText: string;

  beforeAll(async () => {
    c = await newCase();
    const before = github.requests.length;
    plan = await c.run('plan', { publish: 'handoff' });
    planRequests = github.requests.length - before;
    if (plan.code !== 0) throw new Error(why(plan));
    handoffText = readFileSync(plan.outputs['handoff-path']!, 'utf8');
    report = await c.run('report', { handoff: plan.outputs['handoff-path']! });
    c.merged();
    const beforeApply = github.requests.length;
    apply = await c.run('apply', { publish: 'handoff' }, true);
    applyWrites = github.requests
      .slice(beforeApply)
      .filter((r) => r.method !== 'GET' && /check-runs|comments/.test(r.path))
      .map((r) => `${r.method} ${r.path}`);
    if (apply.outputs['handoff-path'])
      applyReport = await c.run('report', { handoff: apply.outputs['handoff-path'] }, true);
  }, 300_000);

  test('the plan job makes no request to GitHub, and its handoff holds no secret, state or before-value', () => {
    expect(planRequests).toBe(0);
    expect(plan.outputs.status).toBe('succeeded');
    expect(handoffText).not.toContain(SECRET);
    expect(handoffText).not.toContain(TOKEN);
    expect(handoffText).not.toMatch(/"(prior_state|planned_values|configuration|variables)"/);
    const h = readHandoff(handoffText, 'h.json');
    expect(h.modules.map((m) => [m.name, m.plan !== undefined])).toEqual([
      ['net', true],
      ['vault', true],
      ['app', true],
    ]);
    expect(readFileSync(plan.files.summary, 'utf8')).toContain('The report job publishes');
  });

  test('the report job posts the comment and the check run, the review in both, computed from the handoff', () => {
    if (report.code !== 0) throw new Error(why(report));
    const comments = github.commentsOn(c.pr);
    expect(comments).toHaveLength(1);
    const check = checkOf(c.head);
    expect(check?.name).toBe(`site-deploy / ${SITE} / ${ENV}`);
    expect(check?.conclusion).toBe('success');
    expect(check?.output.text).toMatch(/^<!-- site-deploy-binding:v2:[\w-]+ -->$/);
    const body = comments[0]!.body;
    expect(body).toContain(check!.output.text);
    const review = parseBindingHeader(body);
    expect(review?.commit).toBe(c.head);
    expect(review?.sensitive).toBe('marker');
    // What the reviewer reads is computed from the same handoff as what is bound.
    expect(review?.combined).toBe(handoffReport(readHandoff(handoffText, 'h.json')).review?.combined);
    expect(body).toContain('sensitive values bound as a marker');
    expect(readFileSync(report.files.summary, 'utf8')).toContain(review!.combined);
  });

  test('apply binds against what the report job published: every module matched and applied', () => {
    if (apply.code !== 0) throw new Error(why(apply));
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(true);
  });

  test("the apply job writes no check run or comment; the report job completes the merge commit's check run", () => {
    expect(applyWrites).toEqual([]);
    if (applyReport?.code !== 0) throw new Error(applyReport ? why(applyReport) : 'no apply handoff');
    const check = checkOf(c.merge);
    expect(check?.name).toBe(`site-deploy / ${SITE} / ${ENV}`);
    expect(check?.conclusion).toBe('success');
    expect(check?.output.summary).toContain('Approval binding: 3 modules with changes matched');
  });

  test('no planted secret in any log, output, summary or GitHub request', () => {
    for (const r of [plan, report, apply, applyReport!]) expect(shown(r)).not.toContain(SECRET);
    for (const req of github.requests) expect(req.body).not.toContain(SECRET);
  });
});

describe('a handoff tampered with between the jobs', () => {
  test('is shown and bound together, so apply of the real plan halts before any change, naming the resource', async () => {
    const c = await newCase();
    const plan = await c.run('plan', { publish: 'handoff' });
    if (plan.code !== 0) throw new Error(why(plan));
    const path = plan.outputs['handoff-path']!;
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"net-1"');
    writeFileSync(path, text.replace('"net-1"', '"net-benign"'));
    const report = await c.run('report', { handoff: path });
    if (report.code !== 0) throw new Error(why(report));
    c.merged();
    const apply = await c.run('apply', {}, true);
    expect(apply.code).toBe(1);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(false);
    expect(apply.stdout).toMatch(/net: its plan differs from the reviewed plan[^\n]*terraform_data/);
  }, 300_000);

  test('a handoff of another commit is not published', async () => {
    const c = await newCase();
    const plan = await c.run('plan', { publish: 'handoff' });
    if (plan.code !== 0) throw new Error(why(plan));
    const path = plan.outputs['handoff-path']!;
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll(c.head, '9'.repeat(40)));
    const before = github.requests.length;
    const report = await c.run('report', { handoff: path });
    expect(report.code).toBe(1);
    expect(report.stdout).toContain('not published');
    expect(github.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(github.commentsOn(c.pr)).toEqual([]);
  }, 300_000);
});

describe('a refused plan hands its refusal over', () => {
  test('a config error: the report job puts it on the comment at its line and fails the check run', async () => {
    const c = await newCase();
    writeFileSync(join(c.root, `sites/${SITE}/site.yaml`), 'site:\n  name: "unterminated\n');
    const plan = await c.run('plan', { publish: 'handoff' });
    expect(plan.code).toBe(1);
    const path = plan.outputs['handoff-path'];
    if (!path) throw new Error(why(plan));
    const report = await c.run('report', { handoff: path });
    if (report.code !== 0) throw new Error(why(report));
    const body = github.commentsOn(c.pr)[0]?.body ?? '';
    expect(body).toMatch(/configuration error/);
    expect(body).toContain(`sites/${SITE}/site.yaml:2:`);
    expect(checkOf(c.head)?.conclusion).toBe('failure');
  }, 300_000);
});

describe('report on the command line', () => {
  test('an unreadable handoff is bad input (exit 2) naming the file and what is wrong', async () => {
    const dir = await tempFolder('sd-handoff-cli-');
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"kind":"site-deploy-handoff","schema_version":1,"site":7}');
    const bad = await runCli(['report', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/broken\.json:1:1.*not a site-deploy handoff: .*site/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

test('every request the action made is one GitHub would accept (OpenAPI description)', () => {
  expect(github.problems).toEqual([]);
  expect(github.find('POST', /\/check-runs$/).length).toBeGreaterThan(0);
});

describe('the normalized plan (pure)', () => {
  const plan = {
    format_version: '1.2',
    prior_state: {
      values: { root_module: { resources: [{ values: { password: 'PRIOR-SECRET' } }] } },
    },
    variables: { password: { value: 'VAR-SECRET' } },
    resource_changes: [
      {
        address: 'aws_db_instance.main',
        mode: 'managed',
        type: 'aws_db_instance',
        name: 'main',
        change: {
          actions: ['delete', 'create'],
          before: { password: 'OLD-SECRET', name: 'db' },
          after: { password: 'NEW-SECRET', name: 'db', tags: ['a'] },
          after_unknown: { id: true, tags: [false, true] },
          before_sensitive: { password: true },
          after_sensitive: { password: true },
          replace_paths: [['name']],
        },
        action_reason: 'replace_because_cannot_update',
      },
    ],
    output_changes: {
      pw: {
        actions: ['create'],
        before: null,
        after: 'OUT-SECRET',
        after_unknown: false,
        after_sensitive: true,
      },
    },
  };

  test('holds no sensitive value, before-value, state or variable, and digests and summarizes as the plan does', () => {
    const n = normalizedPlan(plan);
    const text = JSON.stringify(n);
    for (const s of ['PRIOR-SECRET', 'VAR-SECRET', 'OLD-SECRET', 'NEW-SECRET', 'OUT-SECRET'])
      expect(text).not.toContain(s);
    expect(planDigest(n)).toBe(planDigest(plan));
    expect(reviewedModule(n, { mocked: false })).toEqual(reviewedModule(plan, { mocked: false }));
    expect(summarizePlan(n)).toEqual(summarizePlan(plan));
    // Normalizing again changes nothing: the report job's digest is the plan job's.
    expect(normalizedPlan(n)).toEqual(n);
  });

  test("a value the run knows as secret where Terraform did not mark it sensitive: the module's plan is withheld and not bound", () => {
    const redactor = new Redactor();
    redactor.add('db-name-secret');
    const leaky = JSON.parse(JSON.stringify(plan).replaceAll('"db"', '"db-name-secret"')) as unknown;
    const row = {
      name: 'db',
      type: 'rds',
      weight: 10,
      status: 'succeeded' as const,
      summary: summarizePlan(leaky),
    };
    const m = handoffModule(row, leaky, (v) => redactor.value(v));
    expect(m.withheld).toBe('secret');
    expect(m.plan).toBeUndefined();
    expect(handoffModule(row, plan, (v) => redactor.value(v)).withheld).toBeUndefined();
    const h: Handoff = {
      kind: 'site-deploy-handoff',
      schema_version: 1,
      command: 'plan',
      site: 's',
      environment: 'e',
      review_commit: 'b'.repeat(40),
      created_at: new Date().toISOString(),
      status: 'succeeded',
      isolation: 'namespace',
      modules: [m],
      problems: [],
    };
    const r = handoffReport(readHandoff(JSON.stringify(h), 'h.json'));
    expect(r.review).toBeUndefined();
    expect(r.report.withheld).toEqual(['db']);
  });

  test('a document that is not a handoff: one problem per thing wrong, at the file', () => {
    const read = (doc: unknown): string => {
      try {
        readHandoff(JSON.stringify(doc), 'x.json');
        return '';
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        return e.problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');
      }
    };
    expect(read({ kind: 'other' })).toBe(
      'x.json:1: not a site-deploy handoff: "kind" is not "site-deploy-handoff"',
    );
    expect(read({ kind: 'site-deploy-handoff', schema_version: 2 })).toMatch(/schema_version 2/);
    const bad = read({
      kind: 'site-deploy-handoff',
      schema_version: 1,
      command: 'plan',
      site: '../x',
      environment: 'e',
      created_at: 'now',
      status: 'ok',
      isolation: 'none',
      problems: [],
      modules: [{ name: 'm' }],
    });
    expect(bad).toMatch(/site, created_at, status missing or of the wrong type/);
    expect(bad).toMatch(/modules\[0\]: type, weight, status/);
  });
});
