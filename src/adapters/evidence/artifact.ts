/**
 * An evidence record as a workflow artifact (SPEC §8.1 "Stored"), through `@actions/artifact`.
 *
 * The artifact service is reached with the job's runtime token (`ACTIONS_RUNTIME_TOKEN`) at
 * `ACTIONS_RESULTS_URL`; the runner gives every step both, and no workflow permission is needed.
 * Outside a runner (the CLI, a local run) neither is set: the artifact is skipped, never failed.
 */
import { dirname } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';

/** Where a logger's notices and warnings go (no secrets are ever passed to it). */
export interface StoreLog {
  notice(message: string): void;
  warning(message: string): void;
}

/** What became of the artifact: uploaded, skipped (no artifact service: a local run) or failed. */
export type ArtifactOutcome = { id: number; name: string } | { skipped: string } | { failed: string };

/** Characters an artifact name cannot hold (`@actions/artifact`'s list: NTFS limits, and `/`, `\`). */
const NOT_IN_ARTIFACT_NAMES = /["\\:<>|*?\r\n/]/g;

/**
 * The artifact name of a record: `evidence-<site>-<env>-<run-id>-<attempt>-<command>`, from the
 * record's key `<site>/<env>/<run-id>-<attempt>-<command>.json` (artifact names cannot hold `/`).
 */
export function artifactName(key: string): string {
  const base = key
    .replace(/\.json$/, '')
    .split('/')
    .join('-');
  return `evidence-${base}`.replace(NOT_IN_ARTIFACT_NAMES, '_');
}

/**
 * Why the artifact service cannot be used in this process, or undefined when it can: both
 * `ACTIONS_RUNTIME_TOKEN` and `ACTIONS_RESULTS_URL` must be set (a runner sets them for every step).
 */
export function artifactServiceMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((name) => !env[name]);
  if (missing.length === 0) return undefined;
  return `no workflow artifact service here (${missing.join(' and ')} not set: not a GitHub Actions job)`;
}

/**
 * Uploads the record file at `path` as the artifact {@link artifactName}(key) — a zip holding the
 * one file. Without the artifact service it is a notice and `{ skipped }`; an upload that fails is a
 * warning and `{ failed }` (the record is still on disk and, with a bucket, in S3).
 */
export async function uploadRecordArtifact(
  path: string,
  key: string,
  log: StoreLog,
): Promise<ArtifactOutcome> {
  const name = artifactName(key);
  const missing = artifactServiceMissing();
  if (missing) {
    log.notice(`evidence record not uploaded as an artifact: ${missing}`);
    return { skipped: missing };
  }
  try {
    const { id } = await new DefaultArtifactClient().uploadArtifact(name, [path], dirname(path));
    if (id === undefined) throw new Error('the artifact service returned no artifact id');
    log.notice(`evidence record uploaded as artifact ${name} (id ${id})`);
    return { id, name };
  } catch (e) {
    const message = `evidence record could not be uploaded as artifact ${name}: ${e instanceof Error ? e.message : String(e)}`;
    log.warning(message);
    return { failed: message };
  }
}
