import type { ErrorCode } from '../errors.js';

/**
 * Stable codes of credential failures; checks and docs may rely on them.
 * Codes up to `invalid-token-shape` are found locally before any STS call (bad input, exit 2);
 * the rest come from STS, the OIDC issuer or the approval check (a failed step, exit 1).
 */
export type CredentialErrorCode =
  | 'invalid-region'
  | 'invalid-arn'
  | 'arn-partition'
  | 'arn-account'
  | 'invalid-service'
  | 'invalid-session-name'
  | 'invalid-policy'
  | 'policy-too-large'
  | 'too-many-policy-arns'
  | 'too-many-tags'
  | 'invalid-tag'
  | 'invalid-source-identity'
  | 'invalid-external-id'
  | 'invalid-duration'
  | 'invalid-token-shape'
  | 'oidc-unavailable'
  | 'no-ambient-credentials'
  | 'invalid-identity-token'
  | 'expired-token'
  | 'access-denied'
  | 'idp-rejected'
  | 'mfa-required'
  | 'approval-missing'
  | 'account-mismatch'
  | 'duration-exceeds-role-max'
  | 'packed-policy-too-large'
  | 'region-disabled'
  | 'sts-unavailable'
  | 'sts-failed';

const LOCAL_CODES: ReadonlySet<CredentialErrorCode> = new Set<CredentialErrorCode>([
  'invalid-region',
  'invalid-arn',
  'arn-partition',
  'arn-account',
  'invalid-service',
  'invalid-session-name',
  'invalid-policy',
  'policy-too-large',
  'too-many-policy-arns',
  'too-many-tags',
  'invalid-tag',
  'invalid-source-identity',
  'invalid-external-id',
  'invalid-duration',
  'invalid-token-shape',
]);

/** A credential failure with a stable `code` and a message meant for the user (never holds a secret). */
export class CredentialError extends Error {
  /** Stable machine-readable reason. */
  readonly code: CredentialErrorCode;
  /** How the CLI/Action maps it: `bad-input` (exit 2) for config problems found locally, else `step-failed`. */
  readonly kind: ErrorCode;

  constructor(
    code: CredentialErrorCode,
    message: string,
    options: { cause?: unknown; kind?: ErrorCode } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CredentialError';
    this.code = code;
    this.kind = options.kind ?? (LOCAL_CODES.has(code) ? 'bad-input' : 'step-failed');
  }
}
