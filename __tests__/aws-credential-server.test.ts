import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type Moto } from './helpers/moto.js';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';
import { CredentialError } from '../src/core/credentials/errors.js';
import type { CredentialTarget, StepIdentity } from '../src/core/credentials/session.js';
import { githubOidcSource } from '../src/adapters/aws/oidc.js';
import { SessionBroker, type CredentialProvider, type StsOptions } from '../src/adapters/aws/sts.js';
import {
  childEnvWith,
  startCredentialServer,
  type CredentialServer,
} from '../src/adapters/aws/credential-server.js';

const ROLE = 'arn:aws:iam::222222222222:role/site-deploy-production';
const SESSION = 'sd-client-portal-production-networking';
const ASSUMED = `arn:aws:sts::222222222222:assumed-role/site-deploy-production/${SESSION}`;

const target: CredentialTarget = {
  environment: 'production',
  account: '222222222222',
  role: ROLE,
  region: 'us-east-1',
  sessionDuration: 3600,
  allowedServices: ['ec2'],
  requireMfa: false,
};
const identity: StepIdentity = {
  site: 'client-portal',
  environment: 'production',
  module: 'networking',
  services: ['ec2'],
  repository: 'org/repo',
  runId: '4242',
  actor: 'octocat',
  purpose: 'apply',
};

let moto: Moto;
let issuer: OidcIssuer;
let home: string;
let githubEnv: string;
const savedEnv = { ...process.env };
const realWrite = process.stdout.write.bind(process.stdout);
let server: CredentialServer | undefined;
let logs: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real AWS CLI with nothing but PATH, a scratch HOME, the STS endpoint and `env`. */
function aws(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'aws',
      args,
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          AWS_CONFIG_FILE: join(home, 'none'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ENDPOINT_URL_STS: moto.endpoint,
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function stsActions(): string[] {
  return moto
    .requests()
    .filter((r) => r.method === 'POST' && r.body.includes('Action='))
    .map((r) => new URLSearchParams(r.body).get('Action') ?? '?');
}

function brokerOptions(extra: Partial<StsOptions> = {}): StsOptions {
  return {
    source: { kind: 'github-oidc', token: githubOidcSource('sts.amazonaws.com', { mask: () => undefined }) },
    mask: () => undefined,
    sleep: async () => undefined,
    ...extra,
  };
}

beforeAll(async () => {
  [moto, issuer] = await Promise.all([startMoto(), startOidcIssuer()]);
  home = mkdtempSync(join(tmpdir(), 'sd-aws-home-'));
  githubEnv = join(home, 'github_env');
  writeFileSync(githubEnv, '');
  // Silence @actions/core's ::debug::/::add-mask:: commands.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')).startsWith('::')
      ? true
      : realWrite(chunk, ...rest)) as typeof process.stdout.write;
});

afterAll(async () => {
  process.stdout.write = realWrite;
  process.env = savedEnv;
  await Promise.all([moto?.stop(), issuer?.stop()]);
});

beforeEach(async () => {
  await moto.reset();
  for (const k of Object.keys(process.env))
    if (k.startsWith('AWS_') || k.startsWith('ACTIONS_')) delete process.env[k];
  process.env.AWS_ENDPOINT_URL_STS = moto.endpoint;
  process.env.GITHUB_ENV = githubEnv;
  Object.assign(process.env, issuer.env());
  logs = [];
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  // Nothing about credentials is ever exported to later steps.
  expect(readFileSync(githubEnv, 'utf8')).toBe('');
});

describe('container-credentials endpoint', () => {
  test('the AWS CLI, given only the server variables, runs as the step session', async () => {
    const broker = new SessionBroker(brokerOptions());
    let seenSecret = '';
    const provider: CredentialProvider = async (need) => {
      const c = await broker.provider(target, identity)(need);
      seenSecret = c.secretAccessKey;
      return c;
    };
    server = await startCredentialServer({ provider, region: 'us-east-1', log: (l) => logs.push(l) });
    const env = server.env();
    expect(Object.keys(env).sort()).toEqual([
      'AWS_CONTAINER_AUTHORIZATION_TOKEN',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_DEFAULT_REGION',
      'AWS_REGION',
    ]);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/creds\/[0-9a-f]{32}$/,
    );
    expect(env.AWS_REGION).toBe('us-east-1');

    const run = await aws(['sts', 'get-caller-identity', '--output', 'json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ Account: '222222222222', Arn: ASSUMED });
    expect(stsActions()).toEqual(['AssumeRoleWithWebIdentity', 'GetCallerIdentity']);
    // The secret reached the child only through the endpoint: not in its output, not in our logs.
    expect(seenSecret).not.toBe('');
    expect(run.stdout + run.stderr).not.toContain(seenSecret);
    expect(logs.join('\n')).not.toContain(seenSecret);
    expect(server.fetches).toBe(1);
  });

  test('protocol: 200 with the four fields for the right token; 401 and an empty body otherwise', async () => {
    const expiration = new Date('2030-01-02T03:04:05.678Z');
    server = await startCredentialServer({
      provider: async () => ({
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'S3CR3T',
        sessionToken: 'TOK',
        expiration,
      }),
      region: 'eu-west-1',
      log: (l) => logs.push(l),
    });
    const { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: token } =
      server.env() as Record<string, string>;
    const ok = await fetch(url!, { headers: { Authorization: token! } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toEqual({
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'S3CR3T',
      Token: 'TOK',
      Expiration: '2030-01-02T03:04:05Z',
    });

    const refused = [
      await fetch(url!, { headers: { Authorization: 'wrong' } }),
      await fetch(url!),
      await fetch(url!, { headers: { Authorization: `${token!}x` } }),
      await fetch(url!.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), { headers: { Authorization: token! } }),
    ];
    for (const r of refused) {
      expect(r.status).toBe(401);
      expect(await r.text()).toBe('');
    }
    expect(logs.filter((l) => l.startsWith('credential server: refused'))).toHaveLength(4);
    expect(logs.join('\n')).not.toContain('S3CR3T');
    expect(logs.join('\n')).not.toContain(token!);
    // Bound to loopback only.
    expect(new URL(url!).hostname).toBe('127.0.0.1');
  });

  test('a child with a wrong token gets no credentials', async () => {
    const broker = new SessionBroker(brokerOptions());
    server = await startCredentialServer({
      provider: broker.provider(target, identity),
      region: 'us-east-1',
      log: (l) => logs.push(l),
    });
    const run = await aws(['sts', 'get-caller-identity'], {
      ...server.env(),
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'not-the-token',
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/credentials/i);
    expect(stsActions()).toEqual([]); // never assumed, never called
    expect(logs.some((l) => l.includes('refused GET request (token)'))).toBe(true);
  });

  test('near expiry the server re-assumes, and the step keeps working', async () => {
    let now = Date.now();
    const broker = new SessionBroker(brokerOptions({ now: () => now }));
    const keys: string[] = [];
    const provider: CredentialProvider = async (need) => {
      const c = await broker.provider(target, identity)(need);
      keys.push(c.accessKeyId);
      return c;
    };
    server = await startCredentialServer({
      provider,
      region: 'us-east-1',
      now: () => now,
      log: (l) => logs.push(l),
    });

    const first = await aws(['sts', 'get-caller-identity', '--output', 'json'], server.env());
    expect(JSON.parse(first.stdout).Arn).toBe(ASSUMED);
    const again = await aws(['sts', 'get-caller-identity', '--output', 'json'], server.env());
    expect(again.code).toBe(0);
    expect(server.fetches).toBe(1); // still fresh: served from the cache

    // Four minutes before expiry (threshold five): the next fetch re-assumes with a fresh OIDC token.
    now = Date.now() + 3600_000 - 4 * 60_000;
    const after = await aws(['sts', 'get-caller-identity', '--output', 'json'], server.env());
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).Arn).toBe(ASSUMED);
    expect(server.fetches).toBe(2);
    expect(stsActions().filter((a) => a === 'AssumeRoleWithWebIdentity')).toHaveLength(2);
    expect(issuer.tokens.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys).size).toBe(2);
    // The last GetCallerIdentity was signed with the new key.
    const lastCall = moto
      .requests()
      .filter((r) => r.body.includes('Action=GetCallerIdentity'))
      .at(-1)!;
    const auth =
      Object.entries(lastCall.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    expect(auth).toContain(`Credential=${keys[1]}/`);
    expect(logs).toContain('credential server: credentials near expiry; re-assuming');
  });

  test('a planted secret never shows in the child output (even --debug) or the server logs', async () => {
    const planted = 'PLANTED/secret+KEY/never-print-me-0123456789';
    const broker = new SessionBroker(brokerOptions());
    server = await startCredentialServer({
      // Moto does not verify signatures, so a planted secret still lets the call through.
      provider: async (need) => ({
        ...(await broker.provider(target, identity)(need)),
        secretAccessKey: planted,
      }),
      region: 'us-east-1',
      log: (l) => logs.push(l),
    });
    const plain = await aws(['sts', 'get-caller-identity', '--output', 'json'], server.env());
    const debug = await aws(['sts', 'get-caller-identity', '--debug'], server.env());
    expect(plain.code).toBe(0);
    expect(debug.code).toBe(0);
    expect(JSON.parse(plain.stdout).Arn).toBe(ASSUMED);
    for (const text of [plain.stdout, plain.stderr, debug.stdout, debug.stderr, logs.join('\n')]) {
      expect(text).not.toContain(planted);
      expect(text).not.toContain(encodeURIComponent(planted));
    }
    // Nothing was written to disk in the scratch HOME (no credential cache files).
    expect(readdirSync(home).filter((f) => f !== 'github_env' && f !== '.aws')).toEqual([]);
  });

  test('provider failure: 500 without details for the child; the reason goes to the log', async () => {
    server = await startCredentialServer({
      provider: async () => {
        throw new CredentialError(
          'access-denied',
          'AccessDenied: STS refused AssumeRoleWithWebIdentity into x',
        );
      },
      region: 'us-east-1',
      log: (l) => logs.push(l),
    });
    const env = server.env() as Record<string, string>;
    const r = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
      headers: { Authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
    });
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({
      Code: 'CredentialsUnavailable',
      Message: 'site-deploy could not refresh this step’s credentials',
    });
    expect(logs).toContain(
      'credential server: could not get credentials: AccessDenied: STS refused AssumeRoleWithWebIdentity into x',
    );
  });

  test('fallback mode env: plain variables for the child, no server', async () => {
    const broker = new SessionBroker(brokerOptions());
    server = await startCredentialServer({
      provider: broker.provider(target, identity),
      region: 'us-east-1',
      mode: 'env',
    });
    const env = server.env();
    expect(Object.keys(env).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_DEFAULT_REGION',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
    ]);
    expect(server.url).toBe('');
    const run = await aws(['sts', 'get-caller-identity', '--output', 'json'], env);
    expect(JSON.parse(run.stdout).Arn).toBe(ASSUMED);
  });

  test('Terraform reads the endpoint: S3 backend state written with the step session', async () => {
    // The bucket exists first (any key works on moto).
    const made = await aws(['s3api', 'create-bucket', '--bucket', 'tfstate'], {
      AWS_ACCESS_KEY_ID: 'AKIASETUP',
      AWS_SECRET_ACCESS_KEY: 'setup',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: moto.endpoint,
    });
    expect(made.code).toBe(0);
    const stateKey = 'sites/client-portal/production/networking.tfstate';
    const broker = new SessionBroker(brokerOptions());
    const step = { ...identity, stateObject: { bucket: 'tfstate', key: stateKey } };
    const session = (await broker.get(target, step))!;
    server = await startCredentialServer({ provider: broker.provider(target, step), region: 'us-east-1' });

    const dir = mkdtempSync(join(tmpdir(), 'sd-tf-'));
    writeFileSync(
      join(dir, 'main.tf'),
      `terraform {\n  backend "s3" {\n    bucket = "tfstate"\n    key = "${stateKey}"\n    region = "us-east-1"\n` +
        '    use_path_style = true\n    use_lockfile = true\n    max_retries = 1\n  }\n}\n' +
        'resource "terraform_data" "x" {\n  input = "a"\n}\n',
    );
    const env = childEnvWith(
      {
        PATH: process.env.PATH,
        HOME: home,
        TF_CLI_CONFIG_FILE: '/dev/null',
        TF_IN_AUTOMATION: '1',
        AWS_ENDPOINT_URL_S3: moto.endpoint,
        AWS_ENDPOINT_URL_STS: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'AKIAMUSTNOTBEUSED', // dropped by childEnvWith
      },
      server.env(),
    );
    const tf = (args: string[]): Promise<Run> =>
      new Promise((resolve) =>
        execFile('terraform', args, { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        ),
      );
    const init = await tf(['init', '-input=false', '-no-color']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const apply = await tf(['apply', '-input=false', '-no-color', '-auto-approve']);
    expect(apply.code).toBe(0);

    const put = moto
      .requests()
      .filter(
        (r) => r.method === 'PUT' && r.url.includes(`/tfstate/${stateKey}`) && !r.url.includes('.tflock'),
      );
    expect(put.length).toBeGreaterThan(0);
    const auth =
      Object.entries(put.at(-1)!.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    expect(auth).toContain(`Credential=${session.credentials.accessKeyId}/`);
    expect(moto.requests().some((r) => JSON.stringify(r.headers).includes('AKIAMUSTNOTBEUSED'))).toBe(false);
    for (const out of [init, apply])
      expect(out.stdout + out.stderr).not.toContain(session.credentials.secretAccessKey);
  });

  test('childEnvWith drops ambient credentials and the OIDC request token', () => {
    const child = childEnvWith(
      {
        PATH: '/bin',
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 's',
        AWS_PROFILE: 'dev',
        AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
        ACTIONS_ID_TOKEN_REQUEST_URL: 'u',
        UNSET: undefined,
      },
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:2/creds/x', AWS_REGION: 'us-east-1' },
    );
    expect(child).toEqual({
      PATH: '/bin',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:2/creds/x',
      AWS_REGION: 'us-east-1',
    });
  });
});
