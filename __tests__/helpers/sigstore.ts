// Sigstore without the internet (local-stack §8): @sigstore/mock's Fulcio, timestamp authority and
// Rekor — each a real CA / TSA / log with its own ephemeral keys, answering the same HTTP API as the
// service — put in front of the URLs a client calls, plus the trusted root that describes them and a
// verifier (@sigstore/verify) that checks a bundle against it.
//
// Why nock and not a loopback server: @actions/attest has no setting for its Sigstore URLs. It signs
// with https://fulcio.sigstore.dev + https://rekor.sigstore.dev ("public-good") or with
// https://fulcio.<host> + https://timestamp.<host> ("github", host from GITHUB_SERVER_URL with the port
// dropped), always https on port 443. So the mock's handlers answer through nock interceptors on those
// origins (the project's nock 15; the mock's own `mockFulcio` & co. would load its private nock 13, so
// only the handler modules are imported here). The handlers are the mock's; Rekor's gets the one
// server-side step the mock leaves out (canonicalDsseEntry).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import nock from 'nock';
import {
  toSignedEntity,
  toTrustMaterial,
  Verifier,
  type Signer,
  type VerificationPolicy,
} from '@sigstore/verify';
import { fulcioHandler, initializeCA, initializeCTLog } from '@sigstore/mock/dist/fulcio/index.js';
import { initializeTSA, tsaHandler } from '@sigstore/mock/dist/timestamp/index.js';
import { initializeTLog, rekorHandler } from '@sigstore/mock/dist/rekor/index.js';
import { generateKeyPair } from '@sigstore/mock/dist/util/key.js';
import type { Handler } from '@sigstore/mock/dist/shared.types.js';

// The bundle and trusted-root parsers of the very versions @sigstore/verify uses (nested under it):
// @actions/attest brings older ones to the top of node_modules.
const fromVerify = createRequire(createRequire(import.meta.url).resolve('@sigstore/verify'));
const { bundleFromJSON } = fromVerify('@sigstore/bundle') as { bundleFromJSON: (json: unknown) => unknown };
const { TrustedRoot } = fromVerify('@sigstore/protobuf-specs') as {
  TrustedRoot: { fromJSON: (json: unknown) => Parameters<typeof toTrustMaterial>[0] };
};

/** The Sigstore origins to stand in for. */
export interface SigstoreOrigins {
  fulcio: string;
  /** RFC 3161 timestamp authority (GitHub's instance). */
  tsa?: string;
  /** Rekor transparency log (the public-good instance). */
  rekor?: string;
}

/** @actions/attest's origins for `sigstore: 'github'` with GITHUB_SERVER_URL unset or github.com. */
export const GITHUB_SIGSTORE: SigstoreOrigins = {
  fulcio: 'https://fulcio.githubapp.com',
  tsa: 'https://timestamp.githubapp.com',
};

/** @actions/attest's origins for `sigstore: 'public-good'`. */
export const PUBLIC_GOOD_SIGSTORE: SigstoreOrigins = {
  fulcio: 'https://fulcio.sigstore.dev',
  rekor: 'https://rekor.sigstore.dev',
};

/** One request a mocked service answered. */
export interface SigstoreRequest {
  service: 'fulcio' | 'tsa' | 'rekor';
  path: string;
  body: string;
  status: number;
}

/**
 * What Rekor itself does to a proposed `dsse` 0.0.1 entry before logging it, and the mock does not:
 * the envelope and verifiers it was sent become `signatures` (signature + verifier), `envelopeHash`
 * and `payloadHash`. Without this the logged body holds the raw proposal and @sigstore/verify
 * rightly refuses it ("signature count mismatch"). Other kinds pass unchanged.
 */
function canonicalDsseEntry(body: string): string {
  const entry = JSON.parse(body) as {
    kind?: string;
    apiVersion?: string;
    spec?: { proposedContent?: { envelope: string; verifiers: string[] } };
  };
  const proposed = entry.spec?.proposedContent;
  if (entry.kind !== 'dsse' || !proposed) return body;
  const envelope = JSON.parse(proposed.envelope) as { payload: string; signatures: { sig: string }[] };
  const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  return JSON.stringify({
    apiVersion: entry.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: hex(proposed.envelope) },
      payloadHash: { algorithm: 'sha256', value: hex(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((sig, i) => ({
        signature: sig.sig,
        verifier: proposed.verifiers[i] ?? proposed.verifiers[0],
      })),
    },
  });
}

/** The mocked services, their trusted root and a verifier. */
export interface SigstoreMock {
  /** The trusted root (trusted_root.json form) naming the mock CA, CT log, TSA and Rekor keys. */
  trustedRoot: Record<string, unknown>;
  requests: SigstoreRequest[];
  /**
   * Verifies a serialized bundle against the trusted root (signature, certificate chain, SCT, and a
   * TSA timestamp or a Rekor entry) and the policy; throws when anything fails. Returns the signer.
   */
  verify(bundle: unknown, policy: VerificationPolicy): Signer;
  /** Throws unless every interceptor was used; removes them. */
  done(): void;
}

const b64 = (v: ArrayBufferView | Buffer): string =>
  Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');

/**
 * Sets up Fulcio (certificates whose SAN is the OIDC token's `subjectClaim`, `sub` by default) and
 * the TSA and/or Rekor at `origins`. Requests elsewhere are untouched (nock passes them through
 * unless the test disabled net connect).
 */
export async function mockSigstore(
  origins: SigstoreOrigins,
  options: { subjectClaim?: string } = {},
): Promise<SigstoreMock> {
  const validFrom = new Date(Date.now() - 60 * 60 * 1000).toISOString();
  const ctlogKeys = generateKeyPair('prime256v1');
  const ctlog = await initializeCTLog(ctlogKeys);
  const ca = await initializeCA(generateKeyPair('prime256v1'), ctlog);
  const requests: SigstoreRequest[] = [];
  const scopes: nock.Scope[] = [];
  const serve = (service: SigstoreRequest['service'], origin: string, handler: Handler): void => {
    const scope = nock(origin)
      .post(handler.path)
      .reply(async (req: Request): Promise<nock.ReplyFnResult> => {
        const body = await req.clone().text();
        const { statusCode, response, contentType } = await handler.fn(body);
        requests.push({ service, path: handler.path, body, status: statusCode });
        const payload = typeof response === 'string' ? response : Buffer.from(response.buffer);
        return [statusCode, payload, { 'Content-Type': contentType ?? 'text/plain' }];
      });
    scopes.push(scope);
  };
  serve('fulcio', origins.fulcio, fulcioHandler(ca, { strict: true, subjectClaim: options.subjectClaim }));

  const trustedRoot: Record<string, unknown> = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [] as unknown[],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: origins.fulcio,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start: validFrom },
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.sigstore.mock',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(ctlog.publicKey),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: validFrom },
        },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [] as unknown[],
  };

  if (origins.tsa) {
    const tsa = await initializeTSA(generateKeyPair('prime256v1'));
    // Each timestamp's time, with an odd millisecond: asn1js writes the fraction without trailing
    // zeros (.12 for 120 ms) and @sigstore/core reads exactly three digits, so with the plain clock
    // one timestamp in ten fails to verify ("invalid time").
    (tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () => {
      const now = new Date();
      now.setUTCMilliseconds(now.getUTCMilliseconds() | 1);
      return now;
    };
    serve('tsa', origins.tsa, tsaHandler(tsa, { strict: true }));
    (trustedRoot.timestampAuthorities as unknown[]).push({
      subject: { organization: 'sigstore.mock', commonName: 'tsa' },
      uri: origins.tsa,
      certChain: {
        certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }],
      },
      validFor: { start: validFrom },
    });
  }
  if (origins.rekor) {
    const tlog = await initializeTLog(origins.rekor, generateKeyPair('prime256v1'));
    const handler = rekorHandler(tlog, { strict: true });
    serve('rekor', origins.rekor, { path: handler.path, fn: (body) => handler.fn(canonicalDsseEntry(body)) });
    (trustedRoot.tlogs as unknown[]).push({
      baseUrl: origins.rekor,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: b64(tlog.publicKey),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor: { start: validFrom },
      },
      logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
    });
  }

  return {
    trustedRoot,
    requests,
    verify(bundle, policy) {
      const material = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot));
      const verifier = new Verifier(material, {
        ctlogThreshold: 1,
        tlogThreshold: origins.rekor ? 1 : 0,
        timestampThreshold: 1,
      });
      const entity = toSignedEntity(bundleFromJSON(bundle) as Parameters<typeof toSignedEntity>[0]);
      return verifier.verify(entity, policy);
    },
    done() {
      const pending = scopes.flatMap((s) => s.pendingMocks());
      for (const s of scopes) s.persist(false);
      if (pending.length) throw new Error(`Sigstore mock never called: ${pending.join(', ')}`);
    },
  };
}
