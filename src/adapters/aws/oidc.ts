/** GitHub OIDC tokens for the first STS hop: minted fresh per session, masked, claims decoded for messages. */
import * as core from '@actions/core';
import { CredentialError } from '../../core/credentials/errors.js';

/** The token claims site-deploy reads (unverified: STS verifies the token, these only feed messages and checks). */
export interface OidcClaims {
  sub?: string;
  aud?: string;
  /** The GitHub environment the job runs in; proof of a protected environment for `require_mfa`. */
  environment?: string;
  repository?: string;
  actor?: string;
  runId?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

/** A freshly minted OIDC token and its decoded claims. */
export interface OidcToken {
  token: string;
  claims: OidcClaims;
}

/** Mints one fresh OIDC token per call. */
export type OidcTokenSource = () => Promise<OidcToken>;

/** What the token source needs from the runner; defaults to `@actions/core`. */
export interface OidcDeps {
  getIDToken?: (audience: string) => Promise<string>;
  mask?: (secret: string) => void;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Decodes (does not verify) a JWT's claims; throws `invalid-token-shape` when it is not a JWT. */
export function decodeOidcClaims(token: string): OidcClaims {
  const parts = token.split('.');
  let payload: unknown;
  try {
    if (parts.length !== 3) throw new Error('not three parts');
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch (e) {
    throw new CredentialError(
      'invalid-token-shape',
      'the OIDC token from GitHub is not a JWT (header.payload.signature)',
      {
        cause: e,
      },
    );
  }
  if (typeof payload !== 'object' || payload === null) {
    throw new CredentialError('invalid-token-shape', 'the OIDC token from GitHub has no claims object');
  }
  const c = payload as Record<string, unknown>;
  const aud = Array.isArray(c.aud) ? str(c.aud[0]) : str(c.aud);
  const claims: OidcClaims = {};
  const set = <K extends keyof OidcClaims>(k: K, v: OidcClaims[K] | undefined): void => {
    if (v !== undefined) claims[k] = v;
  };
  set('sub', str(c.sub));
  set('aud', aud);
  set('environment', str(c.environment));
  set('repository', str(c.repository));
  set('actor', str(c.actor));
  set('runId', str(c.run_id));
  set('exp', typeof c.exp === 'number' ? c.exp : undefined);
  return claims;
}

/**
 * A token source backed by `core.getIDToken(audience)`: a new token on every call (they live about
 * five minutes), masked at once. Failures become `oidc-unavailable` with the usual fix.
 */
export function githubOidcSource(audience = 'sts.amazonaws.com', deps: OidcDeps = {}): OidcTokenSource {
  const getIDToken = deps.getIDToken ?? ((aud: string) => core.getIDToken(aud));
  const mask = deps.mask ?? ((s: string) => core.setSecret(s));
  return async () => {
    let token: string;
    try {
      token = await getIDToken(audience);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      throw new CredentialError(
        'oidc-unavailable',
        `could not get a GitHub OIDC token for audience "${audience}": ${detail.replace(/\s+/g, ' ').trim()}. ` +
          'Give the job `permissions: id-token: write` (and `contents: read`).',
        { cause: e },
      );
    }
    mask(token);
    return { token, claims: decodeOidcClaims(token) };
  };
}
