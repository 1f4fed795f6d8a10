import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { startMoto, type Moto, type MotoRequest } from './helpers/moto.js';
import { DEFAULT_CLAIMS, startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';
import { startStsProxy, type ProxyVerdict, type StsProxy } from './fixtures/aws/sts-proxy.js';
import { CredentialError } from '../src/core/credentials/errors.js';
import {
  sessionTags,
  viaPolicy,
  type CredentialTarget,
  type StepIdentity,
} from '../src/core/credentials/session.js';
import { decodeOidcClaims, githubOidcSource } from '../src/adapters/aws/oidc.js';
import {
  SessionBroker,
  assumeStepSession,
  defaultCredentialSource,
  isRetryableStsError,
  type StsOptions,
} from '../src/adapters/aws/sts.js';

const ROLE = 'arn:aws:iam::222222222222:role/site-deploy-production';
const PLAN_ROLE = 'arn:aws:iam::222222222222:role/site-deploy-production-ro';
const VIA = 'arn:aws:iam::999999999999:role/site-deploy-oidc';
const BOUNDARY = 'arn:aws:iam::222222222222:policy/production-boundary';
const SUB = 'repo:org/repo:environment:production';

const target: CredentialTarget = {
  environment: 'production',
  account: '222222222222',
  role: ROLE,
  planRole: PLAN_ROLE,
  region: 'us-east-1',
  sessionDuration: 7200,
  boundaryPolicy: BOUNDARY,
  allowedServices: ['cloudfront', 'ec2', 'rds', 'route53'],
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

const EC2_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*"],"Resource":"*"}]}';

let moto: Moto;
let issuer: OidcIssuer;
const savedEnv = { ...process.env };
const realWrite = process.stdout.write.bind(process.stdout);
let commands = '';

/** Only STS calls, with their form bodies. */
function stsCalls(): { form: URLSearchParams; req: MotoRequest }[] {
  return moto
    .requests()
    .filter((r) => r.method === 'POST' && r.body.includes('Action='))
    .map((req) => ({ form: new URLSearchParams(req.body), req }));
}

function header(req: MotoRequest, name: string): string | undefined {
  const hit = Object.entries(req.headers).find(([k]) => k.toLowerCase() === name);
  return hit?.[1];
}

function keysOf(form: URLSearchParams): string[] {
  return [...form.keys()];
}

function resetEnv(): void {
  for (const k of Object.keys(process.env))
    if (k.startsWith('AWS_') || k.startsWith('ACTIONS_')) delete process.env[k];
  process.env.AWS_ENDPOINT_URL_STS = moto.endpoint;
  process.env.AWS_CONFIG_FILE = '/nonexistent/site-deploy-test';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/site-deploy-test';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  Object.assign(process.env, issuer.env());
}

let masked: string[] = [];
let sleeps: number[] = [];
function options(extra: Partial<StsOptions> = {}): StsOptions {
  return {
    source: {
      kind: 'github-oidc',
      token: githubOidcSource('sts.amazonaws.com', { mask: (s) => void masked.push(s) }),
    },
    mask: (s) => void masked.push(s),
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<CredentialError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof CredentialError)) throw new Error(`expected a CredentialError, got ${String(e)}`);
  return e;
}

beforeAll(async () => {
  [moto, issuer] = await Promise.all([startMoto(), startOidcIssuer()]);
  // @actions/core writes ::debug:: and ::add-mask:: commands to stdout; keep them for assertions.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.startsWith('::')) {
      commands += text;
      return true;
    }
    return realWrite(chunk, ...rest);
  }) as typeof process.stdout.write;
});

afterAll(async () => {
  process.stdout.write = realWrite;
  process.env = savedEnv;
  await Promise.all([moto?.stop(), issuer?.stop()]);
});

beforeEach(async () => {
  await moto.reset();
  resetEnv();
  issuer.setClaims(DEFAULT_CLAIMS);
  issuer.tokens.length = 0;
  masked = [];
  sleeps = [];
});

describe('GitHub OIDC → STS against moto', () => {
  test('direct hop: one AssumeRoleWithWebIdentity, scoped, unsigned, no tags or source identity', async () => {
    const session = (await assumeStepSession(target, identity, options()))!;

    const calls = stsCalls();
    expect(calls).toHaveLength(1);
    const { form, req } = calls[0]!;
    expect(form.get('Action')).toBe('AssumeRoleWithWebIdentity');
    expect(form.get('RoleArn')).toBe(ROLE);
    expect(form.get('RoleSessionName')).toBe('sd-client-portal-production-networking');
    expect(form.get('DurationSeconds')).toBe('7200'); // the direct hop is not chained: no 1 h cap
    expect(form.get('Policy')).toBe(EC2_POLICY);
    expect(form.get('PolicyArns.member.1.arn')).toBe(BOUNDARY);
    expect(form.get('WebIdentityToken')).toBe(issuer.tokens[0]);
    expect(keysOf(form).filter((k) => k.startsWith('Tags') || k.startsWith('TransitiveTagKeys'))).toEqual([]);
    expect(form.has('SourceIdentity')).toBe(false);
    expect(header(req, 'authorization')).toBeUndefined();

    expect(session.assumedRoleArn).toBe(
      'arn:aws:sts::222222222222:assumed-role/site-deploy-production/sd-client-portal-production-networking',
    );
    expect(session.subject).toBe(SUB);
    expect(session.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(session.credentials.accountId).toBe('222222222222');
    expect(session.hops).toEqual([`AssumeRoleWithWebIdentity ${ROLE}`]);
    // Token and all three credential parts are masked, the token by @actions/core as well.
    expect(masked).toEqual([
      issuer.tokens[0],
      session.credentials.accessKeyId,
      session.credentials.secretAccessKey,
      session.credentials.sessionToken,
    ]);
    expect(commands).toContain(`::add-mask::${issuer.tokens[0]}`);
  });

  test('plan purpose assumes plan_role', async () => {
    const session = (await assumeStepSession(target, { ...identity, purpose: 'plan' }, options()))!;
    expect(stsCalls()[0]!.form.get('RoleArn')).toBe(PLAN_ROLE);
    expect(session.roleArn).toBe(PLAN_ROLE);
  });

  test('via chain: web identity into the hub, then AssumeRole signed with the hub session, tagged, clamped', async () => {
    const session = (await assumeStepSession(
      { ...target, via: VIA, externalId: 'ext-42' },
      identity,
      options(),
    ))!;

    const calls = stsCalls();
    expect(calls.map((c) => c.form.get('Action'))).toEqual(['AssumeRoleWithWebIdentity', 'AssumeRole']);
    const [first, second] = calls as [(typeof calls)[0], (typeof calls)[0]];
    expect(first.form.get('RoleArn')).toBe(VIA);
    expect(first.form.get('Policy')).toBe(viaPolicy(ROLE));
    expect(first.form.get('DurationSeconds')).toBe('900');
    expect(first.form.has('Tags.member.1.Key')).toBe(false);
    expect(first.form.has('SourceIdentity')).toBe(false);

    expect(second.form.get('RoleArn')).toBe(ROLE);
    expect(second.form.get('RoleSessionName')).toBe('sd-client-portal-production-networking');
    expect(second.form.get('DurationSeconds')).toBe('3600'); // chained: 7200 clamped to STS's 1 h cap
    expect(second.form.get('SourceIdentity')).toBe('octocat');
    expect(second.form.get('ExternalId')).toBe('ext-42');
    expect(second.form.get('Policy')).toBe(EC2_POLICY);
    expect(second.form.get('PolicyArns.member.1.arn')).toBe(BOUNDARY);
    const tags = sessionTags(identity);
    tags.forEach((t, i) => {
      expect(second.form.get(`Tags.member.${i + 1}.Key`)).toBe(t.Key);
      expect(second.form.get(`Tags.member.${i + 1}.Value`)).toBe(t.Value);
    });
    expect(second.form.has(`Tags.member.${tags.length + 1}.Key`)).toBe(false);
    expect(second.form.get('Tags.member.5.Value')).toBe('4242');

    // masked = [token, hub key, hub secret, hub token, final key, final secret, final token]
    const [, hubKey, , hubToken] = masked;
    expect(hubKey).toMatch(/^ASIA/);
    expect(header(second.req, 'authorization')).toContain(`Credential=${hubKey}/`);
    expect(header(second.req, 'x-amz-security-token')).toBe(hubToken);
    expect(session.credentials.accessKeyId).not.toBe(hubKey);
    expect(masked).toHaveLength(7);
    expect(session.hops).toEqual([`AssumeRoleWithWebIdentity ${VIA}`, `AssumeRole ${ROLE}`]);
  });

  test('ambient hop (CLI): AssumeRole signed with the ambient keys from the environment', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    process.env.AWS_ACCESS_KEY_ID = 'AKIAAMBIENTEXAMPLE01';
    process.env.AWS_SECRET_ACCESS_KEY = 'ambient-secret-key-example';
    const session = (await assumeStepSession(target, identity, options({ source: { kind: 'ambient' } })))!;

    const calls = stsCalls();
    expect(calls).toHaveLength(1);
    const { form, req } = calls[0]!;
    expect(form.get('Action')).toBe('AssumeRole');
    expect(form.get('RoleArn')).toBe(ROLE);
    expect(form.get('DurationSeconds')).toBe('7200'); // long-lived keys: not a chained session
    expect(form.get('SourceIdentity')).toBe('octocat');
    expect(form.get('Tags.member.1.Key')).toBe('Site');
    expect(form.get('Policy')).toBe(EC2_POLICY);
    expect(header(req, 'authorization')).toContain('Credential=AKIAAMBIENTEXAMPLE01/');
    expect(session.subject).toBeUndefined();
    expect(issuer.tokens).toHaveLength(0);
  });

  test('ambient role-session credentials make the AssumeRole a chained one (≤ 3600 s)', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'ASIAAMBIENTEXAMPLE02';
    process.env.AWS_SECRET_ACCESS_KEY = 'ambient-secret-key-example';
    process.env.AWS_SESSION_TOKEN = 'ambient-session-token';
    await assumeStepSession(target, identity, options({ source: { kind: 'ambient' } }));
    const { form, req } = stsCalls()[0]!;
    expect(form.get('DurationSeconds')).toBe('3600');
    expect(header(req, 'x-amz-security-token')).toBe('ambient-session-token');
  });

  test('one session per module step, each scoped to its own policy; a fresh OIDC token per session', async () => {
    const broker = new SessionBroker(options());
    const mods: StepIdentity[] = [
      { ...identity, module: 'networking', services: ['ec2'] },
      { ...identity, module: 'bastion', services: ['ec2'] },
      { ...identity, module: 'database', services: ['rds'] },
    ];
    const [a, b, c] = await Promise.all(mods.map((m) => broker.get(target, m)));
    // Same services, still two sessions: each module is its own CloudTrail principal.
    expect(a).not.toBe(b);
    expect([a!.sessionName, b!.sessionName, c!.sessionName]).toEqual(
      mods.map((m) => `sd-${m.site}-${m.environment}-${m.module}`),
    );
    expect(broker.size).toBe(3);
    const calls = stsCalls();
    expect(calls).toHaveLength(3);
    expect(calls.map((x) => x.form.get('Policy')).sort()).toEqual([
      EC2_POLICY,
      EC2_POLICY,
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:*"],"Resource":"*"}]}',
    ]);
    expect(new Set(calls.map((x) => x.form.get('WebIdentityToken'))).size).toBe(3);
    expect(issuer.tokens).toHaveLength(3);

    // Cached: asking again for the same module step makes no call.
    await broker.get(target, mods[1]!);
    expect(stsCalls()).toHaveLength(3);
    // A module with no services and local state gets no session.
    expect(await broker.get(target, { ...identity, module: 'dns-check', services: [] })).toBeUndefined();
  });

  test('a session near expiry is re-made with a fresh token; before that it is reused', async () => {
    let now = Date.now();
    const broker = new SessionBroker(options({ now: () => now }));
    const first = (await broker.get(target, identity))!;
    now = first.expiration.getTime() - 6 * 60_000; // 6 min left: still fresh (threshold 5 min)
    expect(await broker.get(target, identity)).toBe(first);
    now = first.expiration.getTime() - 4 * 60_000; // 4 min left: refresh
    const second = (await broker.get(target, identity))!;
    expect(second).not.toBe(first);
    expect(stsCalls()).toHaveLength(2);
    expect(issuer.tokens).toHaveLength(2);
    expect(stsCalls()[1]!.form.get('WebIdentityToken')).toBe(issuer.tokens[1]);
  });

  test('claims are decoded from the real token', async () => {
    const { claims } = await githubOidcSource()();
    expect(claims).toEqual({
      sub: SUB,
      aud: 'sts.amazonaws.com',
      environment: 'production',
      repository: 'org/repo',
      actor: 'octocat',
      runId: '4242',
      exp: expect.any(Number),
    });
    expect(() => decodeOidcClaims('not-a-jwt')).toThrow('the OIDC token from GitHub is not a JWT');
  });
});

describe('failures', () => {
  let proxy: StsProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  async function through(decide: (action: string, nth: number) => ProxyVerdict): Promise<StsProxy> {
    proxy = await startStsProxy(moto.endpoint, decide);
    process.env.AWS_ENDPOINT_URL_STS = proxy.endpoint;
    return proxy;
  }

  test('throttled twice, then succeeds: retried with jittered backoff over real HTTP', async () => {
    const p = await through((action, nth) =>
      action === 'AssumeRoleWithWebIdentity' && nth <= 2
        ? { status: 400, code: 'Throttling', message: 'Rate exceeded' }
        : 'forward',
    );
    const lines: string[] = [];
    const session = await assumeStepSession(target, identity, options({ log: (l) => lines.push(l) }));
    expect(session?.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(p.calls.map((c) => c.answered)).toEqual([400, 400, 'forwarded']);
    expect(sleeps).toEqual([150, 300]); // random 0.5 × 300 ms, × 600 ms
    expect(stsCalls()).toHaveLength(1);
    expect(lines.filter((l) => l.includes('Throttling; retry'))).toHaveLength(2);
  });

  test('a 5xx is retried too', async () => {
    const p = await through((_a, nth) =>
      nth === 1 ? { status: 503, code: 'ServiceUnavailable', message: 'busy', type: 'Receiver' } : 'forward',
    );
    await assumeStepSession(target, identity, options());
    expect(p.calls.map((c) => c.answered)).toEqual([503, 'forwarded']);
  });

  test('throttling that never ends gives up after 5 attempts', async () => {
    const p = await through(() => ({ status: 400, code: 'Throttling', message: 'Rate exceeded' }));
    const e = await failure(assumeStepSession(target, identity, options()));
    expect(e.code).toBe('sts-unavailable');
    expect(e.message).toBe(
      `AssumeRoleWithWebIdentity into ${ROLE} (module "networking", us-east-1) still failed after 5 attempts: ` +
        'Throttling: Rate exceeded. STS was throttling or unreachable; re-run the job, or lower max-parallel.',
    );
    expect(p.calls).toHaveLength(5);
    expect(sleeps).toHaveLength(4);
  });

  test('network errors are retried and bounded', async () => {
    process.env.AWS_ENDPOINT_URL_STS = 'http://127.0.0.1:1';
    const e = await failure(assumeStepSession(target, identity, options({ maxAttempts: 3 })));
    expect(e.code).toBe('sts-unavailable');
    expect(e.message).toBe(
      `AssumeRoleWithWebIdentity into ${ROLE} (module "networking", us-east-1) still failed after 3 attempts: ` +
        'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1. STS was throttling or unreachable; re-run the job, or lower max-parallel.',
    );
    expect(sleeps).toHaveLength(2);
  });

  test('AccessDenied fails at once, naming the role, the sub and the missing trust condition', async () => {
    const p = await through(() => ({
      status: 403,
      code: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    }));
    const e = await failure(assumeStepSession(target, identity, options()));
    expect(p.calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(e.code).toBe('access-denied');
    expect(e.message).toBe(
      `AccessDenied: STS refused AssumeRoleWithWebIdentity into ${ROLE} for the GitHub OIDC token with sub "${SUB}". ` +
        `The role's trust policy most likely lacks the condition "token.actions.githubusercontent.com:sub" = "${SUB}" ` +
        '(with "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" and the Federated principal ' +
        "oidc-provider/token.actions.githubusercontent.com of the role's account). Print the trust policy this site " +
        'needs with `site-deploy trust-policy --site client-portal --env production`.',
    );
  });

  test('AccessDenied on the via → role hop names the hub principal and the tag/source-identity actions', async () => {
    await through((action) =>
      action === 'AssumeRole' ? { status: 403, code: 'AccessDenied', message: 'not authorized' } : 'forward',
    );
    const e = await failure(assumeStepSession({ ...target, via: VIA }, identity, options()));
    expect(e.code).toBe('access-denied');
    expect(e.message).toContain(
      `AccessDenied: STS refused AssumeRole from ${VIA} into ${ROLE} (GitHub OIDC token sub "${SUB}")`,
    );
    expect(e.message).toContain('sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity');
  });

  test('an expired OIDC token gets its own message', async () => {
    await through(() => ({
      status: 400,
      code: 'ExpiredTokenException',
      message: 'Token expired: current date/time must be before the expiration date/time',
    }));
    const e = await failure(assumeStepSession(target, identity, options()));
    expect(e.code).toBe('expired-token');
    expect(e.message).toBe(
      `ExpiredToken: the GitHub OIDC token expired before STS accepted it for ${ROLE}. GitHub's tokens live about ` +
        "5 minutes and site-deploy mints a fresh one for every session, so check the runner's clock and re-run the job.",
    );
    expect(sleeps).toEqual([]);
  });

  test('InvalidIdentityToken names the OIDC provider the account needs', async () => {
    await through(() => ({
      status: 400,
      code: 'InvalidIdentityToken',
      message:
        'No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com',
    }));
    const e = await failure(assumeStepSession(target, identity, options()));
    expect(e.code).toBe('invalid-identity-token');
    expect(e.message).toBe(
      `InvalidIdentityToken: STS rejected the GitHub OIDC token for ${ROLE}: No OpenIDConnect provider found in your ` +
        'account for https://token.actions.githubusercontent.com. Account 222222222222 needs an IAM OIDC identity ' +
        'provider for https://token.actions.githubusercontent.com whose audiences include "sts.amazonaws.com" ' +
        "(the action's `audience` input).",
    );
  });

  test('a malformed ARN is refused before any token or STS call', async () => {
    const e = await failure(assumeStepSession({ ...target, role: 'not-an-arn' }, identity, options()));
    expect(e.code).toBe('invalid-arn');
    expect(e.kind).toBe('bad-input');
    expect(e.message).toBe(
      'credentials.production.role: "not-an-arn" is not an IAM role ARN — expected arn:aws:iam::<12-digit account>:role/<name>',
    );
    expect(issuer.tokens).toHaveLength(0);
    expect(stsCalls()).toHaveLength(0);
  });

  test('a GovCloud region with a commercial ARN is refused before any call', async () => {
    const e = await failure(assumeStepSession({ ...target, region: 'us-gov-west-1' }, identity, options()));
    expect(e.code).toBe('arn-partition');
    expect(stsCalls()).toHaveLength(0);
  });

  test('GovCloud: a correct aws-us-gov chain is sent to the region', async () => {
    const gov: CredentialTarget = {
      ...target,
      region: 'us-gov-west-1',
      role: 'arn:aws-us-gov:iam::222222222222:role/deploy',
      planRole: undefined,
      boundaryPolicy: 'arn:aws-us-gov:iam::222222222222:policy/boundary',
    };
    const session = (await assumeStepSession(
      gov,
      { ...identity, stateObject: { bucket: 'st', key: 'k' } },
      options(),
    ))!;
    const { form } = stsCalls()[0]!;
    expect(form.get('RoleArn')).toBe('arn:aws-us-gov:iam::222222222222:role/deploy');
    expect(form.get('Policy')).toContain('arn:aws-us-gov:s3:::st/k.tflock');
    expect(session.credentials.accessKeyId).toMatch(/^ASIA/);
  });

  test('no token at all: the permissions hint', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const e = await failure(assumeStepSession(target, identity, options()));
    expect(e.code).toBe('oidc-unavailable');
    expect(e.message).toBe(
      'could not get a GitHub OIDC token for audience "sts.amazonaws.com": Error message: Unable to get ' +
        'ACTIONS_ID_TOKEN_REQUEST_URL env variable. Give the job `permissions: id-token: write` (and `contents: read`).',
    );
  });

  test('defaultCredentialSource: OIDC inside GitHub Actions, the ambient chain outside', () => {
    expect(defaultCredentialSource({ GITHUB_ACTIONS: 'true' }).kind).toBe('github-oidc');
    expect(defaultCredentialSource({}).kind).toBe('ambient');
  });

  test('isRetryableStsError', () => {
    expect(isRetryableStsError({ name: 'ThrottlingException' })).toBe(true);
    expect(isRetryableStsError({ name: 'X', $metadata: { httpStatusCode: 502 } })).toBe(true);
    expect(isRetryableStsError({ name: 'Error', code: 'ECONNRESET' })).toBe(true);
    expect(isRetryableStsError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isRetryableStsError({ name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } })).toBe(
      false,
    );
    expect(isRetryableStsError(new CredentialError('invalid-arn', 'x'))).toBe(false);
  });
});

describe('require_mfa', () => {
  const mfa: CredentialTarget = { ...target, requireMfa: true };

  test('fails closed when the OIDC token names no GitHub environment', async () => {
    issuer.setClaims({ ...DEFAULT_CLAIMS, environment: undefined, sub: 'repo:org/repo:ref:refs/heads/main' });
    const e = await failure(assumeStepSession(mfa, identity, options()));
    expect(e.code).toBe('mfa-required');
    expect(e.message).toBe(
      'environment production has require_mfa: true, but the GitHub OIDC token (sub "repo:org/repo:ref:refs/heads/main") ' +
        'names no GitHub environment. Run the job with `environment: production` and give that environment required reviewers.',
    );
    expect(stsCalls()).toHaveLength(0);
  });

  test('passes with an environment claim and an approval read back for that environment', async () => {
    await expect(
      assumeStepSession(
        mfa,
        identity,
        options({
          approval: async ({ claims }) => ({
            approved: claims.environment === 'production',
            detail: 'approved by reviewer',
          }),
        }),
      ),
    ).resolves.toBeDefined();
  });

  test('fails closed when no approval read-back is configured, even with an environment claim', async () => {
    const e = await failure(assumeStepSession(mfa, identity, options()));
    expect(e.code).toBe('approval-missing');
    expect(e.message).toMatch(/no approval read-back is configured/);
    expect(stsCalls()).toHaveLength(0);
  });

  test('the injected approval read-back can refuse', async () => {
    const seen: string[] = [];
    const e = await failure(
      assumeStepSession(
        mfa,
        identity,
        options({
          approval: async ({ claims }) => {
            seen.push(claims.environment ?? '');
            return { approved: false, detail: 'run 4242 has no approved review for environment production' };
          },
        }),
      ),
    );
    expect(seen).toEqual(['production']);
    expect(e.code).toBe('approval-missing');
    expect(e.message).toBe(
      'environment production has require_mfa: true, and no human approval of this run could be read back: ' +
        'run 4242 has no approved review for environment production',
    );
    expect(stsCalls()).toHaveLength(0);
  });

  test('cannot be met from ambient credentials', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAAMBIENTEXAMPLE01';
    process.env.AWS_SECRET_ACCESS_KEY = 'ambient-secret-key-example';
    const e = await failure(assumeStepSession(mfa, identity, options({ source: { kind: 'ambient' } })));
    expect(e.code).toBe('mfa-required');
    expect(e.message).toContain('Ambient credentials (the CLI) cannot give it');
    expect(stsCalls()).toHaveLength(0);
  });
});
