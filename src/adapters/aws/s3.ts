import type { S3Client } from '@aws-sdk/client-s3';

/** Credentials an S3 client signs with: a step session's, or static keys. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Credentials, or where to get current ones (a step session that may be re-assumed before it expires). */
export type S3CredentialSource = S3Credentials | (() => Promise<S3Credentials>);

/** The static keys an environment carries (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`), if any. */
export function staticKeys(env: Record<string, string | undefined>): S3Credentials | undefined {
  return env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN,
      }
    : undefined;
}

/**
 * An S3 client for state and lock objects. Credentials come from the step's session, else from
 * static keys in `env` (tests, `--credentials none` with a local S3), else the SDK's default chain.
 * Endpoints follow the SDK's standard settings (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`); a custom
 * endpoint gets path-style addressing (moto, MinIO and VPC endpoints by IP have no bucket host names).
 */
export async function s3Client(
  region: string,
  env: Record<string, string | undefined>,
  credentials?: S3CredentialSource,
): Promise<S3Client> {
  // Loaded on first use: a run without S3 (local state, no evidence bucket) never pays for the SDK.
  const { S3Client } = await import('@aws-sdk/client-s3');
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const creds = credentials ?? staticKeys(env);
  return new S3Client({
    region,
    forcePathStyle: true,
    maxAttempts: 4,
    ...(endpoint ? { endpoint } : {}),
    ...(creds ? { credentials: creds } : {}),
  });
}
