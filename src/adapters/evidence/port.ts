/**
 * The evidence port of each front door: the CLI keeps records in the local evidence folder; the
 * action also uploads each as a workflow artifact, writes it to the `evidence-bucket` (with a
 * session allowed only that site × environment's prefix) and, with `attest: true`, attests it.
 */
import type { EvidencePort, WrittenRecord } from '../../commands/ports.js';
import type { StepIdentity } from '../../core/credentials/session.js';
import { SiteDeployError } from '../../core/errors.js';
import { EVIDENCE_SESSION, type SiteGraph } from '../../core/graph/build.js';
import type { SessionBroker } from '../aws/sts.js';
import { hashTrees, writeRecord } from './folder.js';
import { evidenceRun } from './run-facts.js';
import type { StoreLog } from './store.js';

/** The CLI's: records in `<root>/.site-deploy/evidence/`, nothing uploaded. */
export function localEvidence(root: string): EvidencePort {
  return { run: evidenceRun(root), write: writeRecord, hashTrees };
}

/** How the action keeps records beyond the runner. */
export interface ActionEvidenceOptions {
  bucket?: string;
  attest: boolean;
  githubToken?: string;
  /** Makes the evidence bucket's session (the environment's role, scoped to the prefix). */
  broker?: SessionBroker;
  log: StoreLog;
  /** The environment AWS calls read (endpoints, ambient keys in tests). */
  env?: NodeJS.ProcessEnv;
}

/** The action's: the local folder, then artifact, bucket and attestation — failing closed when asked for and not done. */
export function actionEvidence(root: string, o: ActionEvidenceOptions): EvidencePort {
  return {
    ...localEvidence(root),
    async store(written: WrittenRecord, graph: SiteGraph): Promise<void> {
      const { record } = written;
      const key = `${record.site}/${record.environment}/${written.path.split('/').at(-1) ?? ''}`;
      let s3;
      if (o.bucket) {
        const identity: StepIdentity = {
          site: record.site,
          environment: record.environment,
          module: EVIDENCE_SESSION,
          services: [],
          evidencePrefix: { bucket: o.bucket, prefix: `${record.site}/${record.environment}/` },
          repository: record.run.repository,
          runId: record.run.id,
          actor: record.run.actor,
          purpose: record.command === 'apply' ? 'apply' : 'plan',
        };
        const session =
          o.broker && graph.credentials ? await o.broker.get(graph.credentials, identity) : undefined;
        const env = o.env ?? process.env;
        const { s3Client } = await import('../aws/s3.js');
        s3 = await s3Client(
          graph.credentials?.region ?? env.AWS_REGION ?? 'us-east-1',
          env,
          session?.credentials,
        );
      }
      let stored;
      try {
        // The artifact, attestation and S3 clients load only when a record is stored (in Actions).
        const { storeEvidence } = await import('./store.js');
        stored = await storeEvidence(
          {
            path: written.path,
            bytes: written.bytes,
            key,
            digest: written.digest,
            bucket: o.bucket,
            s3,
            attest: o.attest,
            plans: record.modules.flatMap((m) =>
              m.plan_sha256
                ? [{ name: `${record.site}-${record.environment}-${m.name}.tfplan`, sha256: m.plan_sha256 }]
                : [],
            ),
            githubToken: o.githubToken,
          },
          o.log,
        );
      } catch (e) {
        throw new SiteDeployError(
          'evidence',
          `evidence record not stored: ${e instanceof Error ? e.message : String(e)}`,
        );
      } finally {
        s3?.destroy();
      }
      if (stored.s3 && 'refused' in stored.s3) throw new SiteDeployError('evidence', stored.s3.refused);
      if (stored.attestation && 'failed' in stored.attestation)
        throw new SiteDeployError('evidence', stored.attestation.failed);
    },
  };
}
