// Fault injection against real components: a proxy in front of a real moto server answers the
// first N matching STS or S3 requests the way AWS does when it throttles or fails (STS 400
// `Throttling`, S3 503 `SlowDown`, 500 / 503), then forwards. The STS chain, the runner's S3 state
// read and Terraform's own S3 backend must ride out faults inside their retry budget and fail
// clearly past it. SPEC §6 ("only throttling, 5xx and network errors are retried, bounded").
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FIXTURES, cleanTemp, request } from './fixtures/engine/harness.js';
import { join } from 'node:path';
import { TerraformEngine } from '../src/adapters/engines/terraform.js';
import type { Backend } from '../src/adapters/engines/types.js';
import { startFaultProxy, type Fault, type FaultProxy, type RequestMatch } from './helpers/fault-proxy.js';
import { startMoto, type Moto } from './helpers/moto.js';
import { DEFAULT_CLAIMS, startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';
import {
  CTX,
  TF_MODULES,
  cleanupSites,
  tempFolder,
  writeSite,
  type SiteRepo,
  type TfState,
} from './helpers/site.js';
import type { Workspace } from '../src/core/config/load.js';
import { CredentialError } from '../src/core/credentials/errors.js';
import type { CredentialTarget, StepIdentity } from '../src/core/credentials/session.js';
import type { SiteGraph } from '../src/core/graph/build.js';
import { loadProject } from '../src/core/project.js';
import { Redactor } from '../src/core/redact.js';
import {
  runGraph,
  type OutputValue,
  type RunMode,
  type RunPorts,
  type RunResult,
} from '../src/core/run/runner.js';
import { githubOidcSource } from '../src/adapters/aws/oidc.js';
import { SessionBroker, assumeStepSession, type StsOptions } from '../src/adapters/aws/sts.js';
import { fsReader } from '../src/adapters/fs-reader.js';
import { GroupedLog } from '../src/adapters/run/group-log.js';
import { enginePorts } from '../src/adapters/run/steps.js';

const ROLE = 'arn:aws:iam::222222222222:role/site-deploy-production';
const VIA = 'arn:aws:iam::999999999999:role/site-deploy-oidc';
/** STS attempts per call, first included (StsOptions.maxAttempts default). */
const STS_ATTEMPTS = 5;

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
let proxy: FaultProxy;
let s3: S3Client;
const BUCKET = 'site-state';
const savedEnv = { ...process.env };
const realWrite = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  [moto, issuer] = await Promise.all([startMoto(), startOidcIssuer()]);
  proxy = await startFaultProxy(moto.endpoint);
  s3 = new S3Client({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // @actions/core writes ::add-mask:: for every token and key; keep them out of the test output.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return text.startsWith('::') ? true : realWrite(chunk, ...rest);
  }) as typeof process.stdout.write;
}, 30_000);

afterAll(async () => {
  process.stdout.write = realWrite;
  process.env = savedEnv;
  s3?.destroy();
  await Promise.all([proxy?.stop(), moto?.stop(), issuer?.stop()]);
  await cleanupSites();
  cleanTemp();
});

beforeEach(() => {
  proxy.reset();
  for (const k of Object.keys(process.env))
    if (k.startsWith('AWS_') || k.startsWith('ACTIONS_')) delete process.env[k];
  process.env.AWS_ENDPOINT_URL_STS = proxy.endpoint;
  process.env.AWS_CONFIG_FILE = '/nonexistent/site-deploy-test';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/site-deploy-test';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  Object.assign(process.env, issuer.env());
  issuer.setClaims(DEFAULT_CLAIMS);
});

describe('STS chain through the fault proxy', () => {
  let sleeps: number[] = [];
  let log: string[] = [];
  beforeEach(() => {
    sleeps = [];
    log = [];
  });

  const oidc = (): StsOptions['source'] => ({
    kind: 'github-oidc',
    token: githubOidcSource('sts.amazonaws.com', { mask: () => undefined }),
  });
  const ambient = (): StsOptions['source'] => ({
    kind: 'ambient',
    credentials: async () => ({ accessKeyId: 'AKIAAMBIENTEXAMPLE01', secretAccessKey: 'ambient-secret' }),
  });
  const options = (source: StsOptions['source']): StsOptions => ({
    source,
    mask: () => undefined,
    log: (l) => void log.push(l),
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
  });

  async function failure(p: Promise<unknown>): Promise<CredentialError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof CredentialError)) throw new Error(`expected a CredentialError, got ${String(e)}`);
    return e;
  }

  // Each hop as a user meets it: the action's direct web-identity hop, and the CLI's hop from ambient keys.
  const hops = [
    { hop: 'GitHub OIDC → AssumeRoleWithWebIdentity', call: 'AssumeRoleWithWebIdentity', source: oidc },
    { hop: 'ambient keys → AssumeRole', call: 'AssumeRole', source: ambient },
  ] as const;
  const BAD_GATEWAY =
    '<html><head><title>502 Bad Gateway</title></head>\n<body>502 Bad Gateway</body></html>\n';
  const faults: [string, Fault, RegExp][] = [
    ['throttling (400 Throttling)', 'throttle', /: Throttling: Rate exceeded\. STS was throttling/],
    [
      '500 InternalFailure',
      500,
      /: InternalFailure \(HTTP 500\): An internal error occurred\. STS kept answering with server errors/,
    ],
    [
      '503 ServiceUnavailable',
      503,
      /: ServiceUnavailable \(HTTP 503\): Service is unavailable\. Please try again\. STS kept/,
    ],
    [
      '500 with a message over two lines',
      { status: 500, code: 'InternalFailure', message: 'line one\n  line two.' },
      /: InternalFailure \(HTTP 500\): line one line two\. STS kept/,
    ],
    [
      "a load balancer's HTML 502",
      { status: 502, body: BAD_GATEWAY, contentType: 'text/html' },
      /attempts: HTTP 502\. STS kept answering with server errors/,
    ],
  ];
  const cases = hops.flatMap((h) => faults.map(([name, fault, shown]) => ({ ...h, name, fault, shown })));

  test.each(cases)(
    '$hop: $name on the first 4 calls is ridden out on the 5th',
    async ({ call, source, fault }) => {
      const match: RequestMatch = { service: 'sts', action: call };
      proxy.failNext(STS_ATTEMPTS - 1, fault, match);

      const session = await assumeStepSession(target, identity, options(source()));

      expect(session?.credentials.accessKeyId).toMatch(/^ASIA/);
      expect(session?.hops).toEqual([`${call} ${ROLE}`]);
      const status = fault === 'throttle' ? 400 : typeof fault === 'object' ? fault.status : fault;
      expect(proxy.seen(match).map((r) => r.answered)).toEqual([
        ...Array<number>(STS_ATTEMPTS - 1).fill(status),
        'forwarded',
      ]);
      // Full-jitter exponential backoff, capped: random() = 1 shows each ceiling.
      expect(sleeps).toEqual([300, 600, 1200, 2400]);
      expect(log.filter((l) => l.includes('; retry'))).toHaveLength(STS_ATTEMPTS - 1);
    },
  );

  test.each(cases)(
    '$hop: $name on every call gives up after 5 attempts with one clear line',
    async ({ call, source, fault, shown }) => {
      const match: RequestMatch = { service: 'sts', action: call };
      // One more fault than the budget: a 6th attempt would still fail, so the count is the budget's.
      proxy.failNext(STS_ATTEMPTS + 1, fault, match);

      const e = await failure(assumeStepSession(target, identity, options(source())));

      expect(proxy.seen(match)).toHaveLength(STS_ATTEMPTS);
      expect(sleeps).toHaveLength(STS_ATTEMPTS - 1);
      expect(e.code).toBe('sts-unavailable');
      expect(e.kind).toBe('step-failed');
      expect(e.message).not.toContain('\n');
      expect(e.message).not.toMatch(/\bat .*:\d+:\d+/); // no stack frames
      expect(e.message).toContain(`${call} into ${ROLE}`);
      expect(e.message).toContain(`failed after ${STS_ATTEMPTS} attempts`);
      expect(e.message).toMatch(shown);
    },
  );

  test('the via chain: faults on the second hop are retried there, the first hop is made once', async () => {
    proxy.failNext(2, 'throttle', { service: 'sts', action: 'AssumeRole' });
    const session = await assumeStepSession({ ...target, via: VIA }, identity, options(oidc()));
    expect(session?.hops).toEqual([`AssumeRoleWithWebIdentity ${VIA}`, `AssumeRole ${ROLE}`]);
    expect(proxy.requests.map((r) => `${r.action} ${r.answered}`)).toEqual([
      'AssumeRoleWithWebIdentity forwarded',
      'AssumeRole 400',
      'AssumeRole 400',
      'AssumeRole forwarded',
    ]);
  });

  test.each(hops)('$hop: AccessDenied is not retried: exactly one call', async ({ call, source }) => {
    const match: RequestMatch = { service: 'sts', action: call };
    proxy.failNext(STS_ATTEMPTS, { status: 403, code: 'AccessDenied', message: 'not authorized' }, match);

    const e = await failure(assumeStepSession(target, identity, options(source())));

    expect(e.code).toBe('access-denied');
    expect(e.message).toContain(ROLE);
    expect(proxy.seen(match)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('SessionBroker: a chain that gave up is not cached; the next step makes it afresh', async () => {
    const match: RequestMatch = { service: 'sts', action: 'AssumeRoleWithWebIdentity' };
    proxy.failNext(STS_ATTEMPTS, 'throttle', match);
    const broker = new SessionBroker(options(oidc()));

    const e = await failure(broker.get(target, identity));
    expect(e.code).toBe('sts-unavailable');
    expect(broker.size).toBe(0);

    const session = await broker.get(target, identity);
    expect(session?.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(proxy.seen(match).map((r) => r.answered)).toEqual([
      ...Array<number>(STS_ATTEMPTS).fill(400),
      'forwarded',
    ]);
    expect(broker.size).toBe(1);
  });
});

describe('S3 state read by the runner (enginePorts.stateOutputs) through the fault proxy', () => {
  const KEY = 'sites/portal/dev/up.tfstate';
  /** The runner's own GET of the state object (the JS SDK), not Terraform's. */
  const runnerGet: RequestMatch = { service: 's3', method: 'GET', key: KEY, userAgent: /aws-sdk-js/ };
  let repo: SiteRepo;
  let upId: string;

  /** What the steps get: static keys, and every AWS endpoint through the proxy. */
  const stepEnv = (): Record<string, string> => ({
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
  });

  /** The site's graph and its engine ports (real Terraform, S3 state through the proxy). */
  async function ports(): Promise<{ ws: Workspace; graph: SiteGraph; ports: RunPorts }> {
    const { workspace, graph } = loadProject(
      fsReader(repo.root),
      { configRoot: 'sites', catalog: 'modules' },
      CTX,
      'portal',
      'dev',
    );
    const p = enginePorts(workspace, graph, {
      root: repo.root,
      workRoot: await tempFolder('sd-work-'),
      terraformBinary: 'terraform',
      lockTimeout: '30s',
      log: new GroupedLog({ startGroup: () => {}, endGroup: () => {}, write: () => {} }),
      redactor: new Redactor(),
      env: stepEnv(),
    });
    return { ws: workspace, graph, ports: p };
  }

  async function run(mode: RunMode): Promise<RunResult> {
    const { ws, graph, ports: p } = await ports();
    return runGraph(ws, graph, { mode, maxParallel: 2 }, p);
  }

  async function upState(): Promise<Record<string, OutputValue> | undefined> {
    const { graph, ports: p } = await ports();
    return p.stateOutputs(graph.nodes.find((n) => n.name === 'up')!);
  }

  beforeAll(async () => {
    repo = await writeSite({
      site: 'portal',
      settings: { state: { backend: 's3', bucket: BUCKET, region: 'us-east-1', key_prefix: 'sites' } },
      credentials: {
        aws_account: '111111111111',
        role: 'arn:aws:iam::111111111111:role/site-deploy-dev',
        region: 'us-east-1',
      },
      modules: [
        { type: 'src', name: 'up', weight: 10, label: 'hello', rev: '#{rev}' },
        { type: 'echo', name: 'down', weight: 20, value: '#{up.id}' },
      ],
      catalog: { src: TF_MODULES.src!, echo: TF_MODULES.echo! },
      variables: { rev: '1' },
    });
    const applied = await run('apply');
    expect(applied.modules.map((m) => [m.name, m.status, m.reason])).toEqual([
      ['up', 'succeeded', undefined],
      ['down', 'succeeded', undefined],
    ]);
    const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    upId = (JSON.parse(await obj.Body!.transformToString()) as TfState).outputs.id!.value as string;
    expect(upId).toMatch(/^[0-9a-f-]{36}$/);
  }, 60_000);

  test.each([
    ['503 SlowDown', 'throttle'],
    ['500 InternalError', 500],
    ['503 ServiceUnavailable', 503],
  ] as [string, Fault][])(
    '%s on the first GET of the state object: the state is still read',
    async (_n, fault) => {
      proxy.failNext(1, fault, runnerGet);
      const outputs = await upState();
      expect(outputs?.id?.value).toBe(upId);
      expect(proxy.seen(runnerGet).map((r) => r.answered)).toEqual([
        fault === 'throttle' ? 503 : fault,
        'forwarded',
      ]);
    },
  );

  test('a plan whose upstream state GET is throttled once still uses the real upstream value, not the mock', async () => {
    await repo.setVariables({ rev: '2' }); // up will be replaced: its plan does not know `id`
    try {
      proxy.failNext(1, 'throttle', runnerGet);
      const result = await run('plan');
      const byName = (n: string) => result.modules.find((m) => m.name === n)!;
      expect(byName('up')).toMatchObject({ status: 'succeeded', replace: 1 });
      expect(byName('down')).toMatchObject({ status: 'no-op', mocked: [], blockedOn: [] });
      expect(byName('down').outputs.value?.value).toBe(upId);
      expect(proxy.seen(runnerGet).map((r) => r.answered)).toEqual([503, 'forwarded']);
    } finally {
      await repo.setVariables({ rev: '1' });
    }
  }, 60_000);

  test('past the retry budget the state read fails naming the module, the object and the error — never "no state"', async () => {
    proxy.failNext(10, 'throttle', runnerGet);
    await expect(upState()).rejects.toThrow(
      /^could not read the state of module "up" \(s3:\/\/[\w.-]+\/sites\/portal\/dev\/up\.tfstate\): SlowDown \(HTTP 503\): .* after 4 attempts$/,
    );
    expect(proxy.seen(runnerGet)).toHaveLength(4);
  });

  test('a plan whose upstream state cannot be read fails that module, never planning against the mock', async () => {
    await repo.setVariables({ rev: '3' }); // up will be replaced: its plan does not know `id`
    try {
      proxy.failNext(10, 503, runnerGet);
      const result = await run('plan');
      const byName = (n: string) => result.modules.find((m) => m.name === n)!;
      expect(byName('up')).toMatchObject({ status: 'succeeded', replace: 1 });
      expect(byName('down').status).toBe('failed');
      expect(byName('down').mocked).toEqual([]);
      expect(byName('down').reason).toMatch(
        /^could not read the state of module "up" \(s3:\/\/.*\): .*HTTP 503/,
      );
      expect(result.status).toBe('failed');
    } finally {
      proxy.reset();
      await repo.setVariables({ rev: '1' });
    }
  }, 60_000);
});

describe("Terraform's S3 backend through the fault proxy", () => {
  const engine = new TerraformEngine();
  const env = (): Record<string, string> => ({
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  /** As the runner configures it (backendFor): no max_retries, Terraform's default budget. */
  const backend = (key: string, maxRetries?: number): Backend => ({
    kind: 's3',
    bucket: BUCKET,
    key,
    region: 'us-east-1',
    ...(maxRetries === undefined ? {} : { maxRetries }),
  });

  test.each([
    ['503 SlowDown', 'throttle'],
    ['500 InternalError', 500],
  ] as [string, Fault][])(
    '%s on the first 2 requests for the state key: init, plan and apply still succeed',
    async (name, fault) => {
      const key = `engine/${name.replace(/\W+/g, '-')}.tfstate`;
      proxy.failNext(2, fault, { service: 's3', key });

      const r = await engine.run(
        request({
          moduleDir: join(FIXTURES, 'site'),
          inputs: { name: 'portal' },
          backend: backend(key),
          env: env(),
        }),
      );

      expect([r.status, r.error]).toEqual(['succeeded', undefined]);
      const onKey = proxy.seen({ service: 's3', key });
      expect(onKey.slice(0, 3).map((q) => q.answered)).toEqual([
        fault === 'throttle' ? 503 : fault,
        fault === 'throttle' ? 503 : fault,
        'forwarded',
      ]);
      // The retried request was the same one, and the state was written after all.
      expect(new Set(onKey.slice(0, 3).map((q) => `${q.method} ${q.url}`)).size).toBe(1);
      expect(onKey.some((q) => q.method === 'PUT' && q.answered === 'forwarded')).toBe(true);
      const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const state = JSON.parse(await obj.Body!.transformToString()) as TfState;
      expect(state.outputs.greeting?.value).toBe('hello portal');
      expect(state.outputs.id?.value).toBe(r.outputs.id?.value);
    },
    60_000,
  );

  test('past the backend max_retries the step fails at init, naming the state object and the 503', async () => {
    const key = 'engine/gives-up.tfstate';
    proxy.failNext(3, 'throttle', { service: 's3', key });

    const r = await engine.run(
      request({
        moduleDir: join(FIXTURES, 'site'),
        inputs: { name: 'portal' },
        backend: backend(key, 2),
        env: env(),
      }),
    );

    expect(r.status).toBe('failed');
    expect(r.error?.split('\n')[0]).toMatch(
      /^terraform init failed \(exit 1\): .*Unable to access object "engine\/gives-up\.tfstate" in S3 bucket "site-state".*exceeded maximum number of attempts, 2.*StatusCode: 503/,
    );
    expect(proxy.seen({ service: 's3', key })).toHaveLength(2);
  }, 60_000);
});
