import {
  CredentialError,
  STS_LIMITS,
  assumeRoleParams,
  checkPolicyArn,
  checkRoleArn,
  checkSourceIdentity,
  checkTags,
  clampDuration,
  partitionOf,
  planChain,
  sanitizeTagValue,
  sessionName,
  sessionPolicy,
  sessionTags,
  sourceIdentity,
  stsEndpointHost,
  viaPolicy,
  webIdentityParams,
  type CredentialTarget,
  type StepIdentity,
} from '../src/core/credentials/session.js';

function thrown(fn: () => unknown): CredentialError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CredentialError) return e;
    throw e;
  }
  throw new Error('expected a CredentialError');
}

const target: CredentialTarget = {
  environment: 'production',
  account: '222222222222',
  role: 'arn:aws:iam::222222222222:role/site-deploy-production',
  planRole: 'arn:aws:iam::222222222222:role/site-deploy-production-ro',
  region: 'us-east-1',
  sessionDuration: 7200,
  boundaryPolicy: 'arn:aws:iam::222222222222:policy/production-boundary',
  allowedServices: ['cloudfront', 'ec2', 'rds', 's3'],
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

describe('partitions and endpoints', () => {
  test.each([
    ['us-east-1', 'aws', 'sts.us-east-1.amazonaws.com'],
    ['eu-central-2', 'aws', 'sts.eu-central-2.amazonaws.com'],
    ['us-gov-west-1', 'aws-us-gov', 'sts.us-gov-west-1.amazonaws.com'],
    ['us-gov-east-1', 'aws-us-gov', 'sts.us-gov-east-1.amazonaws.com'],
    ['cn-north-1', 'aws-cn', 'sts.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', 'aws-cn', 'sts.cn-northwest-1.amazonaws.com.cn'],
  ])('%s -> %s, %s', (region, partition, host) => {
    expect(partitionOf(region)).toBe(partition);
    expect(stsEndpointHost(region)).toBe(host);
  });

  test('a malformed region is refused', () => {
    const e = thrown(() => stsEndpointHost('US-EAST-1'));
    expect(e.code).toBe('invalid-region');
    expect(e.kind).toBe('bad-input');
    expect(e.message).toBe(
      '"US-EAST-1" is not an AWS region name (expected something like us-east-1, us-gov-west-1 or cn-north-1)',
    );
  });
});

describe('ARNs', () => {
  test.each([
    ['arn:aws:iam::222222222222:role/deploy', 'us-east-1'],
    ['arn:aws:iam::222222222222:role/team/sub/deploy', 'eu-west-1'],
    ['arn:aws-us-gov:iam::222222222222:role/deploy', 'us-gov-west-1'],
    ['arn:aws-cn:iam::222222222222:role/deploy', 'cn-north-1'],
  ])('%s is a role ARN in %s', (arn, region) => {
    expect(checkRoleArn(arn, region, 'credentials.x.role').account).toBe('222222222222');
  });

  test.each([
    ['not-an-arn', 'us-east-1', 'aws'],
    ['arn:aws:iam::1:role/x', 'us-east-1', 'aws'],
    ['arn:aws:iam::222222222222:user/x', 'us-east-1', 'aws'],
    ['arn:aws:sts::222222222222:role/x', 'us-east-1', 'aws'],
    ['arn:aws:iam:us-east-1:222222222222:role/x', 'us-east-1', 'aws'],
    ['arn:aws:iam::222222222222:role/bad name', 'us-east-1', 'aws'],
    ['arn:aws-us-gov:iam::222222222222:role/', 'us-gov-west-1', 'aws-us-gov'],
  ])('%s is malformed', (arn, region, partition) => {
    const e = thrown(() => checkRoleArn(arn, region, 'credentials.production.role'));
    expect(e.code).toBe('invalid-arn');
    expect(e.message).toBe(
      `credentials.production.role: "${arn}" is not an IAM role ARN — expected arn:${partition}:iam::<12-digit account>:role/<name>`,
    );
  });

  test.each([
    [
      'arn:aws:iam::222222222222:role/deploy',
      'us-gov-west-1',
      'credentials.production.role: arn:aws:iam::222222222222:role/deploy is in partition "aws", but region ' +
        'us-gov-west-1 is in "aws-us-gov" — use arn:aws-us-gov:iam::222222222222:role/deploy',
    ],
    [
      'arn:aws:iam::222222222222:role/deploy',
      'cn-north-1',
      'credentials.production.role: arn:aws:iam::222222222222:role/deploy is in partition "aws", but region ' +
        'cn-north-1 is in "aws-cn" — use arn:aws-cn:iam::222222222222:role/deploy',
    ],
    [
      'arn:aws-us-gov:iam::222222222222:role/deploy',
      'us-east-1',
      'credentials.production.role: arn:aws-us-gov:iam::222222222222:role/deploy is in partition "aws-us-gov", but region ' +
        'us-east-1 is in "aws" — use arn:aws:iam::222222222222:role/deploy',
    ],
  ])('%s in %s is the wrong partition', (arn, region, message) => {
    const e = thrown(() => checkRoleArn(arn, region, 'credentials.production.role'));
    expect(e.code).toBe('arn-partition');
    expect(e.message).toBe(message);
  });

  test('policy ARNs: account or aws-managed, partition checked', () => {
    expect(checkPolicyArn('arn:aws:iam::aws:policy/ReadOnlyAccess', 'us-east-1', 'b').account).toBe('aws');
    expect(checkPolicyArn('arn:aws-cn:iam::222222222222:policy/b', 'cn-north-1', 'b').partition).toBe(
      'aws-cn',
    );
    expect(
      thrown(() =>
        checkPolicyArn('arn:aws:iam::222222222222:role/b', 'us-east-1', 'credentials.p.boundary_policy'),
      ).message,
    ).toBe(
      'credentials.p.boundary_policy: "arn:aws:iam::222222222222:role/b" is not an IAM policy ARN — expected ' +
        'arn:aws:iam::<12-digit account>:policy/<name>',
    );
    expect(
      thrown(() => checkPolicyArn('arn:aws:iam::222222222222:policy/b', 'us-gov-west-1', 'x')).code,
    ).toBe('arn-partition');
  });
});

describe('session names', () => {
  test('a valid name is kept as is', () => {
    expect(sessionName('client-portal', 'production', 'networking')).toBe(
      'sd-client-portal-production-networking',
    );
  });

  test('bad characters become _ and a stable hash keeps names distinct', () => {
    const a = sessionName('client portal', 'prod', 'net/1');
    const b = sessionName('client_portal', 'prod', 'net_1');
    expect(a).toMatch(/^sd-client_portal-prod-net_1-[0-9a-f]{8}$/);
    expect(b).toBe('sd-client_portal-prod-net_1');
    expect(sessionName('client portal', 'prod', 'net/1')).toBe(a);
    expect(sessionName('café', 'prod', '🚀')).toMatch(/^sd-caf_-prod-_-[0-9a-f]{8}$/);
  });

  test('long names are cut to 64 with a hash suffix, and stay unique', () => {
    const a = sessionName(
      'a-very-long-site-name-for-testing',
      'production-eu-west',
      'kubernetes-namespaces-and-more',
    );
    const b = sessionName(
      'a-very-long-site-name-for-testing',
      'production-eu-west',
      'kubernetes-namespaces-and-morf',
    );
    expect(a).toHaveLength(64);
    expect(b).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
    expect(a).toMatch(/^[\w+=,.@-]{55}-[0-9a-f]{8}$/);
  });

  test.each([
    ['short', 'sd-x', true],
    ['one char', 'x', false],
    ['space', 'has space', false],
    ['65 chars', 'a'.repeat(65), false],
    ['64 chars', 'a'.repeat(64), true],
  ])('session name check: %s', (_label, name, ok) => {
    const build = (): unknown =>
      assumeRoleParams({ roleArn: target.role, sessionName: name, durationSeconds: 900 });
    if (ok) expect(build).not.toThrow();
    else {
      const e = thrown(build);
      expect(e.code).toBe('invalid-session-name');
      expect(e.message).toBe(
        `session name "${name}" must be 2–64 characters of [A-Za-z0-9_+=,.@-] (it is ${name.length})`,
      );
    }
  });
});

describe('tags and source identity', () => {
  test.each([
    ['slash kept', 'org/repo', 'org/repo'],
    ['brackets replaced', 'dependabot[bot]', 'dependabot_bot_'],
    ['unicode letters kept', 'café münchen', 'café münchen'],
    ['punctuation replaced', 'a;b"c', 'a_b_c'],
    ['emoji is one _', 'rocket 🚀', 'rocket _'],
    ['300 chars cut to 256', 'x'.repeat(300), 'x'.repeat(256)],
  ])('tag value: %s', (_name, value, expected) => {
    expect(sanitizeTagValue(value)).toBe(expected);
  });

  test.each([
    ['plain login', 'octocat', 'octocat'],
    ['bot login', 'dependabot[bot]', 'dependabot_bot_'],
    ['one letter padded', 'a', 'a_'],
    ['aws: prefix defused', 'aws:admin', 'aws_admin'],
    ['70 chars cut to 64', 'x'.repeat(70), 'x'.repeat(64)],
    ['no actor', undefined, undefined],
    ['empty actor', '', undefined],
  ])('source identity: %s', (_name, actor, expected) => {
    expect(sourceIdentity(actor)).toBe(expected);
    if (expected !== undefined) expect(() => checkSourceIdentity(expected)).not.toThrow();
  });

  test.each(['x', 'aws-ok'.replace('-ok', ':x'), 'AWS:x', 'has space', 'y'.repeat(65)])(
    'source identity %j is refused',
    (v) => {
      const e = thrown(() => checkSourceIdentity(v));
      expect(e.code).toBe('invalid-source-identity');
      expect(e.message).toBe(
        `source identity "${v}" must be 2–64 characters of [A-Za-z0-9_+=,.@-] and must not start with "aws:"`,
      );
    },
  );

  test('session tags: Site, Environment, Module, Repository, RunId', () => {
    expect(sessionTags(identity)).toEqual([
      { Key: 'Site', Value: 'client-portal' },
      { Key: 'Environment', Value: 'production' },
      { Key: 'Module', Value: 'networking' },
      { Key: 'Repository', Value: 'org/repo' },
      { Key: 'RunId', Value: '4242' },
    ]);
    const { repository: _r, runId: _i, ...local } = identity;
    expect(sessionTags(local).map((t) => t.Key)).toEqual(['Site', 'Environment', 'Module']);
  });

  test('tag limits', () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(thrown(() => checkTags(many)).message).toBe('51 session tags; STS allows at most 50');
    expect(() => checkTags(many.slice(0, 50))).not.toThrow();
    expect(thrown(() => checkTags([{ Key: 'k'.repeat(129), Value: 'v' }])).message).toBe(
      `session tag key "${'k'.repeat(129)}" must be 1–128 characters of letters, digits, spaces and _.:/=+-@`,
    );
    expect(() => checkTags([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }])).not.toThrow();
    const long = thrown(() => checkTags([{ Key: 'Site', Value: 'v'.repeat(257) }]));
    expect(long.code).toBe('invalid-tag');
    expect(long.message).toBe(
      'session tag Site: the value must be at most 256 characters of letters, digits, spaces and _.:/=+-@ (it is 257)',
    );
    expect(thrown(() => checkTags([{ Key: 'Site', Value: 'a[b]' }])).code).toBe('invalid-tag');
    expect(
      thrown(() =>
        checkTags([
          { Key: 'Site', Value: 'a' },
          { Key: 'site', Value: 'b' },
        ]),
      ).message,
    ).toBe('session tag key "site" appears twice (keys are case-insensitive)');
  });
});

describe('session policy', () => {
  test('services ∩ allowed_services, sorted, minified', () => {
    expect(
      sessionPolicy({ ...identity, services: ['rds', 'ec2', 'ec2', 'lambda'] }, ['ec2', 'rds', 's3'], 'aws'),
    ).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","rds:*"],"Resource":"*"}]}',
    );
  });

  test('no allowed_services list allows every catalog service', () => {
    expect(sessionPolicy({ ...identity, services: ['s3', 'ec2'] }, undefined, 'aws')).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*"],"Resource":"*"}]}',
    );
  });

  test('S3 state: only the state object, its .tflock, and a prefix-bound ListBucket (GovCloud ARNs)', () => {
    const policy = sessionPolicy(
      {
        ...identity,
        services: [],
        stateObject: { bucket: 'tfstate', key: 'sites/client-portal/production/networking.tfstate' },
      },
      ['ec2'],
      'aws-us-gov',
    );
    const obj = 'arn:aws-us-gov:s3:::tfstate/sites/client-portal/production/networking.tfstate';
    expect(policy).toBe(
      '{"Version":"2012-10-17","Statement":[' +
        `{"Effect":"Allow","Action":["s3:DeleteObject","s3:GetObject","s3:PutObject"],"Resource":["${obj}","${obj}.tflock"]},` +
        '{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws-us-gov:s3:::tfstate",' +
        '"Condition":{"StringEquals":{"s3:prefix":["env:/","sites/client-portal/production/networking.tfstate"]}}}]}',
    );
  });

  test('China partition ARNs for state', () => {
    const policy = sessionPolicy(
      { ...identity, services: ['ec2'], stateObject: { bucket: 'b-cn', key: 'k' } },
      undefined,
      'aws-cn',
    );
    expect(policy).toContain('"Resource":["arn:aws-cn:s3:::b-cn/k","arn:aws-cn:s3:::b-cn/k.tflock"]');
    expect(policy).toContain('"Action":["ec2:*"],"Resource":"*"');
  });

  test('no services and no S3 state: no session at all', () => {
    expect(sessionPolicy({ ...identity, services: [] }, undefined, 'aws')).toBeUndefined();
    expect(sessionPolicy({ ...identity, services: ['iam'] }, ['ec2'], 'aws')).toBeUndefined();
  });

  test('over 2048 characters: an error naming the module and the size', () => {
    const services = Array.from({ length: 160 }, (_, i) => `service-number-${i}`);
    const e = thrown(() => sessionPolicy({ ...identity, module: 'monolith', services }, undefined, 'aws'));
    expect(e.code).toBe('policy-too-large');
    const size = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: [...services].sort().map((s) => `${s}:*`), Resource: '*' }],
    }).length;
    expect(e.message).toBe(
      `module "monolith": the inline session policy is ${size} characters after minification; STS allows at most 2048 — ` +
        'give the module fewer services or split it',
    );
  });

  test('exactly at the limit passes', () => {
    // Grow one service name until the policy is exactly 2048 characters.
    const base = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["x:*"],"Resource":"*"}]}'
      .length;
    const name = 'x'.repeat(1 + STS_LIMITS.policyMax - base);
    expect(sessionPolicy({ ...identity, services: [name] }, undefined, 'aws')).toHaveLength(2048);
    expect(
      thrown(() => sessionPolicy({ ...identity, services: [`${name}x`] }, undefined, 'aws')).message,
    ).toContain('is 2049 characters');
  });

  test('a service that is not an IAM prefix is refused', () => {
    expect(thrown(() => sessionPolicy({ ...identity, services: ['EC2*'] }, undefined, 'aws')).message).toBe(
      'module "networking": service "EC2*" is not an IAM service prefix (lowercase letters, digits and hyphens, like "ec2" or "execute-api")',
    );
  });

  test('a state key with IAM wildcards is refused', () => {
    const e = thrown(() =>
      sessionPolicy({ ...identity, stateObject: { bucket: 'b', key: 'sites/*' } }, undefined, 'aws'),
    );
    expect(e.code).toBe('invalid-policy');
  });

  test('via hop policy: only assume the target role', () => {
    expect(viaPolicy('arn:aws:iam::222222222222:role/r')).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:SetSourceIdentity",' +
        '"sts:TagSession"],"Resource":"arn:aws:iam::222222222222:role/r"}]}',
    );
  });
});

describe('durations', () => {
  test.each([
    [100, false, 900],
    [900, false, 900],
    [3600, false, 3600],
    [7200, false, 7200],
    [43_200, false, 43_200],
    [50_000, false, 43_200],
    [1000.7, false, 1000],
    [7200, true, 3600],
    [3600, true, 3600],
    [899, true, 900],
  ])('clampDuration(%d, chained=%s) = %d', (s, chained, expected) => {
    expect(clampDuration(s, chained)).toBe(expected);
  });

  test('not a number', () => {
    expect(thrown(() => clampDuration(Number.NaN, false)).message).toBe(
      'session_duration must be a number of seconds, not NaN',
    );
  });

  test.each([899, 43_201, 1000.5])('DurationSeconds %d is refused by the builders', (d) => {
    const e = thrown(() =>
      assumeRoleParams({ roleArn: target.role, sessionName: 'sd-x', durationSeconds: d }),
    );
    expect(e.message).toBe(`DurationSeconds ${d} is outside STS's 900–43200 range`);
  });
});

describe('request builders', () => {
  test('web identity: no tags, no source identity', () => {
    expect(
      webIdentityParams({
        roleArn: target.role,
        sessionName: 'sd-a-b-c',
        token: 'header.payload.sig',
        durationSeconds: 3600,
        policy: '{"Version":"2012-10-17","Statement":[]}',
        policyArns: [target.boundaryPolicy!],
      }),
    ).toEqual({
      RoleArn: target.role,
      RoleSessionName: 'sd-a-b-c',
      WebIdentityToken: 'header.payload.sig',
      DurationSeconds: 3600,
      Policy: '{"Version":"2012-10-17","Statement":[]}',
      PolicyArns: [{ arn: target.boundaryPolicy }],
    });
    expect(
      thrown(() =>
        webIdentityParams({ roleArn: target.role, sessionName: 'sd-x', token: 'abc', durationSeconds: 900 }),
      ).message,
    ).toBe('the OIDC token is 3 characters; STS takes 4–20000');
  });

  test('assume role: source identity, tags, external id; undefined keys left out', () => {
    const p = assumeRoleParams({
      roleArn: target.role,
      sessionName: 'sd-a-b-c',
      durationSeconds: 3600,
      sourceIdentity: 'octocat',
      tags: [{ Key: 'Site', Value: 'a' }],
      externalId: 'ext-123',
    });
    expect(p).toEqual({
      RoleArn: target.role,
      RoleSessionName: 'sd-a-b-c',
      DurationSeconds: 3600,
      SourceIdentity: 'octocat',
      Tags: [{ Key: 'Site', Value: 'a' }],
      ExternalId: 'ext-123',
    });
    expect(
      Object.keys(assumeRoleParams({ roleArn: target.role, sessionName: 'sd-x', durationSeconds: 900 })),
    ).toEqual(['RoleArn', 'RoleSessionName', 'DurationSeconds']);
  });

  test('at most 10 policy ARNs', () => {
    const arns = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::222222222222:policy/p${i}`);
    const e = thrown(() =>
      assumeRoleParams({ roleArn: target.role, sessionName: 'sd-x', durationSeconds: 900, policyArns: arns }),
    );
    expect(e.code).toBe('too-many-policy-arns');
    expect(e.message).toBe('11 managed session policies (PolicyArns); STS allows at most 10');
    expect(() =>
      assumeRoleParams({
        roleArn: target.role,
        sessionName: 'sd-x',
        durationSeconds: 900,
        policyArns: arns.slice(0, 10),
      }),
    ).not.toThrow();
  });

  test('policy text STS cannot take', () => {
    const e = thrown(() =>
      assumeRoleParams({
        roleArn: target.role,
        sessionName: 'sd-x',
        durationSeconds: 900,
        policy: '{"a":"\u2603"}',
      }),
    );
    expect(e.code).toBe('invalid-policy');
  });
});

describe('planChain', () => {
  test('direct hop: one AssumeRoleWithWebIdentity with policy and boundary, full duration', () => {
    const plan = planChain(target, identity, { kind: 'web-identity' })!;
    expect(plan.hops).toEqual([
      {
        kind: 'web-identity',
        roleArn: target.role,
        params: {
          RoleArn: target.role,
          RoleSessionName: 'sd-client-portal-production-networking',
          DurationSeconds: 7200,
          Policy:
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*"],"Resource":"*"}]}',
          PolicyArns: [{ arn: target.boundaryPolicy }],
        },
      },
    ]);
  });

  test('plan purpose uses plan_role', () => {
    expect(planChain(target, { ...identity, purpose: 'plan' }, { kind: 'web-identity' })!.roleArn).toBe(
      target.planRole,
    );
    const { planRole: _p, ...noPlanRole } = target;
    expect(planChain(noPlanRole, { ...identity, purpose: 'plan' }, { kind: 'web-identity' })!.roleArn).toBe(
      target.role,
    );
  });

  test('via: web identity into the hub (scoped to assuming the role), then AssumeRole clamped to 3600', () => {
    const via = 'arn:aws:iam::999999999999:role/site-deploy-oidc';
    const plan = planChain({ ...target, via, externalId: 'ext-1' }, identity, { kind: 'web-identity' })!;
    expect(plan.hops).toHaveLength(2);
    expect(plan.hops[0]).toEqual({
      kind: 'web-identity',
      roleArn: via,
      params: {
        RoleArn: via,
        RoleSessionName: 'sd-client-portal-production-networking',
        DurationSeconds: 900,
        Policy: viaPolicy(target.role),
      },
    });
    expect(plan.hops[1]).toEqual({
      kind: 'assume-role',
      roleArn: target.role,
      from: 'previous',
      params: {
        RoleArn: target.role,
        RoleSessionName: 'sd-client-portal-production-networking',
        DurationSeconds: 3600,
        Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*"],"Resource":"*"}]}',
        PolicyArns: [{ arn: target.boundaryPolicy }],
        SourceIdentity: 'octocat',
        Tags: sessionTags(identity),
        ExternalId: 'ext-1',
      },
    });
  });

  test('ambient: AssumeRole with tags; clamped only when the ambient credentials are a session', () => {
    const plain = planChain(target, identity, { kind: 'ambient' })!;
    expect(plain.hops).toHaveLength(1);
    expect(plain.hops[0]!.kind).toBe('assume-role');
    expect(plain.hops[0]!.params.DurationSeconds).toBe(7200);
    expect(planChain(target, identity, { kind: 'ambient', ambientIsSession: true })!.durationSeconds).toBe(
      3600,
    );
  });

  test('GovCloud end to end', () => {
    const gov: CredentialTarget = {
      ...target,
      region: 'us-gov-west-1',
      role: 'arn:aws-us-gov:iam::222222222222:role/deploy',
      planRole: undefined,
      boundaryPolicy: 'arn:aws-us-gov:iam::222222222222:policy/boundary',
    };
    const plan = planChain(
      gov,
      { ...identity, stateObject: { bucket: 'st', key: 'k' } },
      { kind: 'web-identity' },
    )!;
    expect(plan.policy).toContain('arn:aws-us-gov:s3:::st/k');
    expect(plan.policyArns).toEqual(['arn:aws-us-gov:iam::222222222222:policy/boundary']);
  });

  test('refuses before anything runs: partition, account, boundary, external id', () => {
    expect(
      thrown(() => planChain({ ...target, region: 'us-gov-west-1' }, identity, { kind: 'web-identity' }))
        .message,
    ).toBe(
      'credentials.production.role: arn:aws:iam::222222222222:role/site-deploy-production is in partition "aws", but ' +
        'region us-gov-west-1 is in "aws-us-gov" — use arn:aws-us-gov:iam::222222222222:role/site-deploy-production',
    );
    expect(
      thrown(() => planChain({ ...target, account: '333333333333' }, identity, { kind: 'web-identity' }))
        .message,
    ).toBe(
      'credentials.production.role: arn:aws:iam::222222222222:role/site-deploy-production is in account 222222222222, not aws_account 333333333333',
    );
    expect(
      thrown(() =>
        planChain({ ...target, via: 'arn:aws:iam::999:role/x' }, identity, { kind: 'web-identity' }),
      ).message,
    ).toBe(
      'credentials.production.via: "arn:aws:iam::999:role/x" is not an IAM role ARN — expected arn:aws:iam::<12-digit account>:role/<name>',
    );
    expect(
      thrown(() =>
        planChain({ ...target, boundaryPolicy: 'arn:aws:iam::111111111111:policy/b' }, identity, {
          kind: 'web-identity',
        }),
      ).code,
    ).toBe('arn-account');
    expect(
      thrown(() => planChain({ ...target, externalId: 'x' }, identity, { kind: 'ambient' })).message,
    ).toBe('credentials.production.external_id must be 2–1224 characters of [A-Za-z0-9_+=,.@:/-]');
    expect(
      thrown(() =>
        planChain(
          { ...target, planRole: 'arn:aws:iam::222222222222:role/ro x' },
          { ...identity, purpose: 'plan' },
          { kind: 'web-identity' },
        ),
      ).message,
    ).toContain('credentials.production.plan_role:');
  });

  test('no session for a module that needs none', () => {
    expect(planChain(target, { ...identity, services: [] }, { kind: 'web-identity' })).toBeUndefined();
  });

  test('the cache key is one per module step: two modules never share a session, even with one policy', () => {
    const a = planChain(target, identity, { kind: 'web-identity' })!;
    const again = planChain(target, { ...identity }, { kind: 'web-identity' })!;
    const b = planChain(target, { ...identity, module: 'other' }, { kind: 'web-identity' })!;
    const c = planChain(target, { ...identity, services: ['rds'] }, { kind: 'web-identity' })!;
    const d = planChain(target, { ...identity, purpose: 'plan' }, { kind: 'web-identity' })!;
    expect(a.key).toBe(again.key);
    expect(a.key).not.toBe(b.key);
    expect(a.key).not.toBe(c.key);
    expect(a.key).not.toBe(d.key);
  });

  test('credential errors found locally are bad input', () => {
    expect(new CredentialError('invalid-arn', 'x').kind).toBe('bad-input');
    expect(new CredentialError('access-denied', 'x').kind).toBe('step-failed');
  });
});
