/**
 * Attesting an evidence record with `@actions/attest` (SPEC §8.1 "Stored", input `attest: true`):
 * an in-toto statement signed with a Sigstore certificate, stored with GitHub's attestations API.
 *
 * The job needs `permissions: id-token: write` (the OIDC token Fulcio exchanges for a signing
 * certificate) and `attestations: write` (`POST /repos/{owner}/{repo}/attestations`), plus a token
 * that carries the latter (`github-token`, normally `GITHUB_TOKEN`). Attestations of private or
 * internal repositories use GitHub's own Sigstore instance, which GitHub offers on its Enterprise
 * Cloud plan; public repositories use the public-good instance (Fulcio and the Rekor log) — the log
 * entry holds the signing certificate (repository, workflow, commit) and digests, not the record.
 */
import { createHash } from 'node:crypto';
import { attest, type Subject } from '@actions/attest';

/** The predicate type of an evidence attestation. */
export const EVIDENCE_PREDICATE_TYPE = 'https://site-deploy.dev/evidence/v1';

/** Which Sigstore instance signs: `@actions/attest`'s choice by repository visibility when unset. */
export type SigstoreInstance = 'public-good' | 'github';

/** What to attest. */
export interface AttestRequest {
  /** The record's key, `<site>/<env>/<run-id>-<attempt>-<command>.json`: the record subject's name. */
  key: string;
  /** The record's bytes exactly as written (canonical JSON + '\n'). */
  bytes: string;
  /** Every saved plan of the run: more subjects. */
  plans?: { name: string; sha256: string }[];
  /** A token with `attestations: write`. */
  token: string;
  sigstore?: SigstoreInstance;
}

/** A stored attestation: its id and page on GitHub, and the Sigstore bundle (JSON). */
export interface AttestOutcome {
  id?: string;
  url?: string;
  bundle: unknown;
}

/**
 * The statement's subjects: the record, then each plan. The record's digest is the sha256 of the
 * file's exact bytes, trailing newline included — what `sha256sum` and `gh attestation verify
 * <file>` compute — and so differs from the record digest (`recordDigest`, which leaves the newline
 * out).
 */
export function attestationSubjects(
  key: string,
  bytes: string,
  plans: { name: string; sha256: string }[] = [],
): Subject[] {
  const record = createHash('sha256').update(bytes, 'utf8').digest('hex');
  return [
    { name: key, digest: { sha256: record } },
    ...plans.map((p) => ({ name: p.name, digest: { sha256: p.sha256.replace(/^sha256:/, '') } })),
  ];
}

/**
 * Why `attest: true` cannot work in this process, or undefined: Sigstore needs an OIDC token, which a
 * job gets only with `permissions: id-token: write` (or `SIGSTORE_ID_TOKEN`).
 */
export function attestationUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SIGSTORE_ID_TOKEN) return undefined;
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) return undefined;
  return 'attest: true needs an OIDC token for Sigstore: give the job `permissions: id-token: write` (and `attestations: write`)';
}

/**
 * Signs the statement (predicate type {@link EVIDENCE_PREDICATE_TYPE}, predicate = the record) and
 * writes it to the repository's attestations. Throws on any failure; the caller reports it.
 */
export async function attestRecord(req: AttestRequest): Promise<AttestOutcome> {
  const predicate = JSON.parse(req.bytes) as object;
  const attestation = await attest({
    subjects: attestationSubjects(req.key, req.bytes, req.plans),
    predicateType: EVIDENCE_PREDICATE_TYPE,
    predicate,
    token: req.token,
    ...(req.sigstore ? { sigstore: req.sigstore } : {}),
  });
  const id = attestation.attestationID === undefined ? undefined : String(attestation.attestationID);
  const server = (process.env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  const repository = process.env.GITHUB_REPOSITORY;
  return {
    ...(id ? { id } : {}),
    ...(id && repository ? { url: `${server}/${repository}/attestations/${id}` } : {}),
    bundle: attestation.bundle,
  };
}
