/**
 * The GitHub surface users call — the reusable workflows (site-plan.yml, site-deploy.yml), the
 * starter workflows they copy (workflows-templates/) and the release workflow — keeps its safety
 * properties. Each check returns what it found wrong, and is proved able to fail on a copy broken
 * on purpose. The gate and matrix scripts are run with bash and jq, as the runner runs them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';

type Dict = Record<string, unknown>;
interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Dict;
  env?: Dict;
}
interface Job {
  name?: string;
  uses?: string;
  needs?: string | string[];
  if?: unknown;
  permissions?: unknown;
  environment?: unknown;
  concurrency?: unknown;
  strategy?: Dict;
  outputs?: Dict;
  steps?: Step[];
}
interface Workflow {
  name?: string;
  on?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}
interface WorkflowFile {
  path: string;
  text: string;
  doc: Workflow;
}
interface Files {
  plan: WorkflowFile;
  deploy: WorkflowFile;
  release: WorkflowFile;
  templates: WorkflowFile[];
  /** Workflows of this repository's own CI: only the trigger rule applies to them. */
  others: WorkflowFile[];
  /** `<template>.properties.json` by template path; undefined when missing or not JSON. */
  properties: Record<string, unknown>;
}

const WORKFLOWS = '.github/workflows';
const TEMPLATES = 'workflows-templates';
const OWN_ACTION = /^[A-Za-z0-9_.-]+\/site-deploy@\S+$/;
const OWN_WORKFLOW = /^[A-Za-z0-9_.-]+\/site-deploy\/\.github\/workflows\/[\w.-]+\.ya?ml@\S+$/;
const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[^@\s]+)?@[0-9a-f]{40}$/;
const USES_LINE = /^\s*(?:-\s+)?uses:\s*(\S+)(?:\s+#\s*(.*))?$/;

function load(path: string): WorkflowFile {
  const text = readFileSync(path, 'utf8');
  return { path, text, doc: parse(text) as Workflow };
}

function readProperties(template: string): unknown {
  const path = template.replace(/\.ya?ml$/, '.properties.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function loadAll(): Files {
  const templatePaths = readdirSync(TEMPLATES)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(TEMPLATES, f));
  const mine = new Set(['site-plan.yml', 'site-deploy.yml', 'release.yml']);
  return {
    plan: load(join(WORKFLOWS, 'site-plan.yml')),
    deploy: load(join(WORKFLOWS, 'site-deploy.yml')),
    release: load(join(WORKFLOWS, 'release.yml')),
    templates: templatePaths.map(load),
    others: readdirSync(WORKFLOWS)
      .filter((f) => /\.ya?ml$/.test(f) && !mine.has(f))
      .map((f) => load(join(WORKFLOWS, f))),
    properties: Object.fromEntries(templatePaths.map((p) => [p, readProperties(p)])),
  };
}

// ---- helpers over parsed workflows ----

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const reusable = (f: Files): WorkflowFile[] => [f.plan, f.deploy];
/** Every file held to every rule: what this repository offers users, and its release. */
const offered = (f: Files): WorkflowFile[] => [f.plan, f.deploy, f.release, ...f.templates];
const jobsOf = (w: WorkflowFile): [string, Job][] => Object.entries(w.doc.jobs ?? {});
const stepsOf = (j: Job): Step[] => (Array.isArray(j.steps) ? j.steps : []);
const needsOf = (j: Job): string[] => (Array.isArray(j.needs) ? j.needs : j.needs ? [j.needs] : []);
const squash = (v: unknown): string =>
  String(v ?? '')
    .replace(/\s+/g, ' ')
    .trim();
const ownStep = (j: Job): Step | undefined =>
  stepsOf(j).find((s) => typeof s.uses === 'string' && OWN_ACTION.test(s.uses));

type Kind = 'matrix' | 'plan' | 'report' | 'apply' | 'gate' | 'call' | 'other';
function kindOf(id: string, job: Job): Kind {
  if (id === 'gate') return 'gate';
  if (typeof job.uses === 'string') return 'call';
  const command = ownStep(job)?.with?.command;
  return command === 'matrix' || command === 'plan' || command === 'report' || command === 'apply'
    ? command
    : 'other';
}

/** The trigger names of a workflow, whatever form `on:` takes. */
function triggers(w: WorkflowFile): string[] {
  const on = w.doc.on;
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return isDict(on) ? Object.keys(on) : [];
}

const EXPECTED_PERMISSIONS: Record<'matrix' | 'plan' | 'report' | 'apply' | 'gate', Dict> = {
  matrix: { contents: 'read' },
  // Runs the pull request's module code: nothing that writes to GitHub (issue 17).
  plan: { contents: 'read', 'id-token': 'write' },
  // Runs no module code: publishes the plan jobs' handoffs (site-plan.yml); the apply jobs' need
  // no comment (site-deploy.yml, see REPORT_AFTER_APPLY).
  report: { 'pull-requests': 'write', checks: 'write' },
  // Runs module code too: deployments (promotion must see an apply in progress) and attestations
  // (the record is signed where it is made) are its only write tokens besides id-token.
  apply: {
    contents: 'read',
    'id-token': 'write',
    checks: 'read',
    actions: 'read',
    deployments: 'write',
    'pull-requests': 'read',
    attestations: 'write',
  },
  gate: {},
};

/** The report job of site-deploy.yml: check runs only (a push has no pull request to comment on). */
const REPORT_AFTER_APPLY: Dict = { checks: 'write' };

/** What a caller must grant for a reusable workflow: the union of its jobs' permissions. */
function grantsNeeded(w: WorkflowFile): Dict {
  const out: Dict = {};
  for (const [, job] of jobsOf(w)) {
    if (!isDict(job.permissions)) continue;
    for (const [k, v] of Object.entries(job.permissions)) if (out[k] !== 'write') out[k] = v;
  }
  return out;
}

const sameKeys = (a: Dict, b: Dict): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

// ---- running a step's script as the runner does ----

interface ScriptRun {
  status: number | null;
  outputs: Record<string, string>;
  summary: string;
  stdout: string;
}

function runScript(script: string, env: Record<string, string>): ScriptRun {
  const dir = mkdtempSync(join(tmpdir(), 'sd-workflow-'));
  try {
    const file = join(dir, 'step.sh');
    const output = join(dir, 'output');
    const summary = join(dir, 'summary');
    writeFileSync(file, script);
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      env: { PATH: process.env.PATH ?? '', ...env, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary },
      encoding: 'utf8',
    });
    const outputs: Record<string, string> = {};
    for (const line of readFileSync(output, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return { status: r.status, outputs, summary: readFileSync(summary, 'utf8'), stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const stepById = (w: WorkflowFile, job: string, id: string): Step | undefined =>
  stepsOf(w.doc.jobs[job] ?? {}).find((s) => s.id === id);

const SAMPLE = {
  include: [
    {
      site: 'app',
      environment: 'dev',
      account: '111111111111',
      region: 'us-east-1',
      lifecycle: 'ephemeral',
      stage: 1,
    },
    {
      site: 'app',
      environment: 'staging',
      account: '222222222222',
      region: 'us-east-1',
      lifecycle: 'long-lived',
      stage: 2,
    },
    {
      site: 'app',
      environment: 'production',
      account: '333333333333',
      region: 'us-east-1',
      lifecycle: 'long-lived',
      stage: 3,
    },
    {
      site: 'web',
      environment: 'production',
      account: '333333333333',
      region: 'us-west-2',
      lifecycle: 'long-lived',
      stage: 1,
    },
  ],
};

// ---- the checks: each returns its findings ----

type Check = (f: Files) => string[];

const permissionsPerJob: Check = (f) => {
  const out: string[] = [];
  for (const w of offered(f)) {
    if (
      w.doc.permissions !== undefined &&
      !(isDict(w.doc.permissions) && Object.keys(w.doc.permissions).length === 0)
    )
      out.push(`${w.path}: workflow-level permissions must be {} (each job names its own)`);
    for (const [id, job] of jobsOf(w))
      if (!isDict(job.permissions)) out.push(`${w.path}: job ${id} has no explicit permissions map`);
  }
  return out;
};

const idTokenOnlyForAws: Check = (f) => {
  const out: string[] = [];
  for (const w of offered(f))
    for (const [id, job] of jobsOf(w)) {
      const kind = kindOf(id, job);
      const calls = kind === 'call' && OWN_WORKFLOW.test(job.uses ?? '');
      const has = isDict(job.permissions) && job.permissions['id-token'] === 'write';
      if (has && kind !== 'plan' && kind !== 'apply' && !calls)
        out.push(`${w.path}: job ${id} (${kind}) has id-token: write but makes no AWS session`);
      if (!has && (kind === 'plan' || kind === 'apply'))
        out.push(`${w.path}: ${kind} job ${id} lacks id-token: write`);
    }
  return out;
};

const exactPermissions: Check = (f) => {
  const out: string[] = [];
  const byName = new Map(reusable(f).map((w) => [basename(w.path), w]));
  const expect = (w: WorkflowFile, id: string, got: unknown, want: Dict): void => {
    if (!isDict(got) || !sameKeys(got, want))
      out.push(`${w.path}: job ${id} has permissions ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  for (const w of [...reusable(f), ...f.templates])
    for (const [id, job] of jobsOf(w)) {
      const kind = kindOf(id, job);
      if (kind === 'call') {
        const called = byName.get(basename((job.uses ?? '').split('@')[0] ?? ''));
        if (!called) out.push(`${w.path}: job ${id} calls ${job.uses}, not a workflow of this repository`);
        else expect(w, id, job.permissions, grantsNeeded(called));
      } else if (kind === 'other')
        out.push(`${w.path}: job ${id} is neither matrix, plan, report, apply nor gate`);
      else
        expect(
          w,
          id,
          job.permissions,
          kind === 'report' && basename(w.path) === 'site-deploy.yml'
            ? REPORT_AFTER_APPLY
            : EXPECTED_PERMISSIONS[kind],
        );
    }
  // The release: only the tagging job writes, and only contents.
  for (const [id, job] of jobsOf(f.release))
    expect(f.release, id, job.permissions, { contents: id === 'tag' ? 'write' : 'read' });
  return out;
};

/**
 * Privilege separation (issue 17): a job that runs module code (plan) holds no `*: write` but
 * id-token, and hands its run to the report job as an artifact; the report job, which alone may
 * write comments and check runs, checks out nothing and runs neither Terraform nor AWS.
 */
const privilegeSeparation: Check = (f) => {
  const out: string[] = [];
  for (const w of [f.plan, f.deploy]) {
    for (const [id, j] of jobsOf(w)) {
      const kind = kindOf(id, j);
      const perms = isDict(j.permissions) ? j.permissions : {};
      const allowed = kind === 'apply' ? ['id-token', 'deployments', 'attestations'] : ['id-token'];
      const writes = Object.entries(perms).filter(([k, v]) => v === 'write' && !allowed.includes(k));
      if (kind === 'plan' || kind === 'apply') {
        if (writes.length)
          out.push(`${w.path}: ${kind} job ${id} can write ${writes.map(([k]) => k).join(', ')}`);
        if (ownStep(j)?.with?.publish !== 'handoff')
          out.push(`${w.path}: ${kind} job ${id} does not set publish: handoff`);
        if (!stepsOf(j).some((s) => (s.uses ?? '').startsWith('actions/upload-artifact@')))
          out.push(`${w.path}: ${kind} job ${id} uploads no handoff`);
      }
      if (kind === 'report') {
        const runsCode = stepsOf(j).filter(
          (s) => /checkout|setup-terraform|configure-aws/.test(s.uses ?? '') || s.run,
        );
        if (runsCode.length) out.push(`${w.path}: report job ${id} checks out or runs code`);
        if ('id-token' in perms || 'contents' in perms)
          out.push(`${w.path}: report job ${id} holds ${Object.keys(perms).join(', ')}`);
      }
    }
    if (!jobsOf(w).some(([id, j]) => kindOf(id, j) === 'report')) out.push(`${w.path}: no report job`);
  }
  return out;
};

const pinnedBySha: Check = (f) => {
  const out: string[] = [];
  const pins = new Map<string, Set<string>>();
  for (const w of [...offered(f), ...f.others])
    w.text.split('\n').forEach((line, i) => {
      const m = USES_LINE.exec(line);
      if (!m || line.trimStart().startsWith('#')) return;
      const [, ref = '', comment = ''] = m;
      if (ref.startsWith('./') || OWN_ACTION.test(ref) || OWN_WORKFLOW.test(ref)) return;
      const where = `${w.path}:${i + 1}`;
      if (!PINNED.test(ref)) out.push(`${where}: ${ref} is not pinned to a 40-hex commit SHA`);
      else if (!/^v\d+(\.\d+){0,2}\b/.test(comment.trim()))
        out.push(`${where}: ${ref} has no "# vX.Y.Z" comment`);
      const [action = '', sha = ''] = ref.split('@');
      pins.set(action, (pins.get(action) ?? new Set()).add(sha));
    });
  for (const [action, shas] of pins)
    if (shas.size > 1) out.push(`${action} is pinned to ${shas.size} different commits`);
  return out;
};

const gateShape: Check = (f) => {
  const out: string[] = [];
  for (const w of reusable(f)) {
    const gate = w.doc.jobs.gate;
    if (!gate) {
      out.push(`${w.path}: no gate job`);
      continue;
    }
    if (gate.name !== `${w.doc.name} gate`)
      out.push(`${w.path}: gate is named ${gate.name}, want "${w.doc.name} gate"`);
    if (!['always()', '${{ always() }}'].includes(squash(gate.if)))
      out.push(`${w.path}: gate if is not always()`);
    if (!isDict(gate.permissions) || Object.keys(gate.permissions).length > 0)
      out.push(`${w.path}: gate permissions must be {}`);
    const others = Object.keys(w.doc.jobs).filter((id) => id !== 'gate');
    const needs = needsOf(gate);
    for (const id of others) if (!needs.includes(id)) out.push(`${w.path}: gate does not need ${id}`);
    const step = stepsOf(gate).find((s) => isDict(s.env) && 'NEEDS' in s.env);
    if (squash(step?.env?.NEEDS) !== '${{ toJSON(needs) }}')
      out.push(`${w.path}: gate step has no NEEDS: toJSON(needs)`);
  }
  return out;
};

/** Runs each gate's script against the results of its needed jobs. */
const gateBehaviour: Check = (f) => {
  const out: string[] = [];
  for (const w of reusable(f)) {
    const gate = w.doc.jobs.gate;
    const script = stepsOf(gate ?? {}).find((s) => isDict(s.env) && 'NEEDS' in s.env)?.run;
    if (!gate || !script) {
      out.push(`${w.path}: no gate script`);
      continue;
    }
    const jobs = needsOf(gate).filter((id) => id !== 'matrix');
    const victim = jobs[jobs.length - 1] ?? 'plan';
    const needs = (results: Record<string, string>, expect: string[]): string =>
      JSON.stringify(
        Object.fromEntries(
          needsOf(gate).map((id) => [
            id,
            {
              result: results[id] ?? 'success',
              outputs: id === 'matrix' ? { expect: JSON.stringify(expect) } : {},
            },
          ]),
        ),
      );
    const skipped = Object.fromEntries(jobs.map((id) => [id, 'skipped']));
    const cases: [string, string, boolean][] = [
      ['every job succeeded', needs({}, jobs), true],
      ['empty matrix: every other job skipped', needs(skipped, []), true],
      [`${victim} failed`, needs({ [victim]: 'failure' }, jobs), false],
      [`${victim} cancelled`, needs({ [victim]: 'cancelled' }, jobs), false],
      [`${victim} cancelled while not expected`, needs({ ...skipped, [victim]: 'cancelled' }, []), false],
      ['matrix failed', needs({ ...skipped, matrix: 'failure' }, []), false],
      ['matrix cancelled', needs({ ...skipped, matrix: 'cancelled' }, []), false],
      [`${victim} expected but skipped`, needs({ [victim]: 'skipped' }, jobs), false],
    ];
    for (const [what, json, pass] of cases) {
      const r = runScript(script, { NEEDS: json });
      if ((r.status === 0) !== pass) out.push(`${w.path}: gate ${pass ? 'failed' : 'passed'} when ${what}`);
    }
  }
  return out;
};

const noPullRequestTarget: Check = (f) =>
  [...offered(f), ...f.others]
    .filter((w) => triggers(w).includes('pull_request_target'))
    .map((w) => `${w.path}: triggers on pull_request_target`);

const templateTriggers: Check = (f) => {
  const out: string[] = [];
  for (const w of f.templates) {
    const on = isDict(w.doc.on) ? w.doc.on : {};
    for (const t of ['pull_request', 'merge_group', 'push', 'workflow_dispatch'])
      if (!(t in on)) out.push(`${w.path}: no ${t} trigger`);
    for (const [t, cfg] of Object.entries(on))
      for (const key of ['paths', 'paths-ignore'])
        if (isDict(cfg) && key in cfg)
          out.push(`${w.path}: ${t} has ${key} (a filtered-out required check never reports)`);
    const push = on.push;
    const branches = isDict(push) && Array.isArray(push.branches) ? push.branches : [];
    // Copied into a repository, `$default-branch` matches no branch: the branch is written out.
    if (branches.length === 0 || branches.some((b) => typeof b !== 'string' || b.includes('$')))
      out.push(`${w.path}: push must name the default branch literally (found ${JSON.stringify(branches)})`);
    else if (!branches.includes('main')) out.push(`${w.path}: push does not name main, the default branch`);
    for (const [id, job] of jobsOf(w))
      if (!OWN_WORKFLOW.test(job.uses ?? ''))
        out.push(`${w.path}: job ${id} does not call a site-deploy workflow`);
  }
  return out;
};

const environmentOnApplyOnly: Check = (f) => {
  const out: string[] = [];
  for (const w of offered(f))
    for (const [id, job] of jobsOf(w)) {
      const apply = kindOf(id, job) === 'apply';
      if (apply && job.environment !== '${{ matrix.environment }}')
        out.push(`${w.path}: apply job ${id} does not run in environment \${{ matrix.environment }}`);
      if (!apply && job.environment !== undefined)
        out.push(`${w.path}: ${kindOf(id, job)} job ${id} has an environment`);
    }
  return out;
};

const planConcurrency: Check = (f) => {
  const c = f.plan.doc.concurrency;
  const group = isDict(c) ? String(c.group ?? '') : '';
  if (!isDict(c) || c['cancel-in-progress'] !== true || !group.includes('github.event.pull_request.number'))
    return [
      `${f.plan.path}: plans of one pull request are not serialized newest-wins (${JSON.stringify(c)})`,
    ];
  return [];
};

const engineInputs: Check = (f) => {
  const out: string[] = [];
  for (const w of [f.plan, f.deploy])
    for (const [id, job] of jobsOf(w))
      for (const step of stepsOf(job)) {
        const w2 = isDict(step.with) ? step.with : {};
        if (!['plan', 'apply'].includes(String(w2.command ?? ''))) continue;
        const wanted: [string, string][] = [
          ['terraform-binary', '${{ inputs.terraform-binary }}'],
          ['lock-timeout', '${{ inputs.lock-timeout }}'],
          ['max-parallel', '${{ inputs.max-parallel-steps }}'],
        ];
        for (const [input, want] of wanted)
          if (w2[input] !== want)
            out.push(`${w.path}: job ${id} passes ${input}: ${String(w2[input])}, want ${want}`);
      }
  return out;
};

const applyConcurrency: Check = (f) => {
  const out: string[] = [];
  const want = {
    group: 'site-deploy-${{ matrix.site }}-${{ matrix.environment }}',
    'cancel-in-progress': false,
  };
  for (const w of offered(f)) {
    const top = w.doc.concurrency;
    // Only plans may be cancelled (newest wins); an apply never is.
    if (isDict(top) && top['cancel-in-progress'] !== false && w !== f.plan)
      out.push(`${w.path}: workflow-level concurrency may cancel a running job`);
    for (const [id, job] of jobsOf(w)) {
      const c = job.concurrency;
      if (kindOf(id, job) === 'apply' && !(isDict(c) && sameKeys(c, want)))
        out.push(
          `${w.path}: apply job ${id} concurrency is ${JSON.stringify(c)}, want ${JSON.stringify(want)}`,
        );
      if (isDict(c) && c['cancel-in-progress'] !== false)
        out.push(`${w.path}: job ${id} may cancel in progress`);
    }
  }
  return out;
};

const failFastOff: Check = (f) => {
  const out: string[] = [];
  for (const w of offered(f))
    for (const [id, job] of jobsOf(w))
      if (job.strategy?.matrix !== undefined && job.strategy['fail-fast'] !== false)
        out.push(`${w.path}: job ${id} has a matrix without fail-fast: false`);
  return out;
};

const templateProperties: Check = (f) => {
  const out: string[] = [];
  if (f.templates.length === 0) out.push(`${TEMPLATES}: no templates`);
  for (const w of f.templates) {
    const p = f.properties[w.path];
    if (!isDict(p)) {
      out.push(`${w.path}: no readable .properties.json beside it`);
      continue;
    }
    for (const key of ['name', 'description', 'iconName'])
      if (typeof p[key] !== 'string' || p[key] === '') out.push(`${w.path}: properties has no ${key}`);
    const c = p.categories;
    if (!Array.isArray(c) || c.length === 0 || !c.every((x) => typeof x === 'string'))
      out.push(`${w.path}: properties categories is not a non-empty list of names`);
  }
  return out;
};

const stageOrder: Check = (f) => {
  const out: string[] = [];
  const w = f.deploy;
  const stages = Object.keys(w.doc.jobs)
    .map((id) => /^stage-(\d+)$/.exec(id)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  if (stages.length < 3 || stages.some((n, i) => n !== i + 1))
    out.push(`${w.path}: stages ${stages} are not 1..N, N ≥ 3`);
  for (const [id, job] of jobsOf(w))
    if (kindOf(id, job) === 'apply' && !/^stage-\d+$/.test(id))
      out.push(`${w.path}: apply job ${id} is outside the stages`);
  const matrixJob = w.doc.jobs.matrix;
  if (String(stepById(w, 'matrix', 'split')?.env?.STAGES) !== String(stages.length))
    out.push(`${w.path}: the split step's STAGES is not ${stages.length}`);
  for (const k of stages) {
    const job = w.doc.jobs[`stage-${k}`] ?? {};
    if (kindOf(`stage-${k}`, job) !== 'apply') out.push(`${w.path}: stage-${k} does not apply`);
    const wantNeeds = ['matrix', ...stages.filter((j) => j < k).map((j) => `stage-${j}`)];
    if (JSON.stringify([...needsOf(job)].sort()) !== JSON.stringify([...wantNeeds].sort()))
      out.push(`${w.path}: stage-${k} needs ${needsOf(job)}, want ${wantNeeds}`);
    if (job.strategy?.matrix !== `\${{ fromJSON(needs.matrix.outputs.stage${k}) }}`)
      out.push(`${w.path}: stage-${k} matrix is not the stage-${k} entries`);
    for (const o of [`stage${k}`, `has${k}`])
      if (!isDict(matrixJob?.outputs) || !(o in matrixJob.outputs))
        out.push(`${w.path}: matrix job has no output ${o}`);
    const cond = squash(job.if);
    const wanted = [
      '!cancelled()',
      "needs.matrix.result == 'success'",
      `needs.matrix.outputs.has${k} == 'true'`,
      ...stages
        .filter((j) => j < k)
        .map((j) => `(needs.stage-${j}.result == 'success' || needs.matrix.outputs.has${j} == 'false')`),
    ];
    for (const c of wanted) if (!cond.includes(c)) out.push(`${w.path}: stage-${k} if lacks ${c}`);
  }
  return out;
};

/** Runs site-deploy's split step on a sample matrix. */
const stageSplit: Check = (f) => {
  const out: string[] = [];
  const step = stepById(f.deploy, 'matrix', 'split');
  if (!step?.run) return [`${f.deploy.path}: no split step`];
  const stages = Number(step.env?.STAGES);
  const r = runScript(step.run, { MATRIX: JSON.stringify(SAMPLE), STAGES: String(stages) });
  if (r.status !== 0) out.push(`split failed on a valid matrix: ${r.stdout}`);
  for (let k = 1; k <= stages; k++) {
    const want = SAMPLE.include.filter((e) => e.stage === k);
    const got = JSON.parse(r.outputs[`stage${k}`] ?? '{}') as { include?: unknown[] };
    if (JSON.stringify(got.include) !== JSON.stringify(want))
      out.push(`stage${k} holds ${JSON.stringify(got)}`);
    if (r.outputs[`has${k}`] !== String(want.length > 0)) out.push(`has${k} is ${r.outputs[`has${k}`]}`);
  }
  if (r.outputs.expect !== JSON.stringify(['stage-1', 'stage-2', 'stage-3', 'report']))
    out.push(`expect is ${r.outputs.expect}, want the stages with entries and the report job`);
  const empty = runScript(step.run, { MATRIX: '{"include":[]}', STAGES: String(stages) });
  if (empty.status !== 0 || empty.outputs.expect !== '[]' || empty.outputs.has1 !== 'false')
    out.push('an empty matrix is not split into empty stages');
  const tooFar = { include: [{ ...SAMPLE.include[0], stage: stages + 1 }] };
  if (runScript(step.run, { MATRIX: JSON.stringify(tooFar), STAGES: String(stages) }).status === 0)
    out.push(`stage ${stages + 1} was accepted`);
  if (runScript(step.run, { MATRIX: 'not json', STAGES: String(stages) }).status === 0)
    out.push('a matrix that is not JSON was accepted');
  return out;
};

/** Fork pull requests: detected on pull_request only, plans skipped, the gate expects none, and a summary says why. */
const forkSkip: Check = (f) => {
  const out: string[] = [];
  const w = f.plan;
  const fork = stepById(w, 'matrix', 'fork');
  const want =
    "${{ github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name != github.repository }}";
  if (squash(fork?.env?.FORK) !== want) out.push(`${w.path}: fork detection is not ${want}`);
  if (!isDict(w.doc.jobs.matrix?.outputs) || !('fork' in w.doc.jobs.matrix.outputs))
    out.push(`${w.path}: matrix job has no fork output`);
  const cond = squash(w.doc.jobs.plan?.if);
  for (const c of ["needs.matrix.outputs.fork == 'false'", "needs.matrix.outputs.empty == 'false'"])
    if (!cond.includes(c)) out.push(`${w.path}: plan if lacks ${c}`);
  if (w.doc.jobs.plan?.strategy?.matrix !== '${{ fromJSON(needs.matrix.outputs.matrix) }}')
    out.push(`${w.path}: plan matrix is not the matrix job's output`);
  const split = stepById(w, 'matrix', 'split');
  if (!split?.run) return [...out, `${w.path}: no split step`];
  const matrix = JSON.stringify(SAMPLE);
  const own = runScript(split.run, { MATRIX: matrix, FORK: 'false' });
  if (own.status !== 0 || own.outputs.expect !== '["plan","report"]' || own.outputs.empty !== 'false')
    out.push(`same-repository pull request: expect ${own.outputs.expect}, empty ${own.outputs.empty}`);
  const forked = runScript(split.run, { MATRIX: matrix, FORK: 'true', HEAD_REPO: 'someone/fork' });
  if (forked.status !== 0 || forked.outputs.expect !== '[]' || !/fork/i.test(forked.summary))
    out.push(
      `fork pull request: status ${forked.status}, expect ${forked.outputs.expect}, summary "${forked.summary}"`,
    );
  const empty = runScript(split.run, { MATRIX: '{"include":[]}', FORK: 'false' });
  if (empty.status !== 0 || empty.outputs.empty !== 'true' || empty.outputs.expect !== '[]')
    out.push('an empty matrix does not skip the plans');
  return out;
};

/** Same ref: the reusable workflows run the action of their own release, and the release checks it. */
const sameRef: Check = (f) => {
  const out: string[] = [];
  const refs = new Set(
    reusable(f).flatMap((w) => jobsOf(w).flatMap(([, j]) => (ownStep(j)?.uses ? [ownStep(j)?.uses] : []))),
  );
  if (refs.size !== 1) out.push(`the reusable workflows use ${refs.size} refs of the action: ${[...refs]}`);
  for (const r of refs) if (!/@v\d+\.\d+\.\d+$/.test(r ?? '')) out.push(`${r} is not a release version tag`);
  const check = stepById(f.release, 'check', 'version')?.run ?? '';
  for (const s of ['site-plan.yml', 'site-deploy.yml', '$REPO@$tag'])
    if (!check.includes(s)) out.push(`${f.release.path}: the version check does not verify ${s}`);
  return out;
};

const terraformSetup: Check = (f) => {
  const out: string[] = [];
  for (const w of reusable(f))
    for (const [id, job] of jobsOf(w)) {
      const kind = kindOf(id, job);
      if (kind !== 'plan' && kind !== 'apply') continue;
      const tf = stepsOf(job).find((s) => (s.uses ?? '').startsWith('hashicorp/setup-terraform@'));
      if (
        tf?.with?.terraform_version !== '${{ inputs.terraform-version }}' ||
        String(tf.with.terraform_wrapper) !== 'false'
      )
        out.push(
          `${w.path}: job ${id} does not set up Terraform at inputs.terraform-version without the wrapper`,
        );
      if (job.strategy?.['max-parallel'] !== '${{ inputs.max-parallel }}')
        out.push(`${w.path}: job ${id} max-parallel is not inputs.max-parallel`);
    }
  return out;
};

/** Plan and apply jobs restore the provider plugin cache the action's steps share, keyed on the lock files. */
const pluginCache: Check = (f) => {
  const out: string[] = [];
  for (const w of reusable(f))
    for (const [id, job] of jobsOf(w)) {
      const kind = kindOf(id, job);
      if (kind !== 'plan' && kind !== 'apply') continue;
      const steps = stepsOf(job);
      const at = steps.findIndex((s) => (s.uses ?? '').startsWith('actions/cache@'));
      const cache = steps[at];
      const own = steps.findIndex((s) => s === ownStep(job));
      if (!cache) {
        out.push(`${w.path}: job ${id} does not restore the plugin cache`);
        continue;
      }
      if (cache.with?.path !== '.site-deploy/plugin-cache')
        out.push(`${w.path}: job ${id} caches ${String(cache.with?.path)}, not .site-deploy/plugin-cache`);
      if (
        !String(cache.with?.key ?? '').includes(
          "hashFiles(format('{0}/**/.terraform.lock.hcl', inputs.catalog))",
        )
      )
        out.push(`${w.path}: job ${id}'s plugin cache key is not the catalog's lock files`);
      if (at > own) out.push(`${w.path}: job ${id} restores the plugin cache after the action ran`);
    }
  return out;
};

const callInterface: Check = (f) => {
  const out: string[] = [];
  for (const w of reusable(f)) {
    const on = isDict(w.doc.on) ? w.doc.on : {};
    if (JSON.stringify(Object.keys(on)) !== '["workflow_call"]')
      out.push(`${w.path}: not workflow_call only`);
    const call = on.workflow_call;
    const inputs = isDict(call) && isDict(call.inputs) ? call.inputs : {};
    for (const name of ['config-root', 'catalog', 'terraform-version', 'max-parallel', 'changed-from'])
      if (!isDict(inputs[name])) out.push(`${w.path}: no input ${name}`);
    if (isDict(inputs['max-parallel']) && inputs['max-parallel'].type !== 'number')
      out.push(`${w.path}: max-parallel is not a number`);
  }
  return out;
};

const releaseFlow: Check = (f) => {
  const out: string[] = [];
  const w = f.release;
  const on = isDict(w.doc.on) ? w.doc.on : {};
  const dispatch = on.workflow_dispatch;
  const version = isDict(dispatch) && isDict(dispatch.inputs) ? dispatch.inputs.version : undefined;
  if (
    JSON.stringify(Object.keys(on)) !== '["workflow_dispatch"]' ||
    !isDict(version) ||
    version.required !== true
  )
    out.push(`${w.path}: not started by workflow_dispatch with a required version`);
  const runs = (job: string): string =>
    stepsOf(w.doc.jobs[job] ?? {})
      .map((s) => s.run ?? '')
      .join('\n');
  for (const s of [
    'npm ci',
    'npm run bundle',
    'git status --porcelain -- dist',
    'SD_TEST_DIST="$PWD/dist" npm test',
  ])
    if (!runs('check').includes(s)) out.push(`${w.path}: the check job does not run ${s}`);
  if (!needsOf(w.doc.jobs.tag ?? {}).includes('check')) out.push(`${w.path}: tag does not need check`);
  const tag = runs('tag');
  if (!/gh api "repos\/\$REPO\/git\/refs" -f "ref=refs\/tags\/\$TAG"/.test(tag))
    out.push(`${w.path}: no create of $TAG`);
  if (/refs\/tags\/\$TAG"[^\n]*force/.test(tag)) out.push(`${w.path}: $TAG is forced`);
  if (!/-X PATCH "repos\/\$REPO\/git\/refs\/tags\/\$MAJOR"[^\n]*force=true/.test(tag))
    out.push(`${w.path}: $MAJOR is not moved`);
  if (!tag.includes('gh release create')) out.push(`${w.path}: no GitHub release`);
  if (stepsOf(w.doc.jobs.tag ?? {}).some((s) => (s.uses ?? '').startsWith('actions/checkout@')))
    out.push(`${w.path}: the job holding contents: write checks out code`);
  return out;
};

/** `${{ }}` inside a script is pasted in before bash parses it: values go through env instead. */
const noExpressionInScripts: Check = (f) => {
  const out: string[] = [];
  for (const w of offered(f))
    for (const [id, job] of jobsOf(w))
      for (const s of stepsOf(job))
        if ((s.run ?? '').includes('${{')) out.push(`${w.path}: job ${id} has \${{ }} in a script`);
  return out;
};

// ---- the table: each check, and a copy broken so that it must fail ----

type Mutation = (f: Files) => void;
const job = (w: WorkflowFile, id: string): Job => {
  const j = w.doc.jobs[id];
  if (!j) throw new Error(`${w.path} has no job ${id}`);
  return j;
};
const step = (w: WorkflowFile, jobId: string, id: string): Step => {
  const s = stepById(w, jobId, id);
  if (!s) throw new Error(`${w.path} job ${jobId} has no step ${id}`);
  return s;
};
const firstTemplate = (f: Files): WorkflowFile => {
  const t = f.templates[0];
  if (!t) throw new Error('no template');
  return t;
};
const onOf = (w: WorkflowFile): Dict => (isDict(w.doc.on) ? w.doc.on : {});

const CHECKS: { name: string; check: Check; breakIt: Mutation }[] = [
  {
    name: 'every job sets its own permissions; workflows grant nothing',
    check: permissionsPerJob,
    breakIt: (f) => void delete job(f.plan, 'matrix').permissions,
  },
  {
    name: 'id-token: write only on jobs that make AWS sessions',
    check: idTokenOnlyForAws,
    breakIt: (f) => void ((job(f.deploy, 'matrix').permissions as Dict)['id-token'] = 'write'),
  },
  {
    name: 'each job holds exactly what its kind needs; only the release tag job writes contents',
    check: exactPermissions,
    breakIt: (f) => void ((job(f.release, 'check').permissions as Dict).contents = 'write'),
  },
  {
    name: 'plan and apply jobs hold no token that writes comments or check runs and hand off; the report jobs run no code',
    check: privilegeSeparation,
    breakIt: (f) => void ((job(f.plan, 'plan').permissions as Dict)['pull-requests'] = 'write'),
  },
  {
    name: 'third-party actions pinned to one 40-hex commit SHA each, version in a comment',
    check: pinnedBySha,
    breakIt: (f) =>
      void (f.plan.text = f.plan.text.replace(/actions\/checkout@[0-9a-f]{40}/, 'actions/checkout@v7')),
  },
  {
    name: 'gate: fixed name, needs every other job, if: always(), no permissions',
    check: gateShape,
    breakIt: (f) => void (job(f.deploy, 'gate').needs = ['matrix', 'stage-1', 'stage-2']),
  },
  {
    name: 'gate script fails on failure, cancelled and expected-but-skipped; passes an empty matrix',
    check: gateBehaviour,
    breakIt: (f) => {
      const s = stepsOf(job(f.plan, 'gate')).find((x) => isDict(x.env) && 'NEEDS' in x.env);
      if (s?.run) s.run = s.run.replace('"cancelled"', '"canceled"');
    },
  },
  {
    name: 'no pull_request_target anywhere',
    check: noPullRequestTarget,
    breakIt: (f) => void (onOf(firstTemplate(f)).pull_request_target = null),
  },
  {
    name: 'templates: pull_request, merge_group, push to the default branch written out, dispatch; no paths filters',
    check: templateTriggers,
    breakIt: (f) => void (onOf(firstTemplate(f)).pull_request = { paths: ['sites/**'] }),
  },
  {
    name: 'environment on apply jobs only',
    check: environmentOnApplyOnly,
    breakIt: (f) => void (job(f.plan, 'plan').environment = '${{ matrix.environment }}'),
  },
  {
    name: 'plans of one pull request serialized, newest wins',
    check: planConcurrency,
    breakIt: (f) => void delete f.plan.doc.concurrency,
  },
  {
    name: 'terraform-binary, lock-timeout and max-parallel-steps reach every plan and apply',
    check: engineInputs,
    breakIt: (f) => {
      const step = stepsOf(job(f.deploy, 'stage-2')).find(
        (x) => isDict(x.with) && x.with.command === 'apply',
      );
      if (step && isDict(step.with)) delete step.with['lock-timeout'];
    },
  },
  {
    name: 'apply jobs: one at a time per site × environment, never cancelled in progress',
    check: applyConcurrency,
    breakIt: (f) => void ((job(f.deploy, 'stage-2').concurrency as Dict)['cancel-in-progress'] = true),
  },
  {
    name: 'fail-fast: false on every matrix',
    check: failFastOff,
    breakIt: (f) => void delete (job(f.deploy, 'stage-3').strategy as Dict)['fail-fast'],
  },
  {
    name: 'every template has its .properties.json',
    check: templateProperties,
    breakIt: (f) =>
      void (f.properties[firstTemplate(f).path] = { name: 'x', description: 'y', categories: [] }),
  },
  {
    name: 'stage jobs apply in promotion order, each after every earlier stage',
    check: stageOrder,
    breakIt: (f) => void (job(f.deploy, 'stage-3').needs = ['matrix', 'stage-2']),
  },
  {
    name: 'the matrix is split into stages as promotion numbers them',
    check: stageSplit,
    breakIt: (f) => {
      const s = step(f.deploy, 'matrix', 'split');
      s.run = (s.run ?? '').replace('select(.stage == $s)', 'select(.stage >= $s)');
    },
  },
  {
    name: 'fork pull requests skip the plans with a summary, and the gate expects none',
    check: forkSkip,
    breakIt: (f) =>
      void (step(f.plan, 'matrix', 'fork').env = {
        FORK: '${{ github.event.pull_request.head.repo.full_name != github.repository }}',
      }),
  },
  {
    name: 'the reusable workflows run the action of their own release, and the release checks it',
    check: sameRef,
    breakIt: (f) => {
      const s = ownStep(job(f.deploy, 'stage-2'));
      if (s) s.uses = (s.uses ?? '').replace(/@.*/, '@v1');
    },
  },
  {
    name: 'Terraform at inputs.terraform-version without the wrapper; max-parallel from inputs',
    check: terraformSetup,
    breakIt: (f) => {
      const s = stepsOf(job(f.plan, 'plan')).find((x) =>
        (x.uses ?? '').startsWith('hashicorp/setup-terraform@'),
      );
      if (s?.with) s.with.terraform_wrapper = true;
    },
  },
  {
    name: 'plan and apply jobs keep .site-deploy/plugin-cache with actions/cache, keyed on the lock files',
    check: pluginCache,
    breakIt: (f) => {
      const s = stepsOf(job(f.deploy, 'stage-3')).find((x) => (x.uses ?? '').startsWith('actions/cache@'));
      if (s?.with) s.with.key = 'site-deploy-providers';
    },
  },
  {
    name: 'reusable workflows: workflow_call with config-root, catalog, terraform-version, max-parallel',
    check: callInterface,
    breakIt: (f) => void (onOf(f.plan).pull_request = null),
  },
  {
    name: 'release: dispatch with a version; bundle, dist check and tests before an unforced tag',
    check: releaseFlow,
    breakIt: (f) => {
      const steps = stepsOf(job(f.release, 'check'));
      job(f.release, 'check').steps = steps.filter((s) => !(s.run ?? '').includes('--porcelain'));
    },
  },
  {
    name: 'no ${{ }} expression inside a run: script',
    check: noExpressionInScripts,
    breakIt: (f) => {
      const s = step(f.plan, 'matrix', 'fork');
      s.run = 'echo "fork=${{ github.event.pull_request.head.repo.full_name }}" >>"$GITHUB_OUTPUT"';
    },
  },
];

describe('workflows users call', () => {
  const files = loadAll();

  test('bash and jq are on PATH: the gate and matrix scripts below run with them, as on the runner', () => {
    expect(spawnSync('jq', ['--version']).status).toBe(0);
  });

  test.each(CHECKS)('$name', ({ check }) => {
    expect(check(files)).toEqual([]);
  });

  test.each(CHECKS)('can fail: $name', ({ check, breakIt }) => {
    const broken = structuredClone(files);
    breakIt(broken);
    expect(check(broken)).not.toEqual([]);
  });
});
