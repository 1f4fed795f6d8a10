/**
 * User-facing messages for STS failures: what was refused, and the trust-policy condition or setting
 * most likely at fault. Pure: the AWS adapter hands in the error's name and message.
 */
import { CredentialError } from './errors.js';

/** The GitHub OIDC issuer's host, the prefix of its trust-policy condition keys. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/** Which call failed, on behalf of what: enough to name the role, the token and the likely fix. */
export interface HopContext {
  /** `web-identity` = AssumeRoleWithWebIdentity; `assume-role` = AssumeRole. */
  call: 'web-identity' | 'assume-role';
  /** Where this hop's caller credentials came from. */
  from: 'oidc' | 'ambient' | 'via';
  roleArn: string;
  /** The `via` hub role when the hop starts there. */
  viaArn?: string;
  region: string;
  site: string;
  environment: string;
  module: string;
  sessionName: string;
  durationSeconds: number;
  externalId: boolean;
  /** Claims of the OIDC token used in this chain (absent for ambient chains). */
  token?: { sub?: string; aud?: string; repository?: string; environment?: string };
  /** The ambient caller's ARN, when it could be read. */
  ambientPrincipal?: string;
}

/** A failed STS call as plain data: the error name (`AccessDenied`, `ThrottlingException`…) and message. */
export interface StsFailure {
  name: string;
  message: string;
  status?: number;
  /** The SDK classed the error as throttling (whatever its HTTP status). */
  throttling?: boolean;
}

/** `ExpiredTokenException` → `ExpiredToken`: STS codes appear with and without the suffix. */
export function normalizeStsCode(name: string): string {
  return name.endsWith('Exception') ? name.slice(0, -'Exception'.length) : name;
}

/** The `sub` a job running in GitHub environment `env` presents: `repo:<owner>/<repo>:environment:<env>`. */
export function expectedSubject(repository: string, env: string): string {
  return `repo:${repository}:environment:${env}`;
}

function callName(ctx: HopContext): string {
  return ctx.call === 'web-identity' ? 'AssumeRoleWithWebIdentity' : 'AssumeRole';
}

function trustPolicyHint(ctx: HopContext): string {
  return `Print the trust policy this site needs with \`site-deploy trust-policy --site ${ctx.site} --env ${ctx.environment}\`.`;
}

/** The AccessDenied message: the role, the token's `sub`, and the trust-policy condition most likely missing. */
export function accessDeniedMessage(ctx: HopContext): string {
  const sub = ctx.token?.sub ?? '(unknown)';
  const aud = ctx.token?.aud ?? 'sts.amazonaws.com';
  if (ctx.call === 'web-identity') {
    const repo = ctx.token?.repository ?? '<owner>/<repo>';
    const env = ctx.token?.environment ?? ctx.environment;
    const wanted = expectedSubject(repo, env);
    const head = `AccessDenied: STS refused AssumeRoleWithWebIdentity into ${ctx.roleArn} for the GitHub OIDC token with sub "${sub}".`;
    if (ctx.token?.environment === undefined) {
      return (
        `${head} This job's token names no GitHub environment, so a trust policy that requires ` +
        `"${GITHUB_OIDC_HOST}:sub" = "${wanted}" refuses it: run the job with \`environment: ${env}\`, ` +
        `or add a condition matching "${sub}". ${trustPolicyHint(ctx)}`
      );
    }
    return (
      `${head} The role's trust policy most likely lacks the condition "${GITHUB_OIDC_HOST}:sub" = "${wanted}" ` +
      `(with "${GITHUB_OIDC_HOST}:aud" = "${aud}" and the Federated principal ` +
      `oidc-provider/${GITHUB_OIDC_HOST} of the role's account). ${trustPolicyHint(ctx)}`
    );
  }
  const actions = 'sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity';
  const extId = ctx.externalId ? `, with the condition "sts:ExternalId" = the environment's external_id` : '';
  if (ctx.from === 'via') {
    return (
      `AccessDenied: STS refused AssumeRole from ${ctx.viaArn ?? 'the via role'} into ${ctx.roleArn} ` +
      `(GitHub OIDC token sub "${sub}"). The role's trust policy most likely lacks a statement allowing ` +
      `Principal {"AWS": "${ctx.viaArn ?? 'the via role'}"} the actions ${actions} (site-deploy sends session ` +
      `tags and a source identity)${extId}. ${trustPolicyHint(ctx)}`
    );
  }
  const who = ctx.ambientPrincipal
    ? `the ambient AWS credentials (${ctx.ambientPrincipal})`
    : 'the ambient AWS credentials';
  return (
    `AccessDenied: STS refused AssumeRole into ${ctx.roleArn} from ${who}. The role's trust policy most likely ` +
    `lacks a statement allowing that principal the actions ${actions} (site-deploy sends session tags and ` +
    `a source identity)${extId}; or the principal's own IAM policy does not allow sts:AssumeRole on the role.`
  );
}

/** The expired-token message for each kind of hop. */
export function expiredTokenMessage(ctx: HopContext): string {
  if (ctx.call === 'web-identity') {
    return (
      `ExpiredToken: the GitHub OIDC token expired before STS accepted it for ${ctx.roleArn}. ` +
      `GitHub's tokens live about 5 minutes and site-deploy mints a fresh one for every session, ` +
      `so check the runner's clock and re-run the job.`
    );
  }
  if (ctx.from === 'via') {
    return (
      `ExpiredToken: the session of ${ctx.viaArn ?? 'the via role'} expired before the AssumeRole into ` +
      `${ctx.roleArn}; re-run the job (site-deploy re-makes the whole chain on every refresh).`
    );
  }
  return (
    `ExpiredToken: the ambient AWS credentials have expired (AssumeRole into ${ctx.roleArn}). ` +
    `Refresh them — e.g. \`aws sso login\` or new keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN — and run again.`
  );
}

/** The message for STS rejecting the OIDC token itself (signature, issuer, audience, provider). */
export function invalidIdentityTokenMessage(ctx: HopContext, awsMessage: string): string {
  const account = /^arn:[^:]+:iam::(\d{12}):/.exec(ctx.roleArn)?.[1] ?? 'the role’s account';
  const aud = ctx.token?.aud ?? 'sts.amazonaws.com';
  return (
    `InvalidIdentityToken: STS rejected the GitHub OIDC token for ${ctx.roleArn}: ${awsMessage}. ` +
    `Account ${account} needs an IAM OIDC identity provider for https://${GITHUB_OIDC_HOST} ` +
    `whose audiences include "${aud}" (the action's \`audience\` input).`
  );
}

/** Turns a non-retryable (or finally failed) STS error into a CredentialError with its user message. */
export function stsFailure(failure: StsFailure, ctx: HopContext, cause?: unknown): CredentialError {
  const code = normalizeStsCode(failure.name);
  const options = { cause };
  switch (code) {
    case 'AccessDenied':
      return new CredentialError('access-denied', accessDeniedMessage(ctx), options);
    case 'ExpiredToken':
      return new CredentialError('expired-token', expiredTokenMessage(ctx), options);
    case 'InvalidIdentityToken':
      return new CredentialError(
        'invalid-identity-token',
        invalidIdentityTokenMessage(ctx, failure.message),
        options,
      );
    case 'IDPRejectedClaim':
      return new CredentialError(
        'idp-rejected',
        `IDPRejectedClaim: STS refused the GitHub OIDC token's claims for ${ctx.roleArn} (sub ` +
          `"${ctx.token?.sub ?? '(unknown)'}"): ${failure.message}. ${trustPolicyHint(ctx)}`,
        options,
      );
    case 'RegionDisabled':
      return new CredentialError(
        'region-disabled',
        `RegionDisabled: STS is not active in ${ctx.region} for the account of ${ctx.roleArn} — activate the ` +
          `region's STS endpoint in the account's IAM settings, or use another region for environment ${ctx.environment}.`,
        options,
      );
    case 'PackedPolicyTooLarge':
      return new CredentialError(
        'packed-policy-too-large',
        `PackedPolicyTooLarge: STS packs the session policy, boundary_policy and session tags of module ` +
          `"${ctx.module}" (${ctx.sessionName}) over its limit: ${failure.message} — give the module fewer services.`,
        options,
      );
    case 'ValidationError':
      if (/MaxSessionDuration/i.test(failure.message)) {
        return new CredentialError(
          'duration-exceeds-role-max',
          `${ctx.roleArn}: a ${ctx.durationSeconds} s session exceeds the role's maximum session duration — ` +
            `raise the role's MaxSessionDuration or lower credentials.${ctx.environment}.session_duration.`,
          options,
        );
      }
      break;
    default:
      break;
  }
  return new CredentialError(
    'sts-failed',
    `${callName(ctx)} into ${ctx.roleArn} (module "${ctx.module}", ${ctx.region}) failed: ${failure.name}: ${failure.message}`,
    options,
  );
}

/**
 * The error as one line for a message: `Name: text`, with the HTTP status for server errors, and the
 * status alone when the body said nothing (a proxy's HTML 502 reaches us as `Unknown: Unknown`).
 */
export function describeStsFailure(failure: StsFailure): string {
  const oneLine = (t: string): string =>
    t
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/[.\s]+$/, '');
  const vague = (t: string): boolean => t === '' || t === 'Unknown' || t === 'UnknownError' || t === 'Error';
  const name = oneLine(failure.name);
  const text = oneLine(failure.message);
  const status = failure.status !== undefined && failure.status >= 500 ? `HTTP ${failure.status}` : undefined;
  const head = vague(name) ? (status ?? (name || 'Error')) : status ? `${name} (${status})` : name;
  return vague(text) || text === name ? head : `${head}: ${text}`;
}

/** The message when throttling, 5xx or network errors outlast the retries: one line naming call, role, attempts and cause. */
export function stsUnavailable(
  failure: StsFailure,
  ctx: HopContext,
  attempts: number,
  cause?: unknown,
): CredentialError {
  const serverError = failure.throttling !== true && failure.status !== undefined && failure.status >= 500;
  const why = serverError
    ? 'STS kept answering with server errors (HTTP 5xx); re-run the job.'
    : 'STS was throttling or unreachable; re-run the job, or lower max-parallel.';
  return new CredentialError(
    'sts-unavailable',
    `${callName(ctx)} into ${ctx.roleArn} (module "${ctx.module}", ${ctx.region}) still failed after ${attempts} ` +
      `attempts: ${describeStsFailure(failure)}. ${why}`,
    { cause },
  );
}
