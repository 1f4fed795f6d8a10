// The bundled action (dist/index.js), run the way the runner runs it (local-stack §6): node 24,
// a clean environment holding only PATH, HOME and what a runner sets, every input as INPUT_*,
// command files that exist, a pull_request event — against a local OIDC issuer (§5), moto for STS
// (§3) and a local stand-in for the GitHub REST API that checks every request against GitHub's
// OpenAPI description. The command modules' scripts call the real AWS CLI, which finds its
// credentials only through the step's loopback container-credentials endpoint.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runBundledAction, type ActionRun as BundledRun } from './helpers/action-runner.js';
import { startGitHubServer, type GitHubRequest, type GitHubServer } from './helpers/github-server.js';
import { startMoto, type Moto, type MotoRequest } from './helpers/moto.js';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';
import { cleanupSites, tempFolder, writeSite, type SiteRepo } from './helpers/site.js';

const SITE = 'client-portal';
const ENV = 'production';
const ACCOUNT = '111111111111';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/site-deploy-production`;
const PLAN_ROLE = `arn:aws:iam::${ACCOUNT}:role/site-deploy-production-ro`;
const MARKER = `<!-- site-deploy:${SITE}:${ENV} -->`;
const CHECK_NAME = `site-deploy / ${SITE} / ${ENV}`;
const HEAD_SHA = 'b'.repeat(40);
const MERGE_SHA = 'c'.repeat(40);
const TF_SECRET = 'S3CR3T-planted-e2e';
const CMD_SECRET = 'S3CR3T-cmd-output-e2e';
const GITHUB_TOKEN = 'ghs_e2eActionToken00000000000000000000000';
/** The suite's event: a push to pull request 7. */
const PR_EVENT = {
  action: 'synchronize',
  number: 7,
  pull_request: {
    number: 7,
    state: 'open',
    head: { sha: HEAD_SHA, ref: 'feature/e2e', repo: { full_name: 'org/repo' } },
    base: { sha: 'a'.repeat(40), ref: 'main', repo: { full_name: 'org/repo' } },
  },
  repository: { full_name: 'org/repo', name: 'repo', owner: { login: 'org' } },
  sender: { login: 'octocat', type: 'User' },
};

/** Command modules: name → [catalog type, services]. `app` has `network`'s services, yet a session of its own. */
const COMMAND_MODULES: Record<string, { type: string; services: string[] }> = {
  network: { type: 'net', services: ['ec2'] },
  database: { type: 'db', services: ['rds'] },
  app: { type: 'app', services: ['ec2'] },
};

const policyFor = (services: string[]): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: [...services].sort().map((s) => `${s}:*`), Resource: '*' }],
  });

const sessionOf = (module: string): string => `sd-${SITE}-${ENV}-${module}`;

let moto: Moto;
let issuer: OidcIssuer;
let github: GitHubServer;
let repo: SiteRepo;
/** Files the module scripts write for the test (hashes and variable names only, never a secret). */
let probeDir: string;
let runs = 0;

// ---------------------------------------------------------------------------------------------
// A private copy of the bundled action: others rebuild dist/ while tests run.

// ---------------------------------------------------------------------------------------------
// The repository under test.

/** A command module's script: asks STS who it is with the real AWS CLI and reports the ARN. */
function commandScript(module: string, phase: 'plan' | 'apply', extra = ''): string {
  return `#!/bin/sh
set -e
probe="$SD_E2E_PROBE_DIR/$SD_E2E_RUN-${module}-${phase}"
# Names (not values) of the variables the step's child sees.
env | cut -d= -f1 | sort > "$probe.env-names"
printf '%s' "\${AWS_ENDPOINT_URL_STS:-}" > "$probe.sts-endpoint"
aws sts get-caller-identity --output json > "$probe.identity.json"
arn=$(jq -r .Arn "$probe.identity.json")
${extra}
printf '{"caller_arn": "%s"${module === 'database' ? `, "db_password": "${CMD_SECRET}"` : ''}}' "$arn" > "$SITE_DEPLOY_OUTPUTS"
${phase === 'plan' ? `printf '{"add": 1, "change": 0, "destroy": 0}' > "$SITE_DEPLOY_CHANGES"` : ''}
`;
}

// The network module also reads its credentials straight from the endpoint, the way every SDK
// does, and keeps only sha256 digests of what it got, for the test to match against moto.
const CREDENTIAL_PROBE = `if [ -n "\${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" ]; then
  creds=$(curl -sf -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")
  printf '%s' "$creds" | jq -jr .SecretAccessKey | sha256sum | cut -d' ' -f1 > "$probe.secret.sha256"
  printf '%s' "$creds" | jq -jr .AccessKeyId | sha256sum | cut -d' ' -f1 > "$probe.akid.sha256"
  printf '%s' "$creds" | jq -jr .Token | sha256sum | cut -d' ' -f1 > "$probe.token.sha256"
  printf '%s' "$creds" | jq -r 'keys | join(",")' > "$probe.keys"
  # Without the per-step token the endpoint refuses.
  curl -s -o /dev/null -w '%{http_code}' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > "$probe.no-token-status"
fi`;

async function writeRepo(): Promise<SiteRepo> {
  const r = await writeSite({
    site: SITE,
    env: ENV,
    // Local state on purpose (the runner-like workspace is kept between this file's runs).
    settings: { state: { backend: 'local' } },
    modules: [
      { type: 'net', name: 'network', weight: 10 },
      { type: 'db', name: 'database', weight: 20 },
      { type: 'app', name: 'app', weight: 30 },
      { type: 'vault', name: 'vault', weight: 40 },
    ],
    catalog: {
      net: { engine: 'command' },
      db: { engine: 'command' },
      app: { engine: 'command' },
      vault: { tf: '' },
    },
    credentials: {
      aws_account: ACCOUNT,
      role: ROLE,
      plan_role: PLAN_ROLE,
      region: 'us-east-1',
      session_duration: 900,
      allowed_services: ['ec2', 'rds'],
    },
  });
  // writeSite's manifests always say `services: []`; these modules need sessions.
  for (const [name, m] of Object.entries(COMMAND_MODULES)) {
    const dir = join(r.root, 'modules', m.type);
    const manifest = [
      'engine: command',
      `services: [${m.services.join(', ')}]`,
      'outputs: [caller_arn' + (name === 'database' ? ', db_password]' : ']'),
      ...(name === 'database' ? ['sensitive_outputs: [db_password]'] : []),
    ];
    await writeFile(join(dir, 'module.yaml'), `${manifest.join('\n')}\n`);
    for (const phase of ['plan', 'apply'] as const)
      await writeFile(
        join(dir, phase),
        commandScript(name, phase, name === 'network' ? CREDENTIAL_PROBE : ''),
        { mode: 0o755 },
      );
  }
  await writeFile(join(r.root, 'modules', 'vault', 'module.yaml'), 'engine: terraform\nservices: []\n');
  await writeFile(
    join(r.root, 'modules', 'vault', 'main.tf'),
    `variable "secret" {
  type    = string
  default = "${TF_SECRET}"
}
resource "terraform_data" "this" {
  input = "vault"
}
output "secret_value" {
  value     = var.secret
  sensitive = true
}
output "label" {
  value = "vault-label"
}
`,
  );
  return r;
}

// ---------------------------------------------------------------------------------------------
// Running the action.

/** The action run by the one runner harness, with what this suite records around it. */
interface ActionRun extends BundledRun {
  /** Names this run's probe files. */
  id: string;
  /** GITHUB_WORKSPACE of the run. */
  root: string;
  /** Workspace files that are new or changed since before the run. */
  changed: string[];
  /** moto's recording of this run (moto is reset before each run). */
  moto: MotoRequest[];
  /** sts.AssumedRole entries of moto's data.json after this run. */
  sessions: MotoSession[];
  /** GitHub requests made by this run. */
  github: GitHubRequest[];
}

interface MotoSession {
  access_key_id: string;
  secret_access_key: string;
  session_token: string;
  arn: string;
  role_arn: string;
  session_name: string;
  policy: string | null;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) out.push(...walk(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

function digestTree(dir: string): Map<string, string> {
  return new Map(walk(dir).map((f) => [f, createHash('sha256').update(readFileSync(f)).digest('hex')]));
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

async function motoSessions(): Promise<MotoSession[]> {
  const r = await fetch(`${moto.endpoint}/moto-api/data.json`);
  const data = (await r.json()) as { sts?: { AssumedRole?: MotoSession[] } };
  return data.sts?.AssumedRole ?? [];
}

async function runAction(
  command: 'plan' | 'apply',
  o: {
    inputs?: Record<string, string>;
    env?: Record<string, string>;
    /** Another repository than the suite's. */
    repo?: SiteRepo;
    /** The event payload; default a pull_request event for PR 7. */
    event?: { name: string; payload: unknown };
  } = {},
): Promise<ActionRun> {
  const root = (o.repo ?? repo).root;
  await moto.reset();
  const id = `run${++runs}`;
  const githubBefore = github.requests.length;
  const before = digestTree(root);
  const run = await runBundledAction({
    root,
    inputs: { command, site: SITE, environment: ENV, 'github-token': GITHUB_TOKEN, ...(o.inputs ?? {}) },
    event: o.event ?? { name: 'pull_request', payload: PR_EVENT },
    env: {
      // The modules call the AWS CLI, which may live under root's home (pyenv): out of a sandboxed
      // step's reach. What these tests prove is the credential chain, unsandboxed (sandbox.test.ts).
      SITE_DEPLOY_ISOLATION: 'off',
      GITHUB_SHA: MERGE_SHA,
      GITHUB_REF: 'refs/pull/7/merge',
      GITHUB_HEAD_REF: 'feature/e2e',
      GITHUB_BASE_REF: 'main',
      GITHUB_API_URL: github.url,
      ...issuer.env(),
      AWS_ENDPOINT_URL_STS: moto.endpoint,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      SD_E2E_PROBE_DIR: probeDir,
      SD_E2E_RUN: id,
      ...(o.env ?? {}),
    },
  });
  const after = digestTree(root);
  const changed = [...after].filter(([f, h]) => before.get(f) !== h).map(([f]) => f);
  if (process.env.SD_E2E_DUMP) {
    await mkdir(process.env.SD_E2E_DUMP, { recursive: true });
    await writeFile(join(process.env.SD_E2E_DUMP, `${id}-${command}.stdout`), run.stdout);
    await writeFile(join(process.env.SD_E2E_DUMP, `${id}-${command}.stderr`), run.stderr);
  }
  return {
    ...run,
    id,
    root,
    changed,
    moto: moto.requests(),
    sessions: await motoSessions(),
    github: github.requests.slice(githubBefore),
  };
}

function why(run: ActionRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout.slice(-6000)}\n--- stderr\n${run.stderr.slice(-3000)}`;
}

function stsCalls(run: ActionRun, action?: string): { form: URLSearchParams; req: MotoRequest }[] {
  return run.moto
    .filter((r) => r.method === 'POST' && /(^|&)Action=/.test(r.body))
    .map((req) => ({ form: new URLSearchParams(req.body), req }))
    .filter((c) => action === undefined || c.form.get('Action') === action);
}

function header(req: MotoRequest, name: string): string | undefined {
  return Object.entries(req.headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** The probe file a module's script wrote in a run, trimmed. */
function probe(run: ActionRun, module: string, phase: string, what: string): string {
  return readFileSync(join(probeDir, `${run.id}-${module}-${phase}.${what}`), 'utf8').trim();
}

/** Where each secret shows up: `[place, secret label]` pairs. */
function leaks(
  run: ActionRun,
  secrets: Record<string, string>,
  exempt: (place: string, label: string) => boolean = () => false,
): string[] {
  const places: [string, string][] = [
    // The runner consumes `::add-mask::` commands (that is how masking works); any other line counts.
    [
      'stdout',
      run.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ],
    ['stderr', run.stderr],
    ['GITHUB_ENV', readFileSync(run.files.env, 'utf8')],
    ['GITHUB_OUTPUT', readFileSync(run.files.output, 'utf8')],
    ['GITHUB_STEP_SUMMARY', readFileSync(run.files.summary, 'utf8')],
    ['GITHUB_PATH', readFileSync(run.files.path, 'utf8')],
    ['GITHUB_STATE', readFileSync(run.files.state, 'utf8')],
    ...run.github.map((r, i): [string, string] => [
      `GitHub request ${i} ${r.method} ${r.path}`,
      `${r.path}\n${r.body}\n${Object.entries(r.headers)
        .filter(([k]) => k !== 'authorization')
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}`,
    ]),
    ...run.changed.map((f): [string, string] => [
      `workspace file ${relative(run.root, f)}`,
      readFileSync(f).toString('latin1'),
    ]),
    ...walk(run.runnerTemp).map((f): [string, string] => [
      `RUNNER_TEMP file ${relative(run.runnerTemp, f)}`,
      readFileSync(f).toString('latin1'),
    ]),
  ];
  const found: string[] = [];
  for (const [place, text] of places)
    for (const [label, secret] of Object.entries(secrets))
      if (secret && text.includes(secret) && !exempt(place, label)) found.push(`${label} in ${place}`);
  return found;
}

/** Every secret a run handled: session credentials moto issued, OIDC tokens, the planted outputs. */
function secretsOf(run: ActionRun, tokensBefore: number): Record<string, string> {
  const s: Record<string, string> = {};
  run.sessions.forEach((x, i) => {
    s[`access key id of session ${i} (${x.session_name})`] = x.access_key_id;
    s[`secret access key of session ${i} (${x.session_name})`] = x.secret_access_key;
    s[`session token of session ${i} (${x.session_name})`] = x.session_token;
  });
  issuer.tokens.slice(tokensBefore).forEach((t, i) => (s[`OIDC token ${i}`] = t));
  s['terraform sensitive output'] = TF_SECRET;
  s['command sensitive output'] = CMD_SECRET;
  s['github token'] = GITHUB_TOKEN;
  return s;
}

// Terraform's local state holds sensitive outputs in plaintext by design (SPEC §5 keeps it at
// <root>/.site-deploy/state/…); that one file may hold the planted Terraform secret.
const stateExempt = (place: string, label: string): boolean =>
  label === 'terraform sensitive output' &&
  place === `workspace file ${join('.site-deploy', 'state', SITE, ENV, 'vault.tfstate')}`;

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  [moto, issuer, github] = await Promise.all([
    startMoto(),
    startOidcIssuer({
      // A pull_request job: GitHub's token names no environment.
      sub: 'repo:org/repo:pull_request',
      repository: 'org/repo',
      actor: 'octocat',
      run_id: '4242',
      ref: 'refs/pull/7/merge',
      sha: MERGE_SHA,
      job_workflow_ref: 'org/repo/.github/workflows/deploy.yml@refs/pull/7/merge',
    }),
    startGitHubServer({ token: GITHUB_TOKEN }),
  ]);
  probeDir = await tempFolder('sd-probe-');
  repo = await writeRepo();
}, 120_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), issuer?.stop(), github?.stop()]);
  await cleanupSites();
});

describe('bundled action: plan then apply on a pull request', () => {
  let plan: ActionRun;
  let apply: ActionRun;
  let planTokens = 0;
  let applyTokens = 0;

  beforeAll(async () => {
    github.reset();
    planTokens = issuer.tokens.length;
    plan = await runAction('plan');
    applyTokens = issuer.tokens.length;
    // Apply on the pull request: binding reads the plan reviewed on it, for its head commit.
    github.setCommitPulls(HEAD_SHA, [{ number: 7, head_sha: HEAD_SHA }]);
    apply = await runAction('apply');
  }, 300_000);

  test('both runs succeed', () => {
    if (plan.code !== 0) throw new Error(`plan: ${why(plan)}`);
    if (apply.code !== 0) throw new Error(`apply: ${why(apply)}`);
    expect([plan.outputs.status, apply.outputs.status]).toEqual(['succeeded', 'succeeded']);
  });

  for (const [label, phase, role] of [
    ['plan', 'plan', PLAN_ROLE],
    ['apply', 'apply', ROLE],
  ] as const) {
    test(`${label}: one AssumeRoleWithWebIdentity per module step, into ${label === 'plan' ? 'plan_role' : 'role'}, scoped, unsigned, untagged`, () => {
      const run = phase === 'plan' ? plan : apply;
      const calls = stsCalls(run);
      // Only the direct hop and the modules' own GetCallerIdentity calls; nothing else.
      expect(
        [...new Set(calls.map((c) => c.form.get('Action')))].sort((a, b) =>
          String(a).localeCompare(String(b)),
        ),
      ).toEqual(['AssumeRoleWithWebIdentity', 'GetCallerIdentity']);
      const web = stsCalls(run, 'AssumeRoleWithWebIdentity');
      const policies = Object.values(COMMAND_MODULES).map((m) => policyFor(m.services));
      expect(web).toHaveLength(policies.length);
      expect(web.map((c) => c.form.get('Policy')).sort()).toEqual([...policies].sort());
      const tokens = issuer.tokens.slice(phase === 'plan' ? planTokens : applyTokens);
      // A fresh OIDC token per session, each used once.
      expect(phase === 'plan' ? applyTokens - planTokens : tokens.length).toBe(web.length);
      expect(new Set(web.map((c) => c.form.get('WebIdentityToken'))).size).toBe(web.length);
      for (const { form, req } of web) {
        const policy = form.get('Policy');
        // Each session is named after its own module and scoped to that module's services.
        const owner = Object.keys(COMMAND_MODULES).find((n) => form.get('RoleSessionName') === sessionOf(n))!;
        expect(owner).toBeDefined();
        expect(policy).toBe(policyFor(COMMAND_MODULES[owner]!.services));
        expect(form.get('RoleArn')).toBe(role);
        expect(form.get('DurationSeconds')).toBe('900');
        expect(form.get('Version')).toBe('2011-06-15');
        expect(tokens).toContain(form.get('WebIdentityToken'));
        expect(
          [...form.keys()].filter((k) => /^(Tags|TransitiveTagKeys|SourceIdentity|PolicyArns)/.test(k)),
        ).toEqual([]);
        expect(header(req, 'authorization')).toBeUndefined();
        expect(header(req, 'x-amz-security-token')).toBeUndefined();
      }
    });

    // The plan run runs each module's `plan` script; the apply run its `plan`, then its `apply`.
    const scripts = phase === 'plan' ? (['plan'] as const) : (['plan', 'apply'] as const);

    test(`${label}: each command module's AWS CLI ran as an assumed role of ${label === 'plan' ? 'plan_role' : 'role'} with only its services`, () => {
      const run = phase === 'plan' ? plan : apply;
      const outputs = JSON.parse(run.outputs.outputs ?? '{}') as Record<string, Record<string, unknown>>;
      const roleName = role.split('/').pop();
      for (const [name, m] of Object.entries(COMMAND_MODULES)) {
        const arn = String(outputs[name]?.caller_arn);
        expect(arn).toMatch(
          new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/sd-${SITE}-${ENV}-`),
        );
        // The session it ran under carries exactly that module's policy.
        const session = run.sessions.find((s) => s.arn === arn);
        expect(session?.policy).toBe(policyFor(m.services));
        for (const script of scripts) {
          // The CLI found STS through AWS_ENDPOINT_URL_STS in the step's environment.
          expect(probe(run, name, script, 'sts-endpoint')).toBe(moto.endpoint);
          const identity = JSON.parse(probe(run, name, script, 'identity.json')) as { Arn: string };
          expect({ module: name, script, ...identity }).toMatchObject({
            module: name,
            script,
            Arn: arn,
            Account: ACCOUNT,
          });
        }
      }
      // Every GetCallerIdentity was signed with the keys of a session moto issued in this run.
      const signers = stsCalls(run, 'GetCallerIdentity').map(
        (c) => /Credential=([A-Z0-9]+)\//.exec(header(c.req, 'authorization') ?? '')?.[1],
      );
      expect(signers).toHaveLength(Object.keys(COMMAND_MODULES).length * scripts.length);
      for (const s of signers) expect(run.sessions.map((x) => x.access_key_id)).toContain(s);
    });

    test(`${label}: every module step runs under a session named after itself (SPEC §6: sd-<site>-<env>-<module>)`, () => {
      const run = phase === 'plan' ? plan : apply;
      const outputs = JSON.parse(run.outputs.outputs ?? '{}') as Record<string, Record<string, unknown>>;
      const got = Object.fromEntries(
        Object.keys(COMMAND_MODULES).map((name) => [
          name,
          String(outputs[name]?.caller_arn).split('/').pop(),
        ]),
      );
      expect(got).toEqual(Object.fromEntries(Object.keys(COMMAND_MODULES).map((n) => [n, sessionOf(n)])));
    });

    test(`${label}: the credential endpoint served exactly the session moto issued for the module`, () => {
      const run = phase === 'plan' ? plan : apply;
      const session = run.sessions.find((s) => s.session_name === sessionOf('network'));
      expect(session).toBeDefined();
      for (const script of scripts) {
        expect(probe(run, 'network', script, 'secret.sha256')).toBe(sha256(session!.secret_access_key));
        expect(probe(run, 'network', script, 'akid.sha256')).toBe(sha256(session!.access_key_id));
        expect(probe(run, 'network', script, 'token.sha256')).toBe(sha256(session!.session_token));
        expect(probe(run, 'network', script, 'keys').split(',')).toEqual(
          expect.arrayContaining(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Token']),
        );
        expect(probe(run, 'network', script, 'no-token-status')).toBe('401');
      }
    });

    test(`${label}: a step's child sees its endpoint, not the runner's tokens, inputs or static keys`, () => {
      const run = phase === 'plan' ? plan : apply;
      for (const name of Object.keys(COMMAND_MODULES)) {
        for (const script of scripts) {
          const names = probe(run, name, script, 'env-names').split('\n');
          expect(names).toEqual(
            expect.arrayContaining([
              'AWS_CONTAINER_CREDENTIALS_FULL_URI',
              'AWS_CONTAINER_AUTHORIZATION_TOKEN',
              'AWS_ENDPOINT_URL_STS',
              'AWS_REGION',
              'SITE_DEPLOY_INPUTS',
              'SITE_DEPLOY_OUTPUTS',
            ]),
          );
          expect(
            names.filter((n) =>
              /^(INPUT_|ACTIONS_ID_TOKEN_REQUEST_|ACTIONS_RUNTIME_TOKEN$|AWS_ACCESS_KEY_ID$|AWS_SECRET_ACCESS_KEY$|AWS_SESSION_TOKEN$)/.test(
                n,
              ),
            ),
          ).toEqual([]);
        }
      }
    });

    test(`${label}: GITHUB_OUTPUT has status, summary (JSON) and outputs; the step summary has the report`, () => {
      const run = phase === 'plan' ? plan : apply;
      expect(Object.keys(run.outputs)).toEqual(expect.arrayContaining(['status', 'summary', 'outputs']));
      const summary = JSON.parse(run.outputs.summary as string) as {
        site: string;
        environment: string;
        command: string;
        status: string;
        modules: { name: string; status: string }[];
      };
      expect(summary).toMatchObject({ site: SITE, environment: ENV, command: phase, status: 'succeeded' });
      expect(summary.modules.map((m) => m.name)).toEqual(['network', 'database', 'app', 'vault']);
      const outputs = JSON.parse(run.outputs.outputs as string) as Record<string, Record<string, unknown>>;
      // Sensitive outputs (Terraform's flag, the manifest's sensitive_outputs) are left out.
      expect(Object.keys(outputs.database ?? {})).toEqual(['caller_arn']);
      if (phase === 'apply') expect(outputs.vault).toEqual({ label: 'vault-label' });
      else expect(outputs.vault?.secret_value).toBeUndefined();
      const stepSummary = readFileSync(run.files.summary, 'utf8');
      expect(stepSummary).toContain(MARKER);
      for (const name of ['network', 'database', 'app', 'vault']) expect(stepSummary).toContain(name);
      // Nothing exported to later steps.
      expect(readFileSync(run.files.env, 'utf8')).toBe('');
    });
  }

  test('GitHub: the plan creates one PR comment with the marker; the apply updates that same comment', () => {
    const created = github.find('POST', /^\/repos\/org\/repo\/issues\/7\/comments$/);
    expect(created).toHaveLength(1);
    expect(plan.github).toContain(created[0]);
    expect(String((created[0]!.json as { body: string }).body)).toContain(MARKER);
    const comments = github.commentsOn(7);
    expect(comments).toHaveLength(1);
    const updates = apply.github.filter((r) => r.method === 'PATCH' && /\/issues\/comments\//.test(r.path));
    expect(updates.map((r) => r.path)).toEqual([`/repos/org/repo/issues/comments/${comments[0]!.id}`]);
    expect(apply.github.filter((r) => r.method === 'POST' && /\/issues\//.test(r.path))).toEqual([]);
    expect(comments[0]!.updates).toBe(1);
    expect(comments[0]!.body).toContain(MARKER);
    expect(comments[0]!.body).toMatch(/apply/i);
    // The comment list was read before writing, both times.
    for (const run of [plan, apply])
      expect(run.github.some((r) => r.method === 'GET' && /\/issues\/7\/comments/.test(r.path))).toBe(true);
  });

  test('GitHub: each run has a check run on the PR head, created in_progress and completed success', () => {
    const runs = [...github.checkRuns.values()];
    expect(runs).toHaveLength(2);
    for (const r of runs) {
      expect(r).toMatchObject({
        name: CHECK_NAME,
        head_sha: HEAD_SHA,
        status: 'completed',
        conclusion: 'success',
      });
      expect(r.history).toEqual(['in_progress', 'completed/success']);
      expect(r.details_url).toBe('https://github.com/org/repo/actions/runs/4242');
      expect(r.output.summary).toContain(MARKER);
    }
    for (const run of [plan, apply]) {
      const create = run.github.filter((r) => r.method === 'POST' && r.path === '/repos/org/repo/check-runs');
      expect(create).toHaveLength(1);
      expect(create[0]!.json).toMatchObject({ name: CHECK_NAME, head_sha: HEAD_SHA, status: 'in_progress' });
    }
  });

  test('GitHub: every request was valid per the OpenAPI description and authenticated', () => {
    expect(github.problems).toEqual([]);
    expect(github.requests.length).toBeGreaterThan(0);
    for (const r of github.requests) expect(r.status).toBeLessThan(300);
  });

  test('no credential, OIDC token or sensitive output leaks into logs, command files, GitHub or files left behind', () => {
    expect(plan.sessions.length).toBeGreaterThan(0);
    expect(apply.sessions.length).toBeGreaterThan(0);
    expect(leaks(plan, secretsOf(plan, planTokens), stateExempt)).toEqual([]);
    expect(leaks(apply, secretsOf(apply, applyTokens), stateExempt)).toEqual([]);
    // Every session credential part and OIDC token was masked (the runner hides it if a tool prints it).
    for (const run of [plan, apply])
      for (const s of run.sessions)
        for (const v of [s.access_key_id, s.secret_access_key, s.session_token])
          expect(run.stdout).toContain(`::add-mask::${v}`);
    for (const t of issuer.tokens.slice(planTokens, applyTokens))
      expect(plan.stdout).toContain(`::add-mask::${t}`);
    for (const t of issuer.tokens.slice(applyTokens)) expect(apply.stdout).toContain(`::add-mask::${t}`);
    // The state is the one place Terraform keeps the sensitive value, flagged as such.
    const state = repo.readState('vault');
    expect(state.outputs.secret_value).toMatchObject({ sensitive: true });
    // The work folders (saved plans hold sensitive values) are gone.
    expect(walk(join(apply.runnerTemp, 'site-deploy'))).toEqual([]);
  });
});

describe('bundled action: PR comment settings and failures', () => {
  test('comment: false → no comment requests at all; the check run and job summary still happen', async () => {
    github.reset();
    const run = await runAction('plan', { inputs: { comment: 'false' } });
    if (run.code !== 0) throw new Error(why(run));
    expect(run.github.filter((r) => /\/issues\//.test(r.path))).toEqual([]);
    expect(github.checkRuns.size).toBe(1);
    expect(readFileSync(run.files.summary, 'utf8')).toContain(MARKER);
    expect(github.problems).toEqual([]);
  }, 150_000);

  test('403 on comment create (a fork PR) → a warning, the step still succeeds with the job summary', async () => {
    github.reset();
    github.inject({
      method: 'POST',
      path: /^\/repos\/org\/repo\/issues\/7\/comments$/,
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
        status: '403',
      },
    });
    const run = await runAction('plan');
    if (run.code !== 0) throw new Error(why(run));
    expect(run.outputs.status).toBe('succeeded');
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning'));
    expect(warnings.join('\n')).toMatch(/comment/i);
    expect(warnings.join('\n')).toMatch(/403|not accessible|fork/i);
    expect(readFileSync(run.files.summary, 'utf8')).toContain(MARKER);
    expect(
      run.github.filter((r) => r.method === 'POST' && /\/issues\/7\/comments$/.test(r.path)),
    ).toHaveLength(1);
    expect(github.commentsOn(7)).toEqual([]);
    const checks = [...github.checkRuns.values()];
    expect(checks.map((c) => c.conclusion)).toEqual(['success']);
    expect(github.problems).toEqual([]);
  }, 150_000);

  test('an existing marker comment on a later page is found (pagination) and updated, not duplicated', async () => {
    github.reset();
    for (let i = 0; i < 120; i++) github.seedComment(7, `chatter ${i}`);
    const ours = github.seedComment(7, `${MARKER}\nold report`, {
      login: 'github-actions[bot]',
      type: 'Bot',
    });
    const run = await runAction('plan');
    if (run.code !== 0) throw new Error(why(run));
    expect(run.github.filter((r) => r.method === 'GET' && /\/issues\/7\/comments/.test(r.path)).length).toBe(
      2,
    );
    expect(run.github.filter((r) => r.method === 'POST' && /\/issues\/7\/comments$/.test(r.path))).toEqual(
      [],
    );
    expect(github.comments.get(ours.id)!.updates).toBe(1);
    expect(github.comments.get(ours.id)!.body).not.toContain('old report');
    expect(github.problems).toEqual([]);
  }, 150_000);

  test('credentials-mode: env → the child gets AWS_* keys of its own session instead of the endpoint, and nothing leaks', async () => {
    github.reset();
    const before = issuer.tokens.length;
    const run = await runAction('plan', { inputs: { 'credentials-mode': 'env' } });
    if (run.code !== 0) throw new Error(why(run));
    const outputs = JSON.parse(run.outputs.outputs as string) as Record<string, Record<string, unknown>>;
    for (const name of ['network', 'database']) {
      const names = probe(run, name, 'plan', 'env-names').split('\n');
      expect(names).toEqual(
        expect.arrayContaining([
          'AWS_ACCESS_KEY_ID',
          'AWS_SECRET_ACCESS_KEY',
          'AWS_SESSION_TOKEN',
          'AWS_REGION',
        ]),
      );
      expect(names.filter((n) => n.startsWith('AWS_CONTAINER_'))).toEqual([]);
      expect(outputs[name]?.caller_arn).toBe(
        `arn:aws:sts::${ACCOUNT}:assumed-role/site-deploy-production-ro/${sessionOf(name)}`,
      );
    }
    expect(leaks(run, secretsOf(run, before), stateExempt)).toEqual([]);
    expect(github.problems).toEqual([]);
  }, 150_000);

  test('OIDC token refused (no id-token permission) → the step fails closed, no STS call, check run fails', async () => {
    github.reset();
    const run = await runAction('plan', { env: { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-request-token' } });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(stsCalls(run)).toEqual([]);
    const summary = JSON.parse(run.outputs.summary as string) as {
      modules: { name: string; status: string }[];
    };
    expect(summary.modules.find((m) => m.name === 'network')?.status).toBe('failed');
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors.join('\n')).toMatch(/network/);
    expect(errors.join('\n')).toMatch(/id-token: write/);
    expect([...github.checkRuns.values()].map((c) => c.conclusion)).toEqual(['failure']);
    const comments = github.commentsOn(7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(MARKER);
    expect(github.problems).toEqual([]);
  }, 150_000);

  test('a push event (no pull request): no comment requests; the check run goes on GITHUB_SHA', async () => {
    github.reset();
    const run = await runAction('plan', {
      event: {
        name: 'push',
        payload: {
          ref: 'refs/heads/main',
          after: MERGE_SHA,
          repository: { full_name: 'org/repo', name: 'repo', owner: { login: 'org' } },
        },
      },
      env: { GITHUB_REF: 'refs/heads/main' },
    });
    if (run.code !== 0) throw new Error(why(run));
    expect(run.github.filter((r) => /\/issues\//.test(r.path))).toEqual([]);
    expect([...github.checkRuns.values()].map((c) => [c.head_sha, c.conclusion])).toEqual([
      [MERGE_SHA, 'success'],
    ]);
    expect(readFileSync(run.files.summary, 'utf8')).toContain(MARKER);
    expect(github.problems).toEqual([]);
  }, 150_000);
});

describe('bundled action: a via hub', () => {
  const VIA = 'arn:aws:iam::999999999999:role/site-deploy-oidc';
  test('apply: web identity into the hub (untagged), then AssumeRole into the role with source identity and tags, ≤ 1 h', async () => {
    github.reset();
    const hubRepo = await writeSite({
      site: SITE,
      env: ENV,
      settings: { state: { backend: 'local' } },
      modules: [{ type: 'net', name: 'network', weight: 10 }],
      catalog: { net: { engine: 'command' } },
      credentials: {
        aws_account: ACCOUNT,
        role: ROLE,
        plan_role: PLAN_ROLE,
        via: VIA,
        region: 'us-east-1',
        session_duration: 3600,
        allowed_services: ['ec2'],
      },
    });
    const dir = join(hubRepo.root, 'modules', 'net');
    await writeFile(join(dir, 'module.yaml'), 'engine: command\nservices: [ec2]\noutputs: [caller_arn]\n');
    for (const phase of ['plan', 'apply'] as const)
      await writeFile(join(dir, phase), commandScript('network', phase), { mode: 0o755 });
    const before = issuer.tokens.length;
    // Nothing was planned for review here: this test is about the session chain.
    const run = await runAction('apply', { repo: hubRepo, inputs: { binding: 'off' } });
    if (run.code !== 0) throw new Error(why(run));
    const calls = stsCalls(run).filter((c) => c.form.get('Action') !== 'GetCallerIdentity');
    expect(calls.map((c) => [c.form.get('Action'), c.form.get('RoleArn')])).toEqual([
      ['AssumeRoleWithWebIdentity', VIA],
      ['AssumeRole', ROLE],
    ]);
    const [web, hop] = calls as [(typeof calls)[0], (typeof calls)[0]];
    expect(web.form.get('RoleSessionName')).toBe(sessionOf('network'));
    expect([...web.form.keys()].filter((k) => /^(Tags|TransitiveTagKeys|SourceIdentity)/.test(k))).toEqual(
      [],
    );
    expect(header(web.req, 'authorization')).toBeUndefined();
    const hub = run.sessions.find((s) => s.role_arn === VIA);
    expect(/Credential=([A-Z0-9]+)\//.exec(header(hop.req, 'authorization') ?? '')?.[1]).toBe(
      hub?.access_key_id,
    );
    expect(hop.form.get('RoleSessionName')).toBe(sessionOf('network'));
    expect(hop.form.get('SourceIdentity')).toBe('octocat');
    expect(Number(hop.form.get('DurationSeconds'))).toBeLessThanOrEqual(3600);
    const tags: Record<string, string> = {};
    for (let i = 1; hop.form.has(`Tags.member.${i}.Key`); i++)
      tags[hop.form.get(`Tags.member.${i}.Key`)!] = hop.form.get(`Tags.member.${i}.Value`)!;
    expect(tags).toEqual({
      Site: SITE,
      Environment: ENV,
      Module: 'network',
      Repository: 'org/repo',
      RunId: '4242',
    });
    expect(hop.form.get('Policy')).toBe(policyFor(['ec2']));
    const outputs = JSON.parse(run.outputs.outputs as string) as Record<string, Record<string, unknown>>;
    expect(outputs.network?.caller_arn).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/site-deploy-production/${sessionOf('network')}`,
    );
    const secrets = secretsOf(run, before);
    expect(leaks(run, secrets)).toEqual([]);
    expect(github.problems).toEqual([]);
  }, 150_000);
});
