/**
 * An evidence record in the S3 `evidence-bucket` (SPEC §8.1 "Stored"): one conditional write that
 * never overwrites, with a SHA-256 integrity header, under Object Lock retention when the bucket
 * has a default one.
 *
 * Permissions the writing role needs, on `arn:aws:s3:::<bucket>/<site>/<env>/*`:
 * - `s3:PutObject` — the write itself (required);
 * - `kms:GenerateDataKey` on the bucket's key when the bucket encrypts with SSE-KMS;
 * - `s3:GetObject` and `s3:GetObjectRetention` — optional: reading back the retention date, and
 *   telling a retried write of the same bytes (already stored) from a different record (refused).
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Where the record landed, or why S3 would not take it. */
export type S3Outcome = { uri: string; versionId?: string; retainUntil?: string } | { refused: string };

/** The S3 error fields a message needs. */
interface S3ErrorLike {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function s3Error(e: unknown): { code: string; status: number | undefined; message: string } {
  const err = (e ?? {}) as S3ErrorLike;
  return {
    code: err.Code ?? err.name ?? 'Error',
    status: err.$metadata?.httpStatusCode,
    message: err.message ?? String(e),
  };
}

/** `arn:aws:s3:::<bucket>/<site>/<env>/*`: the prefix a role must be able to write. */
export function evidencePrefixArn(bucket: string, key: string): string {
  const slash = key.lastIndexOf('/');
  return `arn:aws:s3:::${bucket}/${slash >= 0 ? key.slice(0, slash + 1) : ''}*`;
}

/**
 * Writes the record's bytes to `s3://bucket/key` with `If-None-Match: *`, `Content-Type:
 * application/json` and `x-amz-checksum-sha256` (S3 refuses a write to an Object Lock bucket
 * without an integrity header). A bucket's default Object Lock retention is applied by S3; the
 * object's retain-until date is read back with HeadObject and reported when there is one.
 *
 * An object already at the key (412 PreconditionFailed, or 409 ConditionalRequestConflict when
 * another write to it is in flight) is `{ refused }` — records are never overwritten — unless it
 * holds exactly these bytes (same SHA-256: an earlier attempt of this very write, retried by the
 * SDK after a lost reply), which counts as stored. Any other S3 error throws, naming the object,
 * the error code and HTTP status, and the permission needed.
 */
export async function putRecord(
  s3: S3Client,
  bucket: string,
  key: string,
  bytes: string,
): Promise<S3Outcome> {
  const uri = `s3://${bucket}/${key}`;
  const checksum = createHash('sha256').update(bytes, 'utf8').digest('base64');
  let versionId: string | undefined;
  try {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        IfNoneMatch: '*',
        ContentType: 'application/json',
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: checksum,
      }),
    );
    versionId = put.VersionId;
  } catch (e) {
    const { code, status, message } = s3Error(e);
    if (
      status === 412 ||
      status === 409 ||
      code === 'PreconditionFailed' ||
      code === 'ConditionalRequestConflict'
    ) {
      const existing = await head(s3, bucket, key);
      if (existing?.ChecksumSHA256 === checksum) {
        return { uri, ...stored(existing.VersionId, existing.ObjectLockRetainUntilDate) };
      }
      return { refused: `evidence record ${uri} exists already: records are never overwritten` };
    }
    const hint =
      code === 'NoSuchBucket'
        ? `the evidence bucket ${bucket} does not exist (or is in another region)`
        : `the role needs s3:PutObject on ${evidencePrefixArn(bucket, key)}` +
          ' (and kms:GenerateDataKey when the bucket encrypts with a KMS key)';
    throw new Error(
      `evidence record could not be stored at ${uri}: ${code}${status ? ` (HTTP ${status})` : ''}: ${message}; ${hint}`,
    );
  }
  const after = await head(s3, bucket, key, versionId);
  return { uri, ...stored(versionId ?? after?.VersionId, after?.ObjectLockRetainUntilDate) };
}

function stored(
  versionId: string | undefined,
  retainUntil: Date | undefined,
): { versionId?: string; retainUntil?: string } {
  return {
    ...(versionId && versionId !== 'null' ? { versionId } : {}),
    ...(retainUntil ? { retainUntil: retainUntil.toISOString() } : {}),
  };
}

/** HeadObject with the stored checksum, or undefined when it cannot be read (no s3:GetObject). */
async function head(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<{ VersionId?: string; ChecksumSHA256?: string; ObjectLockRetainUntilDate?: Date } | undefined> {
  try {
    return await s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ChecksumMode: 'ENABLED',
        ...(versionId && versionId !== 'null' ? { VersionId: versionId } : {}),
      }),
    );
  } catch {
    return undefined;
  }
}
