/**
 * The STS hop chain of a module step (the only user of `@aws-sdk/client-sts`): GitHub OIDC →
 * AssumeRoleWithWebIdentity, or ambient credentials → AssumeRole, then `via` → role. Every request
 * is planned and checked locally first (`planChain`); only throttling, 5xx and network errors are
 * retried; every credential part is masked the moment it exists.
 */
import * as core from '@actions/core';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
  type Credentials,
} from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { CredentialError } from '../../core/credentials/errors.js';
import {
  stsFailure,
  stsUnavailable,
  type HopContext,
  type StsFailure,
} from '../../core/credentials/messages.js';
import { RetriesExhaustedError, withRetry } from '../../core/credentials/retry.js';
import {
  planChain,
  type ChainPlan,
  type CredentialTarget,
  type PlannedHop,
  type StepIdentity,
} from '../../core/credentials/session.js';
import { githubOidcSource, type OidcClaims, type OidcTokenSource } from './oidc.js';

/** Temporary credentials of one step's session (the SDK's credential identity shape). */
export interface StepCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  accountId?: string;
}

/** Long-lived or temporary caller credentials, as the SDK's providers return them. */
export interface CallerCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** A provider of ambient caller credentials (the SDK default chain unless injected). */
export type AmbientProvider = () => Promise<CallerCredentials>;

/** Where the first hop's credentials come from. */
export type CredentialSource =
  { kind: 'github-oidc'; token: OidcTokenSource } | { kind: 'ambient'; credentials?: AmbientProvider };

/** What the approval read-back sees; it decides whether a `require_mfa` step may run. */
export interface ApprovalRequest {
  claims: OidcClaims;
  target: CredentialTarget;
  identity: StepIdentity;
}

/**
 * Reads back the human approval of this run for the token's environment (the action passes
 * `runApproval` from the GitHub adapter: `GET /repos/{o}/{r}/actions/runs/{id}/approvals`).
 */
export type ApprovalCheck = (request: ApprovalRequest) => Promise<{ approved: boolean; detail: string }>;

/** Options of the chain and of the session broker. */
export interface StsOptions {
  source: CredentialSource;
  /** Masks a secret in logs; default `core.setSecret` for GitHub OIDC, nothing for ambient (CLI). */
  mask?: (secret: string) => void;
  /** Progress lines (never secrets). */
  log?: (line: string) => void;
  /** Injected for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; default Math.random. */
  random?: () => number;
  /** Attempts per STS call, first included; default 5. */
  maxAttempts?: number;
  /** Backoff base and ceiling; default 300 ms and 5 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Required for `require_mfa` beyond the token's `environment` claim; see ApprovalCheck. */
  approval?: ApprovalCheck;
  /** Clock for the session cache; default Date.now. */
  now?: () => number;
  /** A cached session is re-made when it expires within this many ms; default 5 minutes. */
  refreshBeforeMs?: number;
}

/** One module step's session: credentials plus what the evidence record needs. */
export interface StepSession {
  /** Cache key: (source, purpose, role, via, policy, policy ARNs). */
  key: string;
  credentials: StepCredentials;
  /** RoleSessionName of the final hop: `sd-<site>-<env>-<module>`. */
  sessionName: string;
  /** The role the step runs as. */
  roleArn: string;
  /** `arn:…:sts::<account>:assumed-role/<role>/<session>` as STS reported it. */
  assumedRoleArn?: string;
  expiration: Date;
  /** The OIDC token's `sub`, for CloudTrail attribution of the direct hop. */
  subject?: string;
  /** The calls made, in order: `AssumeRoleWithWebIdentity arn:…`, `AssumeRole arn:…`. */
  hops: string[];
  policy: string;
  policyArns: string[];
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const TRANSIENT = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  // STS asks callers to retry when it cannot reach the token's issuer.
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const NETWORK_IN_MESSAGE = new RegExp(`\\b(${[...NETWORK].join('|')})\\b`);

/** The network error code of an error, also when the SDK could only keep its text (errors from another realm). */
function networkCode(e: SdkErrorShape): string | undefined {
  if (typeof e.code === 'string' && NETWORK.has(e.code)) return e.code;
  const cause = e.cause as SdkErrorShape | undefined;
  if (typeof cause?.code === 'string' && NETWORK.has(cause.code)) return cause.code;
  return typeof e.message === 'string' ? NETWORK_IN_MESSAGE.exec(e.message)?.[1] : undefined;
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

/** Whether an STS error is worth retrying: throttling, 5xx, timeouts and network errors only. */
export function isRetryableStsError(error: unknown): boolean {
  if (error instanceof CredentialError || typeof error !== 'object' || error === null) return false;
  const e = error as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (THROTTLING.has(name) || THROTTLING.has(code) || e.$retryable?.throttling === true) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  // Only SDK-level errors without an HTTP status can be network failures (a 4xx never is).
  return TRANSIENT.has(name) || (status === undefined && networkCode(e) !== undefined);
}

/** An SDK error as plain data for messages. */
function failureOf(error: unknown): StsFailure {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) };
  const e = error as SdkErrorShape;
  const code = typeof e.code === 'string' ? e.code : networkCode(e);
  let name = typeof e.name === 'string' ? e.name : 'Error';
  if ((name === 'Error' || name === 'TypeError') && code) name = code;
  const text = typeof e.message === 'string' && e.message !== '' ? e.message : name;
  const message = text.replace(/^AWS SDK error wrapper for (?:Error: )?/, '');
  const status = e.$metadata?.httpStatusCode;
  const failure: StsFailure = status === undefined ? { name, message } : { name, message, status };
  if (THROTTLING.has(name) || e.$retryable?.throttling === true) failure.throttling = true;
  return failure;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function maskerFor(options: StsOptions): (secret: string) => void {
  if (options.mask) return options.mask;
  return options.source.kind === 'github-oidc' ? (s: string) => core.setSecret(s) : () => undefined;
}

/** Picks the first hop: GitHub OIDC inside GitHub Actions (`GITHUB_ACTIONS=true`), else the ambient chain. */
export function defaultCredentialSource(
  env: Record<string, string | undefined> = process.env,
  audience = 'sts.amazonaws.com',
): CredentialSource {
  return env.GITHUB_ACTIONS === 'true'
    ? { kind: 'github-oidc', token: githubOidcSource(audience) }
    : { kind: 'ambient' };
}

function callerOf(c: CallerCredentials): CallerCredentials {
  return c.sessionToken === undefined
    ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
    : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
}

async function resolveAmbient(options: StsOptions, mask: (s: string) => void): Promise<CallerCredentials> {
  const source = options.source;
  const provider: AmbientProvider =
    (source.kind === 'ambient' && source.credentials) || fromNodeProviderChain();
  let creds: CallerCredentials;
  try {
    creds = await provider();
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new CredentialError(
      'no-ambient-credentials',
      `no ambient AWS credentials for the first hop (${detail}). Outside GitHub Actions site-deploy starts from ` +
        'the AWS default credential chain: set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ' +
        '(for modules that need no AWS, like the offline example, pass --credentials none).',
      { cause: e },
    );
  }
  mask(creds.secretAccessKey);
  if (creds.sessionToken) mask(creds.sessionToken);
  return creds;
}

function checkMfa(target: CredentialTarget, identity: StepIdentity, claims: OidcClaims | undefined): void {
  if (!target.requireMfa) return;
  if (!claims) {
    throw new CredentialError(
      'mfa-required',
      `environment ${target.environment} has require_mfa: true, which needs proof of human approval — a GitHub OIDC ` +
        `token from a job in a protected GitHub environment. Ambient credentials (the CLI) cannot give it; deploy ` +
        `module "${identity.module}" from GitHub Actions.`,
    );
  }
  if (!claims.environment) {
    throw new CredentialError(
      'mfa-required',
      `environment ${target.environment} has require_mfa: true, but the GitHub OIDC token (sub "${claims.sub ?? '(unknown)'}") ` +
        `names no GitHub environment. Run the job with \`environment: ${target.environment}\` and give that ` +
        'environment required reviewers.',
    );
  }
}

function toStepCredentials(
  c: Credentials | undefined,
  hop: PlannedHop,
  mask: (s: string) => void,
): StepCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    // Mask whatever did arrive before saying anything.
    for (const s of [c?.AccessKeyId, c?.SecretAccessKey, c?.SessionToken]) if (s) mask(s);
    throw new CredentialError('sts-failed', `STS answered ${hop.roleArn} without complete credentials`);
  }
  mask(c.AccessKeyId);
  mask(c.SecretAccessKey);
  mask(c.SessionToken);
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

async function ambientPrincipal(region: string, caller: CallerCredentials): Promise<string | undefined> {
  const client = new STSClient({ region, credentials: callerOf(caller), maxAttempts: 1 });
  try {
    return (await client.send(new GetCallerIdentityCommand({}))).Arn;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

/** Where a step's chain starts: its plan, and the OIDC token or the ambient credentials it signs with. */
interface ChainStart {
  plan: ChainPlan;
  caller?: CallerCredentials;
  token?: string;
  claims?: OidcClaims;
}

async function chainStart(
  target: CredentialTarget,
  identity: StepIdentity,
  options: StsOptions,
  mask: (secret: string) => void,
): Promise<ChainStart | undefined> {
  const source = options.source;
  // Everything STS would refuse is found here, before a token is minted or a call is made.
  const plan = planChain(target, identity, {
    kind: source.kind === 'github-oidc' ? 'web-identity' : 'ambient',
  });
  if (!plan) return undefined;
  if (source.kind === 'github-oidc') {
    const { token, claims } = await source.token();
    return { plan, token, claims };
  }
  checkMfa(target, identity, undefined);
  const caller = await resolveAmbient(options, mask);
  // Assuming a role from role credentials is role chaining: STS caps it at one hour.
  const chained = caller.sessionToken
    ? planChain(target, identity, { kind: 'ambient', ambientIsSession: true })
    : undefined;
  return { plan: chained ?? plan, caller };
}

/** `require_mfa`: a human approval of this run, read back; fails closed without a way to read it. */
async function checkApproval(
  target: CredentialTarget,
  identity: StepIdentity,
  claims: OidcClaims | undefined,
  options: StsOptions,
): Promise<void> {
  checkMfa(target, identity, claims);
  if (!target.requireMfa) return;
  // Fail closed: without a way to read the run's approval back, an environment claim is not proof enough.
  const verdict =
    options.approval && claims
      ? await options.approval({ claims, target, identity })
      : {
          approved: false,
          detail: 'no approval read-back is configured (the action needs a github-token with actions: read)',
        };
  if (!verdict.approved) {
    throw new CredentialError(
      'approval-missing',
      `environment ${target.environment} has require_mfa: true, and no human approval of this run could be read back: ${verdict.detail}`,
    );
  }
}

/** What a hop's failure message needs to say where the chain broke. */
function hopContext(
  hop: ChainPlan['hops'][number],
  plan: ChainPlan,
  target: CredentialTarget,
  identity: StepIdentity,
  claims: OidcClaims | undefined,
): HopContext {
  const ctx: HopContext = {
    call: hop.kind,
    from: hop.kind === 'web-identity' ? 'oidc' : hop.from === 'ambient' ? 'ambient' : 'via',
    roleArn: hop.roleArn,
    ...(target.via !== undefined && hop.roleArn !== target.via ? { viaArn: target.via } : {}),
    region: target.region,
    site: identity.site,
    environment: identity.environment,
    module: identity.module,
    sessionName: plan.sessionName,
    durationSeconds: hop.params.DurationSeconds,
    externalId: hop.kind === 'assume-role' && hop.params.ExternalId !== undefined,
  };
  if (claims) {
    ctx.token = {};
    if (claims.sub) ctx.token.sub = claims.sub;
    if (claims.aud) ctx.token.aud = claims.aud;
    if (claims.repository) ctx.token.repository = claims.repository;
    if (claims.environment) ctx.token.environment = claims.environment;
  }
  return ctx;
}

/** The OIDC token a web-identity hop sends: minted in chainStart for every OIDC chain. */
function tokenOf(start: ChainStart): string {
  if (start.token === undefined) throw new Error('internal: a web-identity hop without an OIDC token');
  return start.token;
}

/** One hop of the chain, retried within bounds; its failure explained with the hop's context. */
async function runHop(
  hop: ChainPlan['hops'][number],
  ctx: HopContext,
  start: ChainStart,
  signer: CallerCredentials | undefined,
  options: StsOptions,
  mask: (secret: string) => void,
): Promise<{ credentials: StepCredentials; assumedRoleArn?: string; label: string }> {
  const log = options.log ?? (() => undefined);
  const client = new STSClient({
    region: ctx.region,
    // Our own bounded, jittered retry loop is the only one (an injectable sleep keeps tests instant).
    maxAttempts: 1,
    ...(hop.kind === 'assume-role' && signer ? { credentials: callerOf(signer) } : {}),
  });
  const label = `${hop.kind === 'web-identity' ? 'AssumeRoleWithWebIdentity' : 'AssumeRole'} ${hop.roleArn}`;
  log(`sts: ${label} as ${hop.params.RoleSessionName} for ${hop.params.DurationSeconds} s`);
  const attempts = options.maxAttempts ?? 5;
  try {
    const out = await withRetry(
      () =>
        hop.kind === 'web-identity'
          ? client.send(
              new AssumeRoleWithWebIdentityCommand({ ...hop.params, WebIdentityToken: tokenOf(start) }),
            )
          : client.send(new AssumeRoleCommand(hop.params)),
      {
        attempts,
        baseMs: options.baseDelayMs ?? 300,
        maxMs: options.maxDelayMs ?? 5000,
        sleep: options.sleep ?? defaultSleep,
        random: options.random ?? Math.random,
        isRetryable: isRetryableStsError,
        onRetry: (e, attempt, delay) =>
          log(`sts: ${label}: ${failureOf(e).name}; retry ${attempt + 1}/${attempts} in ${delay} ms`),
      },
    );
    return {
      credentials: toStepCredentials(out.Credentials, hop, mask),
      assumedRoleArn: out.AssumedRoleUser?.Arn,
      label,
    };
  } catch (e) {
    if (e instanceof CredentialError) throw e;
    if (e instanceof RetriesExhaustedError)
      throw stsUnavailable(failureOf(e.cause), ctx, e.attempts, e.cause);
    const failure = failureOf(e);
    if (ctx.from === 'ambient' && /^AccessDenied/.test(failure.name) && start.caller) {
      const who = await ambientPrincipal(ctx.region, start.caller);
      if (who) ctx.ambientPrincipal = who;
    }
    throw stsFailure(failure, ctx, e);
  } finally {
    client.destroy();
  }
}

/**
 * Makes one step's session: mints a fresh OIDC token (or reads ambient credentials), checks
 * `require_mfa`, then runs each planned hop. Undefined when the step needs no AWS session.
 * Uncached — use SessionBroker to reuse a module's session across its plan, apply and state reads.
 */
export async function assumeStepSession(
  target: CredentialTarget,
  identity: StepIdentity,
  options: StsOptions,
): Promise<StepSession | undefined> {
  const mask = maskerFor(options);
  const start = await chainStart(target, identity, options, mask);
  if (!start) return undefined;
  const { plan, claims } = start;
  await checkApproval(target, identity, claims, options);

  const hops: string[] = [];
  let assumedRoleArn: string | undefined;
  let current: StepCredentials | undefined;
  for (const hop of plan.hops) {
    const ctx = hopContext(hop, plan, target, identity, claims);
    const done = await runHop(hop, ctx, start, current ?? start.caller, options, mask);
    current = done.credentials;
    assumedRoleArn = done.assumedRoleArn;
    hops.push(done.label);
  }
  // planChain plans at least one hop whenever it plans a chain.
  if (!current) throw new Error(`internal: no STS hop was planned for module "${identity.module}"`);
  return sessionOf(plan, current, hops, assumedRoleArn, target, identity, claims);
}

/** The step's session from the chain's last hop, checked to be in the environment's account. */
function sessionOf(
  plan: ChainPlan,
  credentials: StepCredentials,
  hops: string[],
  assumedRoleArn: string | undefined,
  target: CredentialTarget,
  identity: StepIdentity,
  claims: OidcClaims | undefined,
): StepSession {
  const accountOfSession = assumedRoleArn ? /^arn:[^:]+:sts::(\d{12}):/.exec(assumedRoleArn)?.[1] : undefined;
  if (accountOfSession !== undefined && accountOfSession !== target.account) {
    throw new CredentialError(
      'account-mismatch',
      `the session for module "${identity.module}" is in account ${accountOfSession}, not aws_account ` +
        `${target.account} of environment ${target.environment} (${assumedRoleArn})`,
    );
  }
  if (accountOfSession !== undefined) credentials.accountId = accountOfSession;
  const session: StepSession = {
    key: plan.key,
    credentials,
    sessionName: plan.sessionName,
    roleArn: plan.roleArn,
    expiration: credentials.expiration,
    hops,
    policy: plan.policy,
    policyArns: plan.policyArns,
  };
  if (assumedRoleArn) session.assumedRoleArn = assumedRoleArn;
  if (claims?.sub) session.subject = claims.sub;
  return session;
}

/** What a credential consumer asks for: credentials valid at least this much longer. */
export interface CredentialNeed {
  minRemainingMs: number;
}

/** Returns credentials valid at least `need.minRemainingMs` longer, re-assuming when needed. */
export type CredentialProvider = (need: CredentialNeed) => Promise<StepCredentials>;

/**
 * Caches one session per module step (role, session policy, purpose and module): made once, reused
 * by the module's plan, apply and state reads, re-made (with a fresh OIDC token) only near expiry.
 * Concurrent requests for the same key wait for one STS chain.
 */
export class SessionBroker {
  private readonly cache = new Map<string, Promise<StepSession>>();
  private readonly options: StsOptions;

  constructor(options: StsOptions) {
    this.options = options;
  }

  /** Number of distinct sessions cached. */
  get size(): number {
    return this.cache.size;
  }

  /** The step's session — cached unless it expires within `minRemainingMs` (default `refreshBeforeMs`). */
  async get(
    target: CredentialTarget,
    identity: StepIdentity,
    need: Partial<CredentialNeed> = {},
  ): Promise<StepSession | undefined> {
    const plan = planChain(target, identity, {
      kind: this.options.source.kind === 'github-oidc' ? 'web-identity' : 'ambient',
    });
    if (!plan) return undefined;
    const now = this.options.now ?? Date.now;
    const threshold = need.minRemainingMs ?? this.options.refreshBeforeMs ?? 5 * 60_000;
    const entry = this.cache.get(plan.key);
    if (entry) {
      const session = await entry; // a shared failure reaches every waiter
      if (session.expiration.getTime() - now() > threshold) return session;
      const latest = this.cache.get(plan.key);
      // Someone else started the refresh while we waited: join it rather than assuming twice.
      if (latest && latest !== entry) return latest;
    }
    const made = assumeStepSession(target, identity, this.options).then((s) => s!);
    this.cache.set(plan.key, made);
    made.catch(() => {
      if (this.cache.get(plan.key) === made) this.cache.delete(plan.key);
    });
    return made;
  }

  /** A provider for the credential server of one step. */
  provider(target: CredentialTarget, identity: StepIdentity): CredentialProvider {
    return async (need) => {
      const session = await this.get(target, identity, need);
      if (!session) {
        throw new CredentialError(
          'sts-failed',
          `module "${identity.module}" needs no AWS session (no services, local state); start no credential server for it`,
          { kind: 'internal' },
        );
      }
      return session.credentials;
    };
  }

  /** Forgets every cached session. */
  clear(): void {
    this.cache.clear();
  }
}
