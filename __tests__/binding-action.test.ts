// Approval binding through the bundled action (SPEC §8.3), with REAL Terraform and a stand-in for
// the GitHub REST API that checks every request against GitHub's OpenAPI description: `plan` on a
// pull request writes the reviewed digests into its comment; `apply` on the push of the merge finds
// that pull request, re-plans each module right before applying it, and halts the module (and
// everything heavier) when its plan differs from the reviewed one, when the review is too old, or
// when there is none — unless `binding: off`, which the evidence records.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bindingHeader as bindingHeaderOf, parseBindingHeader } from '../src/core/binding.js';
import type { EvidenceRecord } from '../src/core/evidence/record.js';
import { actionBundle, runBundledAction, type ActionRun } from './helpers/action-runner.js';
import { startGitHubServer, type GitHubServer } from './helpers/github-server.js';
import { readAsRunner } from './helpers/runner-commands.js';
import { cleanupSites, tempFolder } from './helpers/site.js';
import { ENV, pullRequestEvent, SITE, writeVaultSite } from './helpers/vault-site.js';

const TOKEN = 'ghs_bindingActionToken0000000000000000000';
/** A sensitive Terraform variable's value: never in a comment, summary, log or record. */
const SECRET = 'S3CR3T-binding-unlock-value';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync('schemas/evidence.schema.json', 'utf8')) as object);
const validResult = ajv.compile(JSON.parse(readFileSync('schemas/result.schema.json', 'utf8')) as object);

let github: GitHubServer;
/** Pull request numbers and commits handed out so far: each case its own. */
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
  put(path: string, content: unknown): Promise<void>;
  /** `plan` on the pull request (its head commit). */
  plan(inputs?: Record<string, string>): Promise<ActionRun>;
  /** `apply` on the push of `commit` (default: the merge commit). */
  apply(inputs?: Record<string, string>, commit?: string): Promise<ActionRun>;
  /** Declares the merge: the merge commit came from the pull request. */
  merged(): void;
  /** Whether a module has local state with a resource (it was applied). */
  applied(module: string): boolean;
  record(run: ActionRun): EvidenceRecord;
}

async function newCase(server: GitHubServer = github, secret = SECRET): Promise<Case> {
  const n = ++cases;
  const pr = 100 + n;
  const head = sha('b', n);
  const merge = sha('c', n);
  const root = await tempFolder('sd-bind-');
  const put = await writeVaultSite(root, secret);
  const inputs = {
    site: SITE,
    environment: ENV,
    'github-token': TOKEN,
    'max-parallel': '1',
  };
  const env = { GITHUB_API_URL: server.url };
  return {
    root,
    pr,
    head,
    merge,
    put,
    plan: (extra = {}) =>
      runBundledAction({
        root,
        inputs: { ...inputs, command: 'plan', ...extra },
        env: { ...env, GITHUB_SHA: sha('d', n), GITHUB_REF: `refs/pull/${pr}/merge` },
        event: pullRequestEvent(pr, head),
      }),
    apply: (extra = {}, commit = merge) =>
      runBundledAction({
        root,
        inputs: { ...inputs, command: 'apply', ...extra },
        env: { ...env, GITHUB_SHA: commit, GITHUB_REF: 'refs/heads/main' },
      }),
    merged: () =>
      server.setCommitPulls(merge, [
        { number: pr, head_sha: head, merge_commit_sha: merge, merged_at: new Date().toISOString() },
      ]),
    applied: (module) => {
      const file = join(root, '.site-deploy/state', SITE, ENV, `${module}.tfstate`);
      if (!existsSync(file)) return false;
      const state = JSON.parse(readFileSync(file, 'utf8')) as { resources?: unknown[] };
      return (state.resources ?? []).length > 0;
    },
    record: (run) => {
      const path = run.outputs['evidence-path'];
      if (!path) throw new Error(`no evidence-path output:\n${run.stdout}\n${run.stderr}`);
      const record = JSON.parse(readFileSync(resolve(root, path), 'utf8')) as EvidenceRecord;
      // Every record read here is one the schema accepts (matched, differs, stale, missing, off).
      expect(validate(record) ? [] : validate.errors).toEqual([]);
      return record;
    },
  };
}

const why = (r: ActionRun): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** Everything a run showed anyone: its log as the runner shows it, its outputs and its job summary. */
const shown = (r: ActionRun): string =>
  [
    readAsRunner(r.stdout).shown.join('\n'),
    r.stderr,
    JSON.stringify(r.outputs),
    readFileSync(r.files.summary, 'utf8'),
  ].join('\n');

describe('a reviewed plan, applied as reviewed', () => {
  let c: Case;
  let plan: ActionRun;
  let apply: ActionRun;

  beforeAll(async () => {
    c = await newCase();
    plan = await c.plan();
    c.merged();
    apply = await c.apply();
  }, 300_000);

  test('the pull request comment carries the reviewed digests of its head commit, and no secret', () => {
    if (plan.code !== 0) throw new Error(why(plan));
    const comments = github.commentsOn(c.pr);
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(body).not.toContain(SECRET);
    const review = parseBindingHeader(body);
    expect(review?.commit).toBe(c.head);
    expect(review?.site).toBe(SITE);
    expect(review?.env).toBe(ENV);
    expect(Object.keys(review?.modules ?? {}).sort()).toEqual(['app', 'net', 'vault']);
    expect(review?.combined).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The plan's record holds the same review.
    expect(c.record(plan).binding).toMatchObject({ mode: 'review', combined: review?.combined });
  });

  test('apply finds the pull request, every module matches, and all are applied', () => {
    if (apply.code !== 0) throw new Error(why(apply));
    expect(apply.outputs.status).toBe('succeeded');
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(true);
    const binding = c.record(apply).binding;
    expect(binding).toMatchObject({ mode: 'on', pull_request: c.pr, reviewed_commit: c.head, missing: null });
    expect(binding?.modules.map((m) => [m.name, m.result])).toEqual([
      ['app', 'matched'],
      ['net', 'matched'],
      ['vault', 'matched'],
    ]);
    for (const m of binding?.modules ?? []) expect(m.current_digest).toBe(m.reviewed_digest);
    expect(binding?.combined).toBe(parseBindingHeader(github.commentsOn(c.pr)[0]!.body)?.combined);
  });

  test('the apply is a deployment of the merge commit, and the job summary says it was bound', () => {
    const deployments = [...github.deployments.values()].filter((d) => d.sha === c.merge);
    expect(deployments).toHaveLength(1);
    expect(deployments[0]!.environment).toBe(`${SITE}/${ENV}`);
    expect(deployments[0]!.statuses.map((s) => s.state).at(-1)).toBe('success');
    expect(readFileSync(apply.files.summary, 'utf8')).toContain(`#${c.pr}`);
  });

  test('no planted secret in any log, output, summary, comment or record', () => {
    for (const r of [plan, apply]) {
      expect(shown(r)).not.toContain(SECRET);
      expect(JSON.stringify(c.record(r))).not.toContain(SECRET);
    }
    for (const req of github.requests) expect(req.body).not.toContain(SECRET);
  });
});

describe('a sensitive value that is also a word of the structure', () => {
  test('a secret "succeeded": the status output and the binding header stay intact, and the apply binds', async () => {
    const c = await newCase(github, 'succeeded');
    const plan = await c.plan();
    if (plan.code !== 0) throw new Error(why(plan));
    expect(plan.outputs.status).toBe('succeeded');
    const header = github.commentsOn(c.pr).at(-1)?.body ?? '';
    expect(parseBindingHeader(header)?.commit).toBe(c.head);
    c.merged();
    const apply = await c.apply();
    if (apply.code !== 0) throw new Error(why(apply));
    expect(apply.outputs.status).toBe('succeeded');
    expect(c.record(apply).binding?.modules.map((m) => m.result)).toEqual(['matched', 'matched', 'matched']);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(true);
  }, 300_000);
});

describe('apply halts, before it mutates anything, when the plan is not the reviewed one', () => {
  test('a variable changed after the review: that module and everything heavier halt; both digests and the resource are named', async () => {
    const c = await newCase();
    const plan = await c.plan();
    if (plan.code !== 0) throw new Error(why(plan));
    // Pushed to the default branch after the review, without a new plan on the pull request.
    await c.put(`sites/${SITE}/environments/${ENV}.yaml`, {
      environment: ENV,
      variables: { net_label: 'net-1', vault_label: 'vault-2', app_label: 'app-1', unlock: SECRET },
    });
    c.merged();
    const apply = await c.apply();
    expect(apply.code).toBe(1);
    expect(apply.outputs.status).toBe('failed');
    expect(c.applied('net')).toBe(true); // lighter, and as reviewed
    expect(c.applied('vault')).toBe(false);
    expect(c.applied('app')).toBe(false);
    const record = c.record(apply);
    const vault = record.binding?.modules.find((m) => m.name === 'vault');
    expect(vault?.result).toBe('differs');
    expect(vault?.reviewed_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(vault?.current_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(vault?.current_digest).not.toBe(vault?.reviewed_digest);
    expect(vault?.differing).toContain('terraform_data.vault');
    expect(record.refusal?.kind).toBe('binding');
    // The step's `summary` output is the run's document: valid, failed, naming the same record.
    const summary = JSON.parse(apply.outputs.summary ?? 'null') as { status: string; evidence: string };
    expect(validResult(summary) ? [] : validResult.errors).toEqual([]);
    expect(summary).toMatchObject({ status: 'failed', evidence: apply.outputs['evidence-path'] });
    const log = apply.stdout;
    expect(log).toContain(vault!.reviewed_digest!.slice(0, 19));
    expect(log).toContain(vault!.current_digest!.slice(0, 19));
    expect(log).toContain('terraform_data.vault');
    expect(log).toContain(`#${c.pr}`);
    expect(shown(apply)).not.toContain(SECRET);
  }, 300_000);

  test('a review older than max-plan-age: nothing is applied', async () => {
    const c = await newCase();
    const plan = await c.plan();
    if (plan.code !== 0) throw new Error(why(plan));
    c.merged();
    await new Promise((ok) => setTimeout(ok, 1_500));
    const apply = await c.apply({ 'max-plan-age': '1s' });
    expect(apply.code).toBe(1);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(false);
    const net = c.record(apply).binding?.modules.find((m) => m.name === 'net');
    expect(net?.result).toBe('stale');
    expect(apply.stdout).toMatch(/older than|max-plan-age/);
  }, 300_000);

  test('a commit no pull request produced: no reviewed plan, nothing is applied', async () => {
    const c = await newCase();
    const apply = await c.apply({}, sha('e', cases));
    expect(apply.code).toBe(1);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(false);
    const binding = c.record(apply).binding;
    expect(binding?.mode).toBe('on');
    expect(binding?.missing).toMatch(/pull request/);
    expect(binding?.modules.map((m) => [m.name, m.result])).toEqual([['net', 'missing']]);
    expect(apply.stdout).toContain('no reviewed plan for commit');
    expect(apply.stdout).toContain('binding: off');
  }, 300_000);

  test("the plan's check run holds the review: an edited comment header halts the apply before any change (issue 17)", async () => {
    // Finding 5: the bot's comment is edited after the plan (by a step that read the job's write
    // token, or by anyone with write access), its hidden header swapped for another plan's.
    const other = await newCase();
    await other.put(`sites/${SITE}/environments/${ENV}.yaml`, {
      environment: ENV,
      variables: { net_label: 'bomb', vault_label: 'vault-1', app_label: 'app-1', unlock: SECRET },
    });
    const c = await newCase();
    const plan = await c.plan();
    if (plan.code !== 0) throw new Error(why(plan));
    const check = [...github.checkRuns.values()].find((r) => r.head_sha === c.head);
    expect(check?.output.text).toMatch(/^<!-- site-deploy-binding:v2:[\w-]+ -->$/);
    const comment = github.commentsOn(c.pr)[0];
    expect(comment?.body).toContain(check?.output.text);
    // The same header, made for the time-bombed variables (planned elsewhere), pasted into the comment.
    const bombPlan = await other.plan();
    if (bombPlan.code !== 0) throw new Error(why(bombPlan));
    const bomb = github.commentsOn(other.pr)[0]?.body.match(/^<!-- site-deploy-binding:v2:[\w-]+ -->$/m)?.[0];
    const bombReview = parseBindingHeader(bomb ?? '');
    if (!comment || !bombReview || !check?.output.text) throw new Error('no comment, header or check run');
    const forged = { ...bombReview, commit: c.head };
    comment.body = comment.body.replace(check.output.text, bindingHeaderOf(forged));
    expect(parseBindingHeader(comment.body)?.combined).toBe(bombReview.combined);
    c.merged();
    const apply = await c.apply();
    expect(apply.code).toBe(1);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(false);
    const binding = c.record(apply).binding;
    expect(binding?.missing).toContain('differs from the review in the check run');
    expect(binding?.missing).toContain(bombReview.combined);
  }, 300_000);

  test('a look-alike comment by someone else does not count as the review', async () => {
    const c = await newCase();
    const plan = await c.plan();
    if (plan.code !== 0) throw new Error(why(plan));
    // A user copies the bot's comment (header and all) onto another pull request that is then merged.
    const other = await newCase();
    github.seedComment(other.pr, github.commentsOn(c.pr)[0]!.body, { login: 'mallory', type: 'User' });
    other.merged();
    const apply = await other.apply();
    expect(apply.code).toBe(1);
    expect(other.applied('net')).toBe(false);
    expect(other.record(apply).binding?.missing).toBeTruthy();
  }, 300_000);
});

describe('binding-key (issue 17)', () => {
  const KEY = 'binding-key-0123456789abcdef';
  test('a review sealed under the key applies with the same key; with another key or none, nothing is applied; the key is never shown', async () => {
    const c = await newCase();
    const plan = await c.plan({ 'binding-key': KEY });
    if (plan.code !== 0) throw new Error(why(plan));
    c.merged();
    const wrong = await c.apply({ 'binding-key': 'another-key-0123456789abcdef' });
    expect(wrong.code).toBe(1);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(false);
    expect(c.record(wrong).binding?.missing).toMatch(/seal does not match/);
    const none = await c.apply();
    expect(none.code).toBe(1);
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(false);
    expect(c.record(none).binding?.missing).toMatch(/seal/);
    const right = await c.apply({ 'binding-key': KEY });
    if (right.code !== 0) throw new Error(why(right));
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(true);
    for (const r of [plan, wrong, none, right]) expect(shown(r)).not.toContain(KEY);
  }, 300_000);
});

describe('binding: off', () => {
  test('applies without a reviewed plan, says so, and the record says binding was off', async () => {
    const c = await newCase();
    const apply = await c.apply({ binding: 'off' });
    if (apply.code !== 0) throw new Error(why(apply));
    for (const m of ['net', 'vault', 'app']) expect(c.applied(m)).toBe(true);
    expect(c.record(apply).binding).toMatchObject({ mode: 'off', modules: [] });
    expect(apply.stdout).toMatch(/^::warning [^\n]*::binding: off/m);
  }, 300_000);
});

describe('a GitHub App token (github-token-login)', () => {
  test("binding reads the App's own comment when told its login, and no one else's", async () => {
    const app = await startGitHubServer({ token: TOKEN, login: 'deploy-app[bot]' });
    try {
      const c = await newCase(app);
      const plan = await c.plan({ 'github-token-login': 'deploy-app[bot]' });
      if (plan.code !== 0) throw new Error(why(plan));
      expect(app.commentsOn(c.pr)[0]?.login).toBe('deploy-app[bot]');
      c.merged();
      // Told the default login, the App's comment is someone else's: no reviewed plan.
      const refused = await c.apply();
      expect(refused.code).toBe(1);
      expect(c.record(refused).binding?.missing).toContain('github-actions[bot]');
      const apply = await c.apply({ 'github-token-login': 'deploy-app[bot]' });
      if (apply.code !== 0) throw new Error(why(apply));
      expect(c.record(apply).binding?.modules.every((m) => m.result === 'matched')).toBe(true);
      expect(app.problems).toEqual([]);
    } finally {
      await app.stop();
    }
  }, 300_000);
});

test('every request the action made is one GitHub would accept (OpenAPI description)', () => {
  expect(github.problems).toEqual([]);
  expect(github.find('GET', /\/commits\/[0-9a-f]{40}\/pulls/).length).toBeGreaterThan(0);
});
