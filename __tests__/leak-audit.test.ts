// The leak audit (SPEC §6, §7): recognizable secrets are planted everywhere a secret can come from
// — a sensitive variable, a sensitive string output, a sensitive map output, a command module's
// sensitive output, the STS credentials of every session, the GitHub token, the OIDC tokens, the
// per-step credential endpoint token — and modules that print them carelessly. Then plan and apply
// run through the bundled action (runner-like environment, moto for STS and S3 state, a local OIDC
// issuer, the GitHub API stand-in) and through the bundled CLI, and every byte they produce is
// scanned: stdout (minus the runner's own `::add-mask::` commands), stderr, every file left or
// changed under the repository and the runner folders, the GITHUB_* command files, and every
// request body sent to the GitHub API.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { actionBundle, runBundledAction, type ActionRun } from './helpers/action-runner.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { startGitHubServer, type GitHubServer } from './helpers/github-server.js';
import { startMoto, type Moto } from './helpers/moto.js';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';
import { cleanupRepos, writeRepo, type Files } from './helpers/repo.js';
import { readAsRunner } from './helpers/runner-commands.js';
import { cleanupSites, cliSnapshot } from './helpers/site.js';

const PLANTED = {
  variable: 'LEAKAUDIT-sensitive-variable-7f3a9c',
  outString: 'LEAKAUDIT-sensitive-output-41b2e8',
  outMap: 'LEAKAUDIT-sensitive-map-leaf-9d0e17',
  cmdOutput: 'LEAKAUDIT-command-output-c55a02',
  githubToken: 'ghs_LEAKAUDITgithubToken0000000000000000',
  ambientSecret: 'LEAKAUDIT-ambient-secret-key-0e0e0e',
};
const BUCKET = 'leak-audit-state';
const ACCOUNT = '111111111111';

let moto: Moto;
let proxy: FaultProxy;
let issuer: OidcIssuer;
let github: GitHubServer;
let root: string;
/** Where modules drop the per-step endpoint tokens they saw, so the test knows what to look for. */
let probeDir: string;
/** STS credentials planted in every AssumeRole* answer. */
const stsPlanted: string[] = [];

const script = (body: string): { script: string } => ({ script: `#!/bin/sh\nset -e\n${body}\n` });

/** A careless command module: prints its inputs and its credentials, to stdout and stderr. */
const CARELESS = `
echo "inputs: $(cat "$SITE_DEPLOY_INPUTS" | tr -d '\\n')"
echo "inputs again: $(cat "$SITE_DEPLOY_INPUTS" | tr -d '\\n')" >&2
if [ -n "\${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" ]; then
  printf '%s\\n' "$AWS_CONTAINER_AUTHORIZATION_TOKEN" >> "$LEAK_PROBE_DIR/endpoint-tokens-$(id -u)"
  echo "endpoint token: $AWS_CONTAINER_AUTHORIZATION_TOKEN"
  echo "credentials: $(curl -sf -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")"
fi
echo "env: $(env | grep -E '^AWS_(ACCESS|SECRET|SESSION)' | tr '\\n' ' ')"
`;

function repoFiles(): Files {
  return {
    'sites/portal/site.yaml': {
      site: {
        name: 'portal',
        owner: 'platform',
        state: { backend: 's3', bucket: BUCKET, region: 'us-east-1', key_prefix: 'sites' },
        modules: [
          { type: 'db', name: 'db', password: '#{db_password}' },
          {
            type: 'app',
            name: 'app',
            conn: '#{db.conn}',
            admin: '#{db.admin}',
            api_key: '#{db.api_key}',
            encoded: '#{db.api_key | Base64}',
          },
          { type: 'report', name: 'report', token: '#{app.token}' },
        ],
      },
    },
    'sites/portal/environments/production.yaml': {
      environment: 'production',
      variables: { db_password: PLANTED.variable },
    },
    'sites/portal/credentials.yaml': {
      credentials: {
        production: {
          aws_account: ACCOUNT,
          role: `arn:aws:iam::${ACCOUNT}:role/site-deploy-production`,
          plan_role: `arn:aws:iam::${ACCOUNT}:role/site-deploy-production-ro`,
          region: 'us-east-1',
          session_duration: 900,
        },
      },
    },
    'modules/db/module.yaml': {
      engine: 'terraform',
      services: ['rds'],
      inputs: { password: { type: 'string', required: true, sensitive: true } },
      outputs: ['conn', 'admin', 'api_key', 'endpoint'],
    },
    'modules/db/main.tf': `variable "password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "db" {
  input = var.password
}
# Careless: shows the password in the plan text, and prints it while applying.
resource "terraform_data" "careless" {
  input = nonsensitive(var.password)
  provisioner "local-exec" {
    command = "echo connecting with $PW"
    environment = { PW = nonsensitive(var.password) }
  }
}
output "conn" {
  value     = "postgres://app:\${var.password}@db.internal:5432/app"
  sensitive = true
}
output "admin" {
  value     = { user = "admin", password = "${PLANTED.outMap}" }
  sensitive = true
}
output "api_key" {
  value     = "${PLANTED.outString}"
  sensitive = true
}
output "endpoint" {
  value = "db.internal:5432"
}
`,
    'modules/app/module.yaml': {
      engine: 'command',
      services: ['ecs'],
      inputs: {
        conn: { type: 'string' },
        admin: { type: 'map' },
        api_key: { type: 'string' },
        encoded: { type: 'string' },
      },
      outputs: ['token', 'url'],
      sensitive_outputs: ['token'],
    },
    'modules/app/plan': script(
      `${CARELESS}\necho '{"add":1,"change":0,"destroy":0}' > "$SITE_DEPLOY_CHANGES"`,
    ),
    'modules/app/apply': script(
      `${CARELESS}\nkey=$(jq -r .api_key "$SITE_DEPLOY_INPUTS")\n` +
        `printf '{"token":"%s","url":"https://app.internal/?key=%s"}' '${PLANTED.cmdOutput}' "$key" > "$SITE_DEPLOY_OUTPUTS"`,
    ),
    'modules/report/module.yaml': { engine: 'command', services: [], inputs: { token: { type: 'string' } } },
    'modules/report/plan': script(`echo '{"add":1,"change":0,"destroy":0}' > "$SITE_DEPLOY_CHANGES"`),
    // Fails quoting its secret input: the reason reaches annotations, check run, summaries, CLI text.
    'modules/report/apply': script(
      `echo "cannot reach the API with token $(jq -r .token "$SITE_DEPLOY_INPUTS")" >&2\nexit 3`,
    ),
  };
}

/** Plants recognizable credentials in every STS answer (moto accepts them back, whatever they are). */
function plantCredentials(_r: unknown, body: string): string {
  if (!body.includes('<Credentials>')) return body;
  const n = stsPlanted.length / 3 + 1;
  const akid = `ASIALEAKAUDIT${String(n).padStart(7, '0')}`;
  const secret = `LEAKAUDIT-sts-secret-${n}-${'s'.repeat(20)}`;
  const token = `LEAKAUDIT-sts-token-${n}-${'t'.repeat(40)}`;
  stsPlanted.push(akid, secret, token);
  return body
    .replace(/<AccessKeyId>[^<]*<\/AccessKeyId>/, `<AccessKeyId>${akid}</AccessKeyId>`)
    .replace(/<SecretAccessKey>[^<]*<\/SecretAccessKey>/, `<SecretAccessKey>${secret}</SecretAccessKey>`)
    .replace(/<SessionToken>[^<]*<\/SessionToken>/, `<SessionToken>${token}</SessionToken>`);
}

/** Every secret to look for, by name. */
function secrets(): Map<string, string> {
  const all = new Map<string, string>(Object.entries(PLANTED));
  stsPlanted.forEach((s, i) => all.set(`sts-${i}`, s));
  issuer.tokens.forEach((t, i) => all.set(`oidc-token-${i}`, t));
  all.set('oidc-request-token', issuer.requestToken);
  // One file per uid: each sandboxed step may run under another uid, which cannot append to a file
  // a step of another uid created in the sticky probe folder.
  const tokens = existsSync(probeDir)
    ? readdirSync(probeDir)
        .filter((n) => n.startsWith('endpoint-tokens'))
        .flatMap((n) => readFileSync(join(probeDir, n), 'utf8').split('\n'))
        .filter(Boolean)
    : [];
  tokens.forEach((t, i) => all.set(`endpoint-token-${i}`, t));
  return all;
}

/** Files under a folder, with their sha256. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** What the runner shows or executes from a stream, without its own add-mask commands. */
function visible(stream: string): string {
  const r = readAsRunner(stream);
  const executed = r.commands
    .filter((c) => c.name !== 'add-mask')
    .map((c) => `${c.name} ${JSON.stringify(c.props)} ${c.data}`);
  return [...r.shown, ...executed].join('\n');
}

/** Every place a secret was found: `<where>: <secret name>`. */
const findings: string[] = [];
/** Places scanned, so the audit cannot pass by scanning nothing. */
const scanned: string[] = [];
/** Text gathered per place, scanned once every secret is known. */
const collected: { where: string; text: string }[] = [];

function collect(where: string, text: string): void {
  collected.push({ where, text });
}

let before: Map<string, string>;

function collectAction(label: string, run: ActionRun): void {
  collect(`${label} stdout`, visible(run.stdout));
  collect(`${label} stderr`, visible(run.stderr));
  for (const [file] of tree(run.runnerDir))
    collect(`${label} ${relative(run.runnerDir, file)}`, readFileSync(file, 'utf8'));
}

function collectRepo(label: string): void {
  for (const [file, hash] of tree(root)) {
    if (before.get(file) === hash) continue; // the user's own files, as they were
    collect(`${label} repo:${relative(root, file)}`, readFileSync(file, 'utf8'));
  }
}

const prEvent = {
  name: 'pull_request',
  payload: {
    action: 'synchronize',
    number: 7,
    pull_request: {
      number: 7,
      state: 'open',
      head: { sha: 'b'.repeat(40), ref: 'feature/x', repo: { full_name: 'org/repo' } },
      base: { sha: 'a'.repeat(40), ref: 'main', repo: { full_name: 'org/repo' } },
    },
    repository: { full_name: 'org/repo', name: 'repo', owner: { login: 'org' } },
    sender: { login: 'octocat', type: 'User' },
  },
};

beforeAll(async () => {
  await actionBundle();
  await cliSnapshot();
  moto = await startMoto();
  proxy = await startFaultProxy(moto.endpoint, { rewrite: plantCredentials });
  issuer = await startOidcIssuer();
  github = await startGitHubServer({ token: PLANTED.githubToken });
  const s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
  probeDir = await mkdtemp(join(tmpdir(), 'sd-leak-probe-'));
  // Sandboxed, a module runs as a uid of its own: it may write its findings here (sticky, like /tmp).
  await chmod(probeDir, 0o1777);
  root = await writeRepo(repoFiles());
  before = tree(root);

  const aws = {
    AWS_ENDPOINT_URL_STS: proxy.endpoint,
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_REGION: 'us-east-1',
    LEAK_PROBE_DIR: probeDir,
  };
  const inputs = { site: 'portal', environment: 'production', 'github-token': PLANTED.githubToken };
  const actionEnv = { ...aws, ...issuer.env(), GITHUB_API_URL: github.url };
  const plan = await runBundledAction({
    root,
    inputs: { ...inputs, command: 'plan' },
    env: { ...actionEnv, GITHUB_REF: 'refs/pull/7/merge' },
    event: prEvent,
  });
  collectAction('action plan', plan);
  collectRepo('after action plan:');
  // The push of its merge: binding reads the plan reviewed on pull request 7 (its header is an output path too).
  github.setCommitPulls('c'.repeat(40), [
    {
      number: 7,
      head_sha: 'b'.repeat(40),
      merged_at: new Date().toISOString(),
      merge_commit_sha: 'c'.repeat(40),
    },
  ]);
  const apply = await runBundledAction({ root, inputs: { ...inputs, command: 'apply' }, env: actionEnv });
  collectAction('action apply', apply);
  collectRepo('after action apply:');
  runs.push(['action plan', plan.code, plan.stdout], ['action apply', apply.code, apply.stdout]);

  // The CLI from a terminal: ambient credentials (planted too), verbose engine output, JSON.
  const cliEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...aws,
    AWS_ACCESS_KEY_ID: 'AKIALEAKAUDITAMBIENT',
    AWS_SECRET_ACCESS_KEY: PLANTED.ambientSecret,
    SITE_DEPLOY_REPOSITORY: 'org/repo',
  };
  const base = ['--root', root, '--site', 'portal', '--env', 'production'];
  for (const args of [
    ['graph', ...base, '--json'],
    ['graph', ...base],
    ['plan', ...base, '--json'],
    ['plan', ...base, '--verbose'],
    ['apply', ...base, '--verbose'],
    ['apply', ...base, '--json'],
    ['trust-policy', ...base],
  ]) {
    const r = await cli(args, cliEnv);
    collect(`cli ${args[0]} ${args.at(-1)} stdout`, r.stdout);
    collect(`cli ${args[0]} ${args.at(-1)} stderr`, r.stderr);
    runs.push([`cli ${args.join(' ')}`, r.code, r.stdout + r.stderr]);
  }
  collectRepo('after the CLI:');
  for (const req of github.requests) collect(`GitHub ${req.method} ${req.path}`, req.body);

  const all = secrets();
  for (const { where, text } of collected) {
    scanned.push(where);
    for (const [name, value] of all) if (text.includes(value)) findings.push(`${where}: ${name}`);
  }
}, 600_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
  await issuer?.stop();
  await github?.stop();
  await rm(probeDir, { recursive: true, force: true });
  await cleanupRepos();
  await cleanupSites();
});

const runs: [string, number | null, string][] = [];

async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = await cliSnapshot();
  return new Promise((ok) =>
    execFile(
      resolve('node_modules/.bin/node'),
      [script, ...args],
      { env, maxBuffer: 1 << 26 },
      (e, stdout, stderr) => ok({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr }),
    ),
  );
}

describe('leak audit', () => {
  test('the planted secrets were really met: sessions made, tokens minted, careless modules ran', () => {
    const all = secrets();
    expect(stsPlanted.length).toBeGreaterThanOrEqual(9); // ≥ 3 sessions, each key id, secret and token
    expect(issuer.tokens.length).toBeGreaterThan(0);
    expect([...all.keys()].filter((k) => k.startsWith('endpoint-token')).length).toBeGreaterThan(0);
    expect(github.requests.length).toBeGreaterThan(0);
    expect(github.problems).toEqual([]);
    // The modules printed their secrets; what reached the log is the mask.
    const applyOut = runs.find(([n]) => n === 'action apply')?.[2] ?? '';
    expect(visible(applyOut)).toMatch(/connecting with \*\*\*/);
    expect(visible(applyOut)).toMatch(/credentials: \{.*"SecretAccessKey":"\*\*\*"/);
    // Every run got as far as the failing report module (or, for graph/trust-policy, finished).
    for (const [name, code] of runs) expect(`${name}: exit ${code}`).toMatch(/: exit [01]$/);
    expect(scanned.length).toBeGreaterThan(20);
    // The evidence records of every plan and apply were among the files scanned.
    expect(
      scanned.filter((w) => w.includes('repo:.site-deploy/evidence/portal/production/')).length,
    ).toBeGreaterThanOrEqual(6);
  });

  test('no secret appears in any stdout, stderr, file, command file or GitHub request', () => {
    expect(findings).toEqual([]);
  });
});
