/**
 * Earlier applies of an environment from the local evidence folder, for promotion outside Actions
 * (SPEC §8.4): `<root>/.site-deploy/evidence/<site>/<env>/*-apply.json`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceRecord } from '../../core/evidence/record.js';
import type { DeploymentsPort } from '../../commands/ports.js';
import type { PreviousApply } from '../../core/promotion.js';
import { EVIDENCE_STATUSES, isStatusIn } from '../../core/status.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * The apply records of `site` × `env`, newest first (by `finished_at`), in the shape
 * `checkPromotion` takes: status from the record's `status`, commit from `run.commit`, site digest
 * from `config.site_digest`, `at` from `finished_at`, `url` from `run.url`. A missing folder is no
 * applies. A file that is not a schema_version 1 apply record of this site and environment is left
 * out (and passed to `warn`): it cannot prove an apply, so leaving it out only makes promotion stricter.
 */
export async function localPreviousApplies(
  root: string,
  site: string,
  env: string,
  options: { warn?: (message: string) => void } = {},
): Promise<PreviousApply[]> {
  if (!NAME.test(site) || !NAME.test(env))
    throw new Error(`not a site or environment name: ${JSON.stringify(site)} / ${JSON.stringify(env)}`);
  const dir = join(root, '.site-deploy', 'evidence', site, env);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`could not read the evidence folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const applies: PreviousApply[] = [];
  for (const name of names.filter((n) => n.endsWith('-apply.json')).sort()) {
    const path = join(dir, name);
    let record: Partial<EvidenceRecord>;
    try {
      record = JSON.parse(await readFile(path, 'utf8')) as Partial<EvidenceRecord>;
    } catch (err) {
      options.warn?.(`${path} is not a readable evidence record (${(err as Error).message}): left out`);
      continue;
    }
    const commit = record !== null && typeof record === 'object' ? record.run?.commit : undefined;
    const status = record?.status;
    if (
      typeof commit !== 'string' ||
      record.schema_version !== 1 ||
      record.command !== 'apply' ||
      record.site !== site ||
      record.environment !== env ||
      !isStatusIn(EVIDENCE_STATUSES, status) ||
      typeof record.finished_at !== 'string' ||
      Number.isNaN(Date.parse(record.finished_at))
    ) {
      options.warn?.(`${path} is not a schema_version 1 apply record of ${site}/${env}: left out`);
      continue;
    }
    const digest = record.config?.site_digest;
    applies.push({
      environment: env,
      commit,
      siteDigest: typeof digest === 'string' ? digest : null,
      status,
      at: record.finished_at,
      ...(typeof record.run?.url === 'string' && record.run.url ? { url: record.run.url } : {}),
    });
  }
  return applies.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

/** The CLI's promotion source: earlier applies from the evidence folder; no deployments are created. */
export function localDeployments(root: string, warn?: (message: string) => void): DeploymentsPort {
  return { previousApplies: (site, env) => localPreviousApplies(root, site, env, { warn }) };
}
