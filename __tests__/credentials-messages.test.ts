import {
  accessDeniedMessage,
  expiredTokenMessage,
  normalizeStsCode,
  stsFailure,
  stsUnavailable,
  type HopContext,
} from '../src/core/credentials/messages.js';
import { RetriesExhaustedError, backoffDelay, withRetry } from '../src/core/credentials/retry.js';

const role = 'arn:aws:iam::222222222222:role/site-deploy-production';
const via = 'arn:aws:iam::999999999999:role/site-deploy-oidc';
const base: HopContext = {
  call: 'web-identity',
  from: 'oidc',
  roleArn: role,
  region: 'us-east-1',
  site: 'client-portal',
  environment: 'production',
  module: 'networking',
  sessionName: 'sd-client-portal-production-networking',
  durationSeconds: 3600,
  externalId: false,
  token: {
    sub: 'repo:org/repo:environment:production',
    aud: 'sts.amazonaws.com',
    repository: 'org/repo',
    environment: 'production',
  },
};

describe('AccessDenied names the role, the sub and the likely trust condition', () => {
  test('direct web identity hop', () => {
    expect(accessDeniedMessage(base)).toBe(
      'AccessDenied: STS refused AssumeRoleWithWebIdentity into arn:aws:iam::222222222222:role/site-deploy-production ' +
        'for the GitHub OIDC token with sub "repo:org/repo:environment:production". The role\'s trust policy most likely ' +
        'lacks the condition "token.actions.githubusercontent.com:sub" = "repo:org/repo:environment:production" ' +
        '(with "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" and the Federated principal ' +
        "oidc-provider/token.actions.githubusercontent.com of the role's account). Print the trust policy this site " +
        'needs with `site-deploy trust-policy --site client-portal --env production`.',
    );
  });

  test('a token without an environment (job has no `environment:`)', () => {
    const ctx: HopContext = {
      ...base,
      token: { sub: 'repo:org/repo:ref:refs/heads/main', repository: 'org/repo' },
    };
    expect(accessDeniedMessage(ctx)).toBe(
      'AccessDenied: STS refused AssumeRoleWithWebIdentity into arn:aws:iam::222222222222:role/site-deploy-production ' +
        'for the GitHub OIDC token with sub "repo:org/repo:ref:refs/heads/main". This job\'s token names no GitHub ' +
        'environment, so a trust policy that requires "token.actions.githubusercontent.com:sub" = ' +
        '"repo:org/repo:environment:production" refuses it: run the job with `environment: production`, or add a ' +
        'condition matching "repo:org/repo:ref:refs/heads/main". Print the trust policy this site needs with ' +
        '`site-deploy trust-policy --site client-portal --env production`.',
    );
  });

  test('via → role hop', () => {
    const ctx: HopContext = { ...base, call: 'assume-role', from: 'via', viaArn: via, externalId: true };
    expect(accessDeniedMessage(ctx)).toBe(
      'AccessDenied: STS refused AssumeRole from arn:aws:iam::999999999999:role/site-deploy-oidc into ' +
        'arn:aws:iam::222222222222:role/site-deploy-production (GitHub OIDC token sub ' +
        '"repo:org/repo:environment:production"). The role\'s trust policy most likely lacks a statement allowing ' +
        'Principal {"AWS": "arn:aws:iam::999999999999:role/site-deploy-oidc"} the actions sts:AssumeRole, ' +
        'sts:TagSession and sts:SetSourceIdentity (site-deploy sends session tags and a source identity), with the ' +
        'condition "sts:ExternalId" = the environment\'s external_id. Print the trust policy this site needs with ' +
        '`site-deploy trust-policy --site client-portal --env production`.',
    );
  });

  test('ambient hop', () => {
    const { token: _t, ...noToken } = base;
    const ctx: HopContext = {
      ...noToken,
      call: 'assume-role',
      from: 'ambient',
      ambientPrincipal: 'arn:aws:iam::111111111111:user/dev',
    };
    expect(accessDeniedMessage(ctx)).toBe(
      'AccessDenied: STS refused AssumeRole into arn:aws:iam::222222222222:role/site-deploy-production from the ambient ' +
        "AWS credentials (arn:aws:iam::111111111111:user/dev). The role's trust policy most likely lacks a statement " +
        'allowing that principal the actions sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity (site-deploy ' +
        "sends session tags and a source identity); or the principal's own IAM policy does not allow sts:AssumeRole on the role.",
    );
  });
});

describe('STS error mapping', () => {
  test.each([
    ['AccessDenied', 'access-denied'],
    ['ExpiredTokenException', 'expired-token'],
    ['ExpiredToken', 'expired-token'],
    ['InvalidIdentityTokenException', 'invalid-identity-token'],
    ['InvalidIdentityToken', 'invalid-identity-token'],
    ['IDPRejectedClaimException', 'idp-rejected'],
    ['RegionDisabledException', 'region-disabled'],
    ['PackedPolicyTooLargeException', 'packed-policy-too-large'],
    ['MalformedPolicyDocumentException', 'sts-failed'],
    ['SomethingElse', 'sts-failed'],
  ])('%s -> %s', (name, code) => {
    const e = stsFailure({ name, message: 'm' }, base);
    expect(e.code).toBe(code);
    expect(e.kind).toBe('step-failed');
  });

  test('normalizeStsCode', () => {
    expect(normalizeStsCode('ExpiredTokenException')).toBe('ExpiredToken');
    expect(normalizeStsCode('AccessDenied')).toBe('AccessDenied');
  });

  test('expired token messages per hop', () => {
    expect(expiredTokenMessage(base)).toBe(
      'ExpiredToken: the GitHub OIDC token expired before STS accepted it for ' +
        "arn:aws:iam::222222222222:role/site-deploy-production. GitHub's tokens live about 5 minutes and site-deploy " +
        "mints a fresh one for every session, so check the runner's clock and re-run the job.",
    );
    expect(expiredTokenMessage({ ...base, call: 'assume-role', from: 'ambient' })).toBe(
      'ExpiredToken: the ambient AWS credentials have expired (AssumeRole into ' +
        'arn:aws:iam::222222222222:role/site-deploy-production). Refresh them — e.g. `aws sso login` or new keys in ' +
        'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN — and run again.',
    );
  });

  test('invalid identity token names the provider to create', () => {
    expect(
      stsFailure({ name: 'InvalidIdentityTokenException', message: 'Incorrect token audience' }, base)
        .message,
    ).toBe(
      'InvalidIdentityToken: STS rejected the GitHub OIDC token for arn:aws:iam::222222222222:role/site-deploy-production: ' +
        'Incorrect token audience. Account 222222222222 needs an IAM OIDC identity provider for ' +
        'https://token.actions.githubusercontent.com whose audiences include "sts.amazonaws.com" (the action\'s `audience` input).',
    );
  });

  test('MaxSessionDuration validation error', () => {
    const e = stsFailure(
      {
        name: 'ValidationError',
        message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      },
      { ...base, durationSeconds: 7200 },
    );
    expect(e.code).toBe('duration-exceeds-role-max');
    expect(e.message).toBe(
      "arn:aws:iam::222222222222:role/site-deploy-production: a 7200 s session exceeds the role's maximum session " +
        "duration — raise the role's MaxSessionDuration or lower credentials.production.session_duration.",
    );
  });

  test('retries exhausted', () => {
    expect(stsUnavailable({ name: 'Throttling', message: 'Rate exceeded' }, base, 5).message).toBe(
      'AssumeRoleWithWebIdentity into arn:aws:iam::222222222222:role/site-deploy-production (module "networking", ' +
        'us-east-1) still failed after 5 attempts: Throttling: Rate exceeded. STS was throttling or unreachable; ' +
        're-run the job, or lower max-parallel.',
    );
  });
});

describe('withRetry', () => {
  const retryable = (e: unknown): boolean => (e as Error).message === 'transient';

  test('retries transient failures with jittered, growing, bounded delays', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw new Error('transient');
        return 'ok';
      },
      {
        attempts: 5,
        baseMs: 100,
        maxMs: 250,
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 0.5,
        isRetryable: retryable,
      },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(sleeps).toEqual([50, 100, 125]);
  });

  test('a non-retryable error is thrown at once', async () => {
    let calls = 0;
    let sleeps = 0;
    const sleep = async (): Promise<void> => void sleeps++;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('AccessDenied');
        },
        { attempts: 5, baseMs: 100, maxMs: 1000, sleep, random: Math.random, isRetryable: retryable },
      ),
    ).rejects.toThrow('AccessDenied');
    expect(calls).toBe(1);
    expect(sleeps).toBe(0);
  });

  test('gives up after the bounded number of attempts', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new Error('transient');
      },
      {
        attempts: 5,
        baseMs: 1,
        maxMs: 1,
        sleep: async () => undefined,
        random: () => 1,
        isRetryable: retryable,
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as RetriesExhaustedError).attempts).toBe(5);
    expect(((err as RetriesExhaustedError).cause as Error).message).toBe('transient');
    expect(calls).toBe(5);
  });

  test('backoffDelay stays within [0, min(max, base·2^(n-1))]', () => {
    expect(backoffDelay(1, 300, 5000, () => 0.999)).toBe(299);
    expect(backoffDelay(10, 300, 5000, () => 0.999)).toBe(4995);
    expect(backoffDelay(3, 300, 5000, () => 0)).toBe(0);
  });
});
