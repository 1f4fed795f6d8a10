// The bundled CLI (dist/cli.js) outside GitHub Actions: the first hop comes from the ambient AWS
// credential chain — here static keys planted in the environment — and goes through a `via` hub
// with AssumeRole (source identity and session tags on every hop), against moto. The command
// modules' scripts call the real AWS CLI, which must see only the step's own session.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { startMoto, type Moto, type MotoRequest } from './helpers/moto.js';
import { cleanupSites, cliSnapshot, tempFolder, writeSite, type SiteRepo } from './helpers/site.js';

const NODE24 = resolve('node_modules/.bin/node');
const SITE = 'portal';
const ENV = 'production';
const ACCOUNT = '111111111111';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/site-deploy-production`;
const VIA = 'arn:aws:iam::999999999999:role/site-deploy-hub';
const PLANTED_KEY_ID = 'AKIAPLANTEDE2E00001';
const PLANTED_SECRET = 'planted-secret-e2e-value';
const REPOSITORY = 'acme/portal';
const ACTOR = 'e2e-tester';

const MODULES: Record<string, { type: string; services: string[] }> = {
  network: { type: 'net', services: ['ec2'] },
  database: { type: 'db', services: ['rds'] },
};

const policyFor = (services: string[]): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: [...services].sort().map((s) => `${s}:*`), Resource: '*' }],
  });

const hubPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
      Resource: ROLE,
    },
  ],
});

let moto: Moto;
let repo: SiteRepo;
let cli: string;
let probeDir: string;
let runs = 0;

/** A tolerant script: reports who the AWS CLI is (or "none"), and whether ambient keys reached it. */
function script(module: string, phase: 'plan' | 'apply'): string {
  return `#!/bin/sh
set -e
probe="$SD_E2E_PROBE_DIR/$SD_E2E_RUN-${module}-${phase}"
env | cut -d= -f1 | sort > "$probe.env-names"
if aws sts get-caller-identity --output json > "$probe.identity.json" 2> "$probe.err"; then
  arn=$(jq -r .Arn "$probe.identity.json")
else
  arn=none
fi
printf '{"caller_arn": "%s", "ambient_key_visible": "%s"}' "$arn" "\${AWS_ACCESS_KEY_ID:+yes}" > "$SITE_DEPLOY_OUTPUTS"
${phase === 'plan' ? `printf '{"add": 1, "change": 0, "destroy": 0}' > "$SITE_DEPLOY_CHANGES"` : ''}
`;
}

async function writeRepo(): Promise<SiteRepo> {
  const r = await writeSite({
    site: SITE,
    env: ENV,
    modules: Object.entries(MODULES).map(([name, m], i) => ({ type: m.type, name, weight: 10 * (i + 1) })),
    catalog: Object.fromEntries(Object.values(MODULES).map((m) => [m.type, { engine: 'command' as const }])),
    credentials: {
      aws_account: ACCOUNT,
      role: ROLE,
      via: VIA,
      region: 'us-east-1',
      session_duration: 3600,
      allowed_services: ['ec2', 'rds'],
    },
  });
  for (const [name, m] of Object.entries(MODULES)) {
    const dir = join(r.root, 'modules', m.type);
    await writeFile(
      join(dir, 'module.yaml'),
      `engine: command\nservices: [${m.services.join(', ')}]\noutputs: [caller_arn, ambient_key_visible]\n`,
    );
    for (const phase of ['plan', 'apply'] as const)
      await writeFile(join(dir, phase), script(name, phase), { mode: 0o755 });
  }
  return r;
}

interface CliRun {
  id: string;
  code: number | null;
  stdout: string;
  stderr: string;
  moto: MotoRequest[];
}

/** Runs the CLI snapshot with node 24 in a clean environment: PATH, HOME, planted keys, moto. */
async function runCli(
  args: string[],
  env: Record<string, string> = {},
  prepare?: () => Promise<Record<string, string>>,
): Promise<CliRun> {
  await moto.reset();
  if (prepare) env = { ...env, ...(await prepare()) };
  const id = `cli${++runs}`;
  const child = spawn(NODE24, [cli, ...args], {
    cwd: repo.root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      USER: ACTOR,
      NODE_NO_WARNINGS: '1',
      // The modules call the AWS CLI, which may live under root's home (pyenv): out of a sandboxed
      // step's reach. What these tests prove is the credential chain, unsandboxed (sandbox.test.ts).
      SITE_DEPLOY_ISOLATION: 'off',
      AWS_ACCESS_KEY_ID: PLANTED_KEY_ID,
      AWS_SECRET_ACCESS_KEY: PLANTED_SECRET,
      AWS_ENDPOINT_URL: moto.endpoint,
      // Nothing from this machine's AWS setup may take part.
      AWS_CONFIG_FILE: '/nonexistent/site-deploy-e2e',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/site-deploy-e2e',
      AWS_EC2_METADATA_DISABLED: 'true',
      SITE_DEPLOY_REPOSITORY: REPOSITORY,
      SD_E2E_PROBE_DIR: probeDir,
      SD_E2E_RUN: id,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((ok) => child.once('close', (c) => ok(c)));
  clearTimeout(timer);
  return { id, code, stdout, stderr, moto: moto.requests() };
}

function stsCalls(run: CliRun, action?: string): { form: URLSearchParams; req: MotoRequest }[] {
  return run.moto
    .filter((r) => r.method === 'POST' && /(^|&)Action=/.test(r.body))
    .map((req) => ({ form: new URLSearchParams(req.body), req }))
    .filter((c) => action === undefined || c.form.get('Action') === action);
}

function header(req: MotoRequest, name: string): string | undefined {
  return Object.entries(req.headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** The access key id a SigV4 request was signed with. */
function signer(req: MotoRequest): string | undefined {
  return /Credential=([A-Z0-9]+)\//.exec(header(req, 'authorization') ?? '')?.[1];
}

function tags(form: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; form.has(`Tags.member.${i}.Key`); i++)
    out[form.get(`Tags.member.${i}.Key`) as string] = form.get(`Tags.member.${i}.Value`) as string;
  return out;
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

interface MotoSession {
  access_key_id: string;
  secret_access_key: string;
  session_token: string;
  arn: string;
  role_arn: string;
  session_name: string;
}

async function motoSessions(): Promise<MotoSession[]> {
  const r = await fetch(`${moto.endpoint}/moto-api/data.json`);
  const data = (await r.json()) as { sts?: { AssumedRole?: MotoSession[] } };
  return data.sts?.AssumedRole ?? [];
}

function why(run: CliRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout.slice(-4000)}\n--- stderr\n${run.stderr.slice(-4000)}`;
}

beforeAll(async () => {
  moto = await startMoto();
  cli = await cliSnapshot();
  probeDir = await tempFolder('sd-cli-probe-');
  repo = await writeRepo();
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  await cleanupSites();
});

describe('CLI apply with ambient keys through a via hub', () => {
  let run: CliRun;
  let sessions: MotoSession[];

  beforeAll(async () => {
    run = await runCli(['apply', '--root', repo.root, '--site', SITE, '--env', ENV, '--json', '--verbose']);
    sessions = await motoSessions();
  }, 180_000);

  test('succeeds, printing one JSON document on stdout', () => {
    if (run.code !== 0) throw new Error(why(run));
    const doc = JSON.parse(run.stdout) as {
      status: string;
      modules: { name: string; status: string }[];
      outputs: Record<string, Record<string, string>>;
    };
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(doc.status).toBe('succeeded');
    expect(doc.modules.map((m) => [m.name, m.status])).toEqual([
      ['network', 'succeeded'],
      ['database', 'succeeded'],
    ]);
    for (const name of Object.keys(MODULES)) {
      expect(doc.outputs[name]).toEqual({
        caller_arn: `arn:aws:sts::${ACCOUNT}:assumed-role/site-deploy-production/sd-${SITE}-${ENV}-${name}`,
        ambient_key_visible: '',
      });
    }
  });

  test('each module: AssumeRole into the hub signed with the planted AKIA key, then AssumeRole into the role signed with the hub session', () => {
    expect(stsCalls(run, 'AssumeRoleWithWebIdentity')).toEqual([]);
    const hops = stsCalls(run, 'AssumeRole');
    expect(hops).toHaveLength(2 * Object.keys(MODULES).length);
    for (const [name, m] of Object.entries(MODULES)) {
      const session = `sd-${SITE}-${ENV}-${name}`;
      const mine = hops.filter((h) => h.form.get('RoleSessionName') === session);
      expect(mine.map((h) => h.form.get('RoleArn'))).toEqual([VIA, ROLE]);
      const [first, second] = mine as [(typeof mine)[0], (typeof mine)[0]];
      const expectedTags = {
        Site: SITE,
        Environment: ENV,
        Module: name,
        Repository: REPOSITORY,
        RunId: 'local',
      };
      for (const h of mine) {
        expect(h.form.get('SourceIdentity')).toBe(ACTOR);
        expect(tags(h.form)).toEqual(expectedTags);
        expect(Number(h.form.get('DurationSeconds'))).toBeLessThanOrEqual(3600);
        expect(Number(h.form.get('DurationSeconds'))).toBeGreaterThanOrEqual(900);
      }
      // First hop: long-lived planted keys, no session token.
      expect(signer(first.req)).toBe(PLANTED_KEY_ID);
      expect(header(first.req, 'x-amz-security-token')).toBeUndefined();
      expect(first.form.get('Policy')).toBe(hubPolicy);
      // Second hop: the hub session moto issued for this module, chained (≤ 1 h).
      const hub = sessions.find((s) => s.role_arn === VIA && s.session_name === session);
      expect(hub).toBeDefined();
      expect(signer(second.req)).toMatch(/^ASIA/);
      expect(signer(second.req)).toBe(hub!.access_key_id);
      expect(header(second.req, 'x-amz-security-token')).toBe(hub!.session_token);
      expect(second.form.get('DurationSeconds')).toBe('3600');
      expect(second.form.get('Policy')).toBe(policyFor(m.services));
    }
  });

  test("the modules' AWS CLI calls are signed with their final session's ASIA keys, never the planted key", () => {
    const calls = stsCalls(run, 'GetCallerIdentity');
    expect(calls).toHaveLength(2 * Object.keys(MODULES).length); // plan + apply script per module
    const finals = sessions.filter((s) => s.role_arn === ROLE).map((s) => s.access_key_id);
    for (const c of calls) {
      expect(signer(c.req)).toMatch(/^ASIA/);
      expect(finals).toContain(signer(c.req));
    }
    for (const name of Object.keys(MODULES))
      for (const phase of ['plan', 'apply']) {
        const names = readFileSync(join(probeDir, `${run.id}-${name}-${phase}.env-names`), 'utf8').split(
          '\n',
        );
        expect(names).toEqual(
          expect.arrayContaining(['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_ENDPOINT_URL']),
        );
        expect(names.filter((n) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(n))).toEqual(
          [],
        );
      }
  });

  test('the planted secret and the session credentials appear nowhere: stdout, stderr, the JSON, files under the root', () => {
    const secrets: Record<string, string> = { 'planted secret': PLANTED_SECRET };
    sessions.forEach((s, i) => {
      secrets[`secret of session ${i}`] = s.secret_access_key;
      secrets[`token of session ${i}`] = s.session_token;
    });
    const places: [string, string][] = [
      ['stdout', run.stdout],
      ['stderr', run.stderr],
      ...walk(repo.root).map((f): [string, string] => [
        relative(repo.root, f),
        readFileSync(f).toString('latin1'),
      ]),
    ];
    const found: string[] = [];
    for (const [place, text] of places)
      for (const [label, secret] of Object.entries(secrets))
        if (text.includes(secret)) found.push(`${label} in ${place}`);
    expect(found).toEqual([]);
    // The verbose log did run (so the check above covered the step logs).
    expect(run.stderr).toContain(`AWS session sd-${SITE}-${ENV}-network`);
  });
});

describe('CLI --credentials none', () => {
  test('makes no STS call at all; the steps run with no AWS identity and without the ambient keys', async () => {
    const run = await runCli([
      'apply',
      '--root',
      repo.root,
      '--site',
      SITE,
      '--env',
      ENV,
      '--json',
      '--credentials',
      'none',
    ]);
    if (run.code !== 0) throw new Error(why(run));
    expect(stsCalls(run)).toEqual([]);
    const doc = JSON.parse(run.stdout) as { outputs: Record<string, Record<string, string>> };
    for (const name of Object.keys(MODULES))
      expect(doc.outputs[name]).toEqual({ caller_arn: 'none', ambient_key_visible: '' });
    expect(`${run.stdout}${run.stderr}`).not.toContain(PLANTED_SECRET);
  }, 120_000);
});

describe('CLI trust-policy', () => {
  test('--json shows the hub trust policy with sub narrowed to repository and environment', async () => {
    const run = await runCli(['trust-policy', '--root', repo.root, '--site', SITE, '--env', ENV, '--json']);
    if (run.code !== 0) throw new Error(why(run));
    expect(stsCalls(run)).toEqual([]);
    const report = JSON.parse(run.stdout) as {
      site: string;
      environment: string;
      account: string;
      repository: string;
      roles: {
        role: string;
        purpose: string;
        trustPolicy: {
          Statement: {
            Principal: Record<string, string>;
            Action: string | string[];
            Condition: { StringEquals: Record<string, unknown> };
          }[];
        };
      }[];
      steps: { module: string; sessionName: string; policy?: unknown }[];
    };
    expect(report).toMatchObject({ site: SITE, environment: ENV, account: ACCOUNT, repository: REPOSITORY });
    const hub = report.roles.find((r) => r.purpose === 'hub');
    expect(hub?.role).toBe(VIA);
    const st = hub!.trustPolicy.Statement[0]!;
    expect(st.Principal).toEqual({
      Federated: 'arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com',
    });
    expect(st.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(st.Condition.StringEquals).toEqual({
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': `repo:${REPOSITORY}:environment:${ENV}`,
    });
    const apply = report.roles.find((r) => r.purpose === 'apply');
    expect(apply?.role).toBe(ROLE);
    expect(apply!.trustPolicy.Statement[0]!.Principal).toEqual({ AWS: VIA });
    expect(apply!.trustPolicy.Statement[0]!.Action).toEqual(
      expect.arrayContaining(['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']),
    );
    expect(report.steps.map((s) => [s.module, s.sessionName])).toEqual([
      ['network', `sd-${SITE}-${ENV}-network`],
      ['database', `sd-${SITE}-${ENV}-database`],
    ]);
    for (const s of report.steps)
      expect(JSON.stringify(s.policy)).toBe(policyFor(MODULES[s.module]!.services));
  }, 60_000);
});

/** Runs the AWS CLI against moto with throwaway keys (moto accepts any outside auth mode). */
function awsCli(args: string[]): Promise<string> {
  return new Promise((ok, fail) =>
    execFile(
      'aws',
      [...args, '--output', 'json'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_ACCESS_KEY_ID: 'AKIASETUPSETUPSETUP0',
          AWS_SECRET_ACCESS_KEY: 'setup',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_CONFIG_FILE: '/nonexistent/site-deploy-e2e',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/site-deploy-e2e',
        },
      },
      (e, out, err) => (e ? fail(new Error(`aws ${args.join(' ')}: ${err}`)) : ok(out)),
    ),
  );
}

async function motoAuth(count: '0' | 'inf'): Promise<void> {
  const r = await fetch(`${moto.endpoint}/moto-api/reset-auth`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: count,
  });
  if (!r.ok) throw new Error(`moto reset-auth ${count}: ${r.status}`);
}

describe('CLI AccessDenied', () => {
  test('an ambient principal STS refuses: fails at once (one AssumeRole, no retry), naming the role and the principal', async () => {
    let userSecret = '';
    try {
      const run = await runCli(['apply', '--root', repo.root, '--site', SITE, '--env', ENV], {}, async () => {
        // moto's auth mode checks identity policies: an IAM user with none may not sts:AssumeRole.
        await awsCli(['iam', 'create-user', '--user-name', 'engineer']);
        const key = JSON.parse(await awsCli(['iam', 'create-access-key', '--user-name', 'engineer'])) as {
          AccessKey: { AccessKeyId: string; SecretAccessKey: string };
        };
        userSecret = key.AccessKey.SecretAccessKey;
        await motoAuth('0');
        return { AWS_ACCESS_KEY_ID: key.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: userSecret };
      });
      expect(run.code).toBe(1);
      const hops = stsCalls(run, 'AssumeRole');
      expect(hops).toHaveLength(1);
      expect(hops[0]!.form.get('RoleArn')).toBe(VIA);
      const text = `${run.stdout}\n${run.stderr}`;
      expect(text).toContain(`AccessDenied: STS refused AssumeRole into ${VIA}`);
      expect(text).toContain('arn:aws:iam::123456789012:user/engineer');
      expect(text).not.toMatch(/\bat .+\.js:\d+/); // no stack trace
      expect(text).not.toContain(userSecret);
    } finally {
      await motoAuth('inf');
    }
  }, 120_000);
});
