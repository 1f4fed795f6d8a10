import type { S3Client } from '@aws-sdk/client-s3';

/** Credentials an S3 client signs with: a step session's, or static keys. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
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
  credentials?: S3Credentials,
): Promise<S3Client> {
  // Loaded on first use: a run without S3 (local state, no evidence bucket) never pays for the SDK.
  const { S3Client } = await import('@aws-sdk/client-s3');
  const staticKeys =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        }
      : undefined;
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const creds = credentials ?? staticKeys;
  return new S3Client({
    region,
    forcePathStyle: true,
    maxAttempts: 4,
    ...(endpoint ? { endpoint } : {}),
    ...(creds ? { credentials: creds } : {}),
  });
}
