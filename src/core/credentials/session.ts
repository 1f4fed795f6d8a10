/**
 * Pure building blocks of a module step's AWS session: partitions and ARNs, session names, tags,
 * the inline session policy, and the exact STS request of every hop — each checked against
 * STS's documented limits before any call (moto checks none of them).
 */
import { CredentialError } from './errors.js';

/** Re-exported so callers of the session builders need one import. */
export { CredentialError, type CredentialErrorCode } from './errors.js';

/** One environment's AWS identity (credentials.yaml), as the config loader produces it. */
export interface CredentialTarget {
  environment: string;
  account: string;
  role: string;
  planRole?: string;
  via?: string;
  region: string;
  /** Seconds; default 3600. */
  sessionDuration: number;
  boundaryPolicy?: string;
  allowedServices?: string[];
  requireMfa: boolean;
  externalId?: string;
}

/** Who a module step is, for its session name, policy and tags. */
export interface StepIdentity {
  site: string;
  environment: string;
  module: string;
  /** The catalog's `services` of the module type. */
  services: string[];
  /** S3 state: the session may touch only this object and its `.tflock`. */
  stateObject?: { bucket: string; key: string };
  /** The evidence bucket: the session may write and read back records under this prefix only. */
  evidencePrefix?: { bucket: string; prefix: string };
  repository?: string;
  runId?: string;
  actor?: string;
  purpose: 'plan' | 'apply';
}

/** AWS partitions site-deploy deploys to. */
export type Partition = 'aws' | 'aws-us-gov' | 'aws-cn';

/** A session tag as STS takes it. */
export interface StsTag {
  Key: string;
  Value: string;
}

/** The exact `AssumeRoleWithWebIdentity` request (no tags, no source identity: STS refuses them there). */
export interface WebIdentityParams {
  RoleArn: string;
  RoleSessionName: string;
  WebIdentityToken: string;
  DurationSeconds: number;
  Policy?: string;
  PolicyArns?: { arn: string }[];
}

/** The exact `AssumeRole` request of a chained or ambient hop. */
export interface AssumeRoleParams {
  RoleArn: string;
  RoleSessionName: string;
  DurationSeconds: number;
  Policy?: string;
  PolicyArns?: { arn: string }[];
  SourceIdentity?: string;
  Tags?: StsTag[];
  ExternalId?: string;
}

/** STS limits this module enforces (documented in the STS API reference). */
export const STS_LIMITS = {
  minDuration: 900,
  maxDuration: 43_200,
  maxChainedDuration: 3600,
  sessionNameMax: 64,
  sourceIdentityMin: 2,
  sourceIdentityMax: 64,
  policyMax: 2048,
  policyArnsMax: 10,
  tagsMax: 50,
  tagKeyMax: 128,
  tagValueMax: 256,
  externalIdMin: 2,
  externalIdMax: 1224,
  webIdentityTokenMin: 4,
  webIdentityTokenMax: 20_000,
} as const;

const NAME_CHARS = /^[\w+=,.@-]*$/;
const NOT_NAME_CHAR = /[^\w+=,.@-]/gu;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const NOT_TAG_CHAR = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;
const EXTERNAL_ID_CHARS = /^[\w+=,.@:/-]*$/;
// Policy documents: tab, LF, CR and U+0020–U+00FF only.
const POLICY_CHARS = /^[\t\n\r\u0020-\u00FF]*$/;
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
const SERVICE = /^[a-z0-9][a-z0-9-]*$/;
// arn:partition:service:region:account:resource
const ARN = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.+)$/;
// IAM paths are "/" or "/segment/…/" of U+0021–U+007E; names use the STS name charset.
const ROLE_RESOURCE = /^role(\/(?:[\x21-\x7E]*\/)?)([\w+=,.@-]{1,64})$/;
const POLICY_RESOURCE = /^policy(\/(?:[\x21-\x7E]*\/)?)([\w+=,.@-]{1,128})$/;

/** Where a field sits in credentials.yaml, for messages: `credentials.production.plan_role`. */
function field(env: string, name: string): string {
  return `credentials.${env}.${name}`;
}

/** The partition of a region: `aws-us-gov` for us-gov-*, `aws-cn` for cn-*, else `aws`. */
export function partitionOf(region: string): Partition {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/** Throws `invalid-region` unless the region looks like an AWS region name (`us-east-1`). */
export function checkRegion(region: string): void {
  if (!REGION.test(region)) {
    throw new CredentialError(
      'invalid-region',
      `"${region}" is not an AWS region name (expected something like us-east-1, us-gov-west-1 or cn-north-1)`,
    );
  }
}

/** The regional STS host of a region, e.g. `sts.cn-north-1.amazonaws.com.cn`. */
export function stsEndpointHost(region: string): string {
  checkRegion(region);
  return partitionOf(region) === 'aws-cn' ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/** The parts of an ARN, or undefined when the text is not shaped like one. */
export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits an ARN into its parts without judging them; undefined when it is not `arn:…:…:…:…:…`. */
export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, service: m[2]!, region: m[3]!, account: m[4]!, resource: m[5]! };
}

function checkPartition(arn: string, parsed: ParsedArn, region: string, label: string): void {
  const expected = partitionOf(region);
  if (parsed.partition !== expected) {
    throw new CredentialError(
      'arn-partition',
      `${label}: ${arn} is in partition "${parsed.partition}", but region ${region} is in "${expected}" — ` +
        `use arn:${expected}:${parsed.service}::${parsed.account}:${parsed.resource}`,
    );
  }
}

/**
 * Checks an IAM role ARN's shape, and that its partition is the region's; `label` names the field
 * (`credentials.production.role`). Throws `invalid-arn` or `arn-partition`.
 */
export function checkRoleArn(arn: string, region: string, label: string): ParsedArn {
  const parsed = parseArn(arn);
  const p = partitionOf(region);
  if (
    !parsed ||
    parsed.service !== 'iam' ||
    parsed.region !== '' ||
    !/^\d{12}$/.test(parsed.account) ||
    !ROLE_RESOURCE.test(parsed.resource) ||
    arn.length > 2048
  ) {
    throw new CredentialError(
      'invalid-arn',
      `${label}: "${arn}" is not an IAM role ARN — expected arn:${p}:iam::<12-digit account>:role/<name>`,
    );
  }
  checkPartition(arn, parsed, region, label);
  return parsed;
}

/** Checks a managed policy ARN (account digits, or `aws` for AWS-managed) and its partition. */
export function checkPolicyArn(arn: string, region: string, label: string): ParsedArn {
  const parsed = parseArn(arn);
  const p = partitionOf(region);
  if (
    !parsed ||
    parsed.service !== 'iam' ||
    parsed.region !== '' ||
    !/^(?:\d{12}|aws)$/.test(parsed.account) ||
    !POLICY_RESOURCE.test(parsed.resource) ||
    arn.length < 20 ||
    arn.length > 2048
  ) {
    throw new CredentialError(
      'invalid-arn',
      `${label}: "${arn}" is not an IAM policy ARN — expected arn:${p}:iam::<12-digit account>:policy/<name>`,
    );
  }
  checkPartition(arn, parsed, region, label);
  return parsed;
}

/** 32-bit FNV-1a as 8 hex digits: a short stable suffix that keeps truncated names distinct. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    // Hash every byte-ish unit of the code point so non-ASCII names differ too.
    for (let v = cp; ; v >>>= 8) {
      h ^= v & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
      if (v < 0x100) break;
    }
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * `sd-<site>-<env>-<module>` in STS's session-name charset `[\w+=,.@-]`, at most 64 characters.
 * A name that had to be changed (bad characters, or too long) ends in `-<8 hex>` of the original, so
 * two different modules never share a name.
 */
export function sessionName(site: string, env: string, module: string): string {
  const raw = `sd-${site}-${env}-${module}`;
  if (raw.length <= STS_LIMITS.sessionNameMax && NAME_CHARS.test(raw)) return raw;
  const clean = raw.replace(NOT_NAME_CHAR, '_');
  const suffix = `-${shortHash(`${site}\u0000${env}\u0000${module}`)}`;
  return clean.slice(0, STS_LIMITS.sessionNameMax - suffix.length) + suffix;
}

/** Cuts a string to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

/** A session tag value in STS's charset `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (others become `_`), at most 256. */
export function sanitizeTagValue(value: string): string {
  return cut(value.replace(NOT_TAG_CHAR, '_'), STS_LIMITS.tagValueMax);
}

/**
 * The `SourceIdentity` for a GitHub actor: charset `[\w+=,.@-]` (others become `_`, so
 * `dependabot[bot]` → `dependabot_bot_`), 2–64 characters (a one-letter login is padded with `_`).
 * Undefined when there is no actor. The `aws:` prefix STS forbids cannot survive: `:` is replaced.
 */
export function sourceIdentity(actor: string | undefined): string | undefined {
  if (!actor) return undefined;
  const clean = actor.replace(NOT_NAME_CHAR, '_').slice(0, STS_LIMITS.sourceIdentityMax);
  return clean.padEnd(STS_LIMITS.sourceIdentityMin, '_');
}

/** The session tags of an AssumeRole hop: Site, Environment, Module, Repository, RunId (when known). */
export function sessionTags(identity: StepIdentity): StsTag[] {
  const tags: StsTag[] = [
    { Key: 'Site', Value: sanitizeTagValue(identity.site) },
    { Key: 'Environment', Value: sanitizeTagValue(identity.environment) },
    { Key: 'Module', Value: sanitizeTagValue(identity.module) },
  ];
  if (identity.repository) tags.push({ Key: 'Repository', Value: sanitizeTagValue(identity.repository) });
  if (identity.runId) tags.push({ Key: 'RunId', Value: sanitizeTagValue(identity.runId) });
  return tags;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Characters that would act as wildcards or policy variables inside an IAM `Resource`. */
const RESOURCE_META = /[*?]|\$\{/;

/**
 * The minified inline session policy of one module step: `<service>:*` for the module's services
 * that are also in `allowed_services` (all of them when that list is absent), sorted; with S3 state,
 * Get/Put/DeleteObject on the state object and its `.tflock`, and ListBucket limited by `s3:prefix`.
 * Undefined when the step needs no AWS session at all. Throws `policy-too-large` over 2048 characters.
 */
export function sessionPolicy(
  identity: StepIdentity,
  allowedServices: string[] | undefined,
  partition: Partition,
): string | undefined {
  for (const s of identity.services) {
    if (!SERVICE.test(s)) {
      throw new CredentialError(
        'invalid-service',
        `module "${identity.module}": service "${s}" is not an IAM service prefix ` +
          `(lowercase letters, digits and hyphens, like "ec2" or "execute-api")`,
      );
    }
  }
  const allowed = allowedServices ? new Set(allowedServices) : undefined;
  const services = [...new Set(identity.services)]
    .filter((s) => !allowed || allowed.has(s))
    .sort(byCodePoint);
  const statements: Record<string, unknown>[] = [];
  if (services.length > 0) {
    statements.push({ Effect: 'Allow', Action: services.map((s) => `${s}:*`), Resource: '*' });
  }
  const state = identity.stateObject;
  if (state) {
    if (RESOURCE_META.test(state.bucket) || RESOURCE_META.test(state.key)) {
      throw new CredentialError(
        'invalid-policy',
        `module "${identity.module}": state bucket/key "${state.bucket}/${state.key}" contains "*", "?" or "\${", ` +
          `which IAM would read as a wildcard or a policy variable — rename the key`,
      );
    }
    const object = `arn:${partition}:s3:::${state.bucket}/${state.key}`;
    statements.push({
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      Resource: [object, `${object}.tflock`],
    });
    // Terraform (1.11, verified on moto) lists `prefix=env:/` — its workspace listing — on init,
    // plan and apply; a ListBucket without that prefix makes `init` fail.
    statements.push({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:${partition}:s3:::${state.bucket}`,
      Condition: { StringEquals: { 's3:prefix': ['env:/', state.key] } },
    });
  }
  const evidence = identity.evidencePrefix;
  if (evidence) {
    if (RESOURCE_META.test(evidence.bucket) || RESOURCE_META.test(evidence.prefix)) {
      throw new CredentialError(
        'invalid-policy',
        `evidence bucket/prefix "${evidence.bucket}/${evidence.prefix}" contains "*", "?" or "\${", ` +
          'which IAM would read as a wildcard or a policy variable',
      );
    }
    // PutObject to write (If-None-Match: never over another), GetObject to read back one already there.
    statements.push({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: `arn:${partition}:s3:::${evidence.bucket}/${evidence.prefix}*`,
    });
  }
  if (statements.length === 0) return undefined;
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  checkPolicy(policy, `module "${identity.module}"`);
  return policy;
}

/**
 * The inline policy of the web-identity hop into a `via` hub role: that session may only assume
 * the target role (with the tags and source identity the next hop sends).
 */
export function viaPolicy(roleArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
        Resource: roleArn,
      },
    ],
  });
}

/** Throws `policy-too-large` (naming `owner` and the size) or `invalid-policy` when STS would refuse the policy text. */
export function checkPolicy(policy: string, owner: string): void {
  if (policy.length > STS_LIMITS.policyMax) {
    throw new CredentialError(
      'policy-too-large',
      `${owner}: the inline session policy is ${policy.length} characters after minification; ` +
        `STS allows at most ${STS_LIMITS.policyMax} — give the module fewer services or split it`,
    );
  }
  if (policy.length === 0 || !POLICY_CHARS.test(policy)) {
    throw new CredentialError(
      'invalid-policy',
      `${owner}: the inline session policy holds characters STS does not accept (only tab, LF, CR and U+0020–U+00FF)`,
    );
  }
}

/**
 * Session duration STS will accept: 900–43200 s, at most 3600 s for a chained session
 * (AssumeRole with role credentials). Throws `invalid-duration` for a non-number.
 */
export function clampDuration(seconds: number, chained: boolean): number {
  if (!Number.isFinite(seconds)) {
    throw new CredentialError(
      'invalid-duration',
      `session_duration must be a number of seconds, not ${seconds}`,
    );
  }
  const max = chained ? STS_LIMITS.maxChainedDuration : STS_LIMITS.maxDuration;
  return Math.min(max, Math.max(STS_LIMITS.minDuration, Math.floor(seconds)));
}

function checkSessionName(name: string): void {
  if (name.length < 2 || name.length > STS_LIMITS.sessionNameMax || !NAME_CHARS.test(name)) {
    throw new CredentialError(
      'invalid-session-name',
      `session name "${name}" must be 2–64 characters of [A-Za-z0-9_+=,.@-] (it is ${name.length})`,
    );
  }
}

function checkDuration(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < STS_LIMITS.minDuration || seconds > STS_LIMITS.maxDuration) {
    throw new CredentialError(
      'invalid-duration',
      `DurationSeconds ${seconds} is outside STS's 900–43200 range`,
    );
  }
}

function checkPolicyArns(arns: string[]): void {
  if (arns.length > STS_LIMITS.policyArnsMax) {
    throw new CredentialError(
      'too-many-policy-arns',
      `${arns.length} managed session policies (PolicyArns); STS allows at most ${STS_LIMITS.policyArnsMax}`,
    );
  }
}

/** Throws `too-many-tags` or `invalid-tag` when STS would refuse the session tags. */
export function checkTags(tags: StsTag[]): void {
  if (tags.length > STS_LIMITS.tagsMax) {
    throw new CredentialError(
      'too-many-tags',
      `${tags.length} session tags; STS allows at most ${STS_LIMITS.tagsMax}`,
    );
  }
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.Key.length < 1 || t.Key.length > STS_LIMITS.tagKeyMax || !TAG_CHARS.test(t.Key)) {
      throw new CredentialError(
        'invalid-tag',
        `session tag key "${t.Key}" must be 1–${STS_LIMITS.tagKeyMax} characters of letters, digits, spaces and _.:/=+-@`,
      );
    }
    if (t.Value.length > STS_LIMITS.tagValueMax || !TAG_CHARS.test(t.Value)) {
      throw new CredentialError(
        'invalid-tag',
        `session tag ${t.Key}: the value must be at most ${STS_LIMITS.tagValueMax} characters of letters, digits, ` +
          `spaces and _.:/=+-@ (it is ${t.Value.length})`,
      );
    }
    const lower = t.Key.toLowerCase();
    if (seen.has(lower)) {
      throw new CredentialError(
        'invalid-tag',
        `session tag key "${t.Key}" appears twice (keys are case-insensitive)`,
      );
    }
    seen.add(lower);
  }
}

/** Throws `invalid-source-identity` unless the value is 2–64 of `[\w+=,.@-]` and does not start with `aws:`. */
export function checkSourceIdentity(value: string): void {
  if (
    value.length < STS_LIMITS.sourceIdentityMin ||
    value.length > STS_LIMITS.sourceIdentityMax ||
    !NAME_CHARS.test(value) ||
    /^aws:/i.test(value)
  ) {
    throw new CredentialError(
      'invalid-source-identity',
      `source identity "${value}" must be 2–64 characters of [A-Za-z0-9_+=,.@-] and must not start with "aws:"`,
    );
  }
}

/** Throws `invalid-external-id` unless the value is 2–1224 of `[\w+=,.@:/-]`. */
export function checkExternalId(value: string, env: string): void {
  if (
    value.length < STS_LIMITS.externalIdMin ||
    value.length > STS_LIMITS.externalIdMax ||
    !EXTERNAL_ID_CHARS.test(value)
  ) {
    throw new CredentialError(
      'invalid-external-id',
      `${field(env, 'external_id')} must be 2–1224 characters of [A-Za-z0-9_+=,.@:/-]`,
    );
  }
}

/** What every hop takes; the builders check each part against STS's limits. */
export interface HopInput {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  policy?: string;
  policyArns?: string[];
}

/** The exact `AssumeRoleWithWebIdentity` request for a hop; throws before STS would refuse it. */
export function webIdentityParams(input: HopInput & { token: string }): WebIdentityParams {
  checkSessionName(input.sessionName);
  checkDuration(input.durationSeconds);
  if (
    input.token.length < STS_LIMITS.webIdentityTokenMin ||
    input.token.length > STS_LIMITS.webIdentityTokenMax
  ) {
    throw new CredentialError(
      'invalid-token-shape',
      `the OIDC token is ${input.token.length} characters; STS takes 4–20000`,
    );
  }
  const params: WebIdentityParams = {
    RoleArn: input.roleArn,
    RoleSessionName: input.sessionName,
    WebIdentityToken: input.token,
    DurationSeconds: input.durationSeconds,
  };
  if (input.policy !== undefined) {
    checkPolicy(input.policy, `session ${input.sessionName}`);
    params.Policy = input.policy;
  }
  if (input.policyArns && input.policyArns.length > 0) {
    checkPolicyArns(input.policyArns);
    params.PolicyArns = input.policyArns.map((arn) => ({ arn }));
  }
  return params;
}

/** The exact `AssumeRole` request for a hop (with source identity, tags, external id when given). */
export function assumeRoleParams(
  input: HopInput & { sourceIdentity?: string; tags?: StsTag[]; externalId?: string },
): AssumeRoleParams {
  checkSessionName(input.sessionName);
  checkDuration(input.durationSeconds);
  const params: AssumeRoleParams = {
    RoleArn: input.roleArn,
    RoleSessionName: input.sessionName,
    DurationSeconds: input.durationSeconds,
  };
  if (input.policy !== undefined) {
    checkPolicy(input.policy, `session ${input.sessionName}`);
    params.Policy = input.policy;
  }
  if (input.policyArns && input.policyArns.length > 0) {
    checkPolicyArns(input.policyArns);
    params.PolicyArns = input.policyArns.map((arn) => ({ arn }));
  }
  if (input.sourceIdentity !== undefined) {
    checkSourceIdentity(input.sourceIdentity);
    params.SourceIdentity = input.sourceIdentity;
  }
  if (input.tags && input.tags.length > 0) {
    checkTags(input.tags);
    params.Tags = input.tags;
  }
  if (input.externalId !== undefined) params.ExternalId = input.externalId;
  return params;
}

/** One planned hop; a web-identity hop gets its token only when it runs (tokens are minted per session). */
export type PlannedHop =
  | { kind: 'web-identity'; roleArn: string; params: Omit<WebIdentityParams, 'WebIdentityToken'> }
  | { kind: 'assume-role'; roleArn: string; from: 'ambient' | 'previous'; params: AssumeRoleParams };

/** Every hop of one module step's session, checked locally and ready to send. */
export interface ChainPlan {
  /** Cache key: steps with the same key share one session. */
  key: string;
  /** The role the step ends up in (`plan_role` for plans when set). */
  roleArn: string;
  sessionName: string;
  policy: string;
  policyArns: string[];
  /** Duration of the final hop, clamped. */
  durationSeconds: number;
  hops: PlannedHop[];
}

/** How the first hop is made: a GitHub OIDC token, or the ambient AWS credential chain (CLI). */
export interface ChainSource {
  kind: 'web-identity' | 'ambient';
  /** Ambient credentials are themselves a role session, so an AssumeRole from them is chained (1 h cap). */
  ambientIsSession?: boolean;
}

/**
 * Plans the hops of a module step: validates ARNs (shape, partition, account), the external id,
 * policy, tags, names and durations, so nothing STS would refuse is ever sent. Undefined when the
 * step needs no AWS session (`services: []`, or none allowed, and no S3 state).
 */
export function planChain(
  target: CredentialTarget,
  identity: StepIdentity,
  source: ChainSource,
): ChainPlan | undefined {
  const { roleArn, policyArns } = checkTarget(target, identity);
  const policy = sessionPolicy(identity, target.allowedServices, partitionOf(target.region));
  if (policy === undefined) return undefined;
  const name = sessionName(identity.site, identity.environment, identity.module);
  const tags = sessionTags(identity);
  checkTags(tags);
  const sourceId = sourceIdentity(identity.actor);

  const hops: PlannedHop[] = [];
  if (target.via !== undefined) hops.push(viaHop(target.via, roleArn, name, source, sourceId, tags));
  const finalChained =
    target.via !== undefined || (source.kind === 'ambient' && source.ambientIsSession === true);
  const durationSeconds = clampDuration(target.sessionDuration, finalChained);
  const finalHop = { roleArn, sessionName: name, durationSeconds, policy, policyArns };
  if (target.via === undefined && source.kind === 'web-identity') {
    hops.push({
      kind: 'web-identity',
      roleArn,
      params: omitToken(webIdentityParams({ ...finalHop, token: 'xxxx' })),
    });
  } else {
    hops.push({
      kind: 'assume-role',
      roleArn,
      from: target.via === undefined ? 'ambient' : 'previous',
      params: assumeRoleParams({
        ...finalHop,
        sourceIdentity: sourceId,
        tags,
        externalId: target.externalId,
      }),
    });
  }
  // SPEC §6: every module step gets its own session, named after it, so CloudTrail attributes
  // each call to one module; a module's plan, apply and state reads reuse it until near expiry.
  const key = JSON.stringify([
    source.kind,
    identity.purpose,
    name,
    roleArn,
    target.via ?? '',
    policy,
    policyArns,
    durationSeconds,
  ]);
  return { key, roleArn, sessionName: name, policy, policyArns, durationSeconds, hops };
}

/**
 * Checks a target's region, role ARNs (the step's role in aws_account), boundary policy and
 * external id; returns the role the step ends up in and the policy ARNs of its session.
 */
function checkTarget(
  target: CredentialTarget,
  identity: StepIdentity,
): { roleArn: string; policyArns: string[] } {
  checkRegion(target.region);
  const env = target.environment;
  const planRole = identity.purpose === 'plan' ? target.planRole : undefined;
  const roleArn = planRole ?? target.role;
  const roleLabel = field(env, planRole !== undefined ? 'plan_role' : 'role');
  const role = checkRoleArn(roleArn, target.region, roleLabel);
  if (role.account !== target.account) {
    throw new CredentialError(
      'arn-account',
      `${roleLabel}: ${roleArn} is in account ${role.account}, not aws_account ${target.account}`,
    );
  }
  if (target.via !== undefined) checkRoleArn(target.via, target.region, field(env, 'via'));
  const policyArns: string[] = [];
  if (target.boundaryPolicy !== undefined) {
    const label = field(env, 'boundary_policy');
    const p = checkPolicyArn(target.boundaryPolicy, target.region, label);
    if (p.account !== 'aws' && p.account !== target.account) {
      throw new CredentialError(
        'arn-account',
        `${label}: ${target.boundaryPolicy} is in account ${p.account}, not aws_account ${target.account}`,
      );
    }
    policyArns.push(target.boundaryPolicy);
  }
  if (target.externalId !== undefined) checkExternalId(target.externalId, env);
  return { roleArn, policyArns };
}

/** The hop into the hub role (`via`), from the OIDC token or the ambient credentials. */
function viaHop(
  via: string,
  roleArn: string,
  name: string,
  source: ChainSource,
  sourceId: string | undefined,
  tags: StsTag[],
): PlannedHop {
  // The hub session only needs to live long enough for the next call; it is re-made on refresh.
  const hop = {
    roleArn: via,
    sessionName: name,
    durationSeconds: STS_LIMITS.minDuration,
    policy: viaPolicy(roleArn),
  };
  if (source.kind === 'web-identity') {
    return {
      kind: 'web-identity',
      roleArn: via,
      params: omitToken(webIdentityParams({ ...hop, token: 'xxxx' })),
    };
  }
  return {
    kind: 'assume-role',
    roleArn: via,
    from: 'ambient',
    params: assumeRoleParams({ ...hop, sourceIdentity: sourceId, tags }),
  };
}

function omitToken(p: WebIdentityParams): Omit<WebIdentityParams, 'WebIdentityToken'> {
  const { WebIdentityToken: _token, ...rest } = p;
  return rest;
}
