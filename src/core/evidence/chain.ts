/**
 * The chain of a site × environment × command's records (SPEC §8.1): which file is the last valid
 * record, and which files under a record's name are broken links — they do not parse or fail the
 * schema (empty and truncated files among them). A broken file is skipped, never a crash; the next
 * record chains to the last valid one and names the broken ones no record has named yet.
 */
import type { BrokenLink, EvidenceCommand, EvidenceRecord } from './record.js';
import { evidenceSchemaFailure, isEvidenceRecord } from './validate.js';

/** One file of the folder: a valid record, or why it is not one. */
export type ChainFile =
  { name: string; record: EvidenceRecord; bytes: string } | { name: string; broken: string };

/** What the record a run writes for `command` of `site` × `environment` is: what a file must be to count. */
export interface ChainOf {
  command: EvidenceCommand;
  site: string;
  environment: string;
}

/** Reads one file's bytes as a link of the chain; the reason in plain words, never quoting the file. */
export function readLink(name: string, bytes: string, of: ChainOf): ChainFile {
  if (bytes.length === 0) return { name, broken: 'is empty (0 bytes)' };
  let doc: unknown;
  try {
    doc = JSON.parse(bytes);
  } catch (e) {
    // The parser's message quotes the text: only whether it ended early is told.
    const truncated = e instanceof Error && /end of JSON|Unterminated/i.test(e.message);
    return {
      name,
      broken: truncated ? 'does not parse (it ends mid-document: truncated)' : 'does not parse',
    };
  }
  if (!isEvidenceRecord(doc)) {
    const failure = evidenceSchemaFailure(doc);
    return {
      name,
      broken: `fails the schema at ${failure?.at || '/'}: wants ${failure?.wants ?? 'a record'}`,
    };
  }
  const record = doc;
  if (record.command !== of.command) return { name, broken: `is not a ${of.command} record` };
  if (record.site !== of.site || record.environment !== of.environment)
    return { name, broken: `is a record of another site or environment, not ${of.site}/${of.environment}` };
  return { name, record, bytes };
}

/** The newest valid record (by `finished_at`), and the broken files no valid record names yet. */
export function chainState(files: ChainFile[]): {
  latest?: { record: EvidenceRecord; bytes: string };
  broken: BrokenLink[];
} {
  let latest: { record: EvidenceRecord; bytes: string } | undefined;
  const named = new Set<string>();
  for (const f of files) {
    if (!('record' in f)) continue;
    for (const b of f.record.broken_links ?? []) named.add(b.name);
    if (!latest || f.record.finished_at > latest.record.finished_at) latest = f;
  }
  const broken = files
    .flatMap((f) => ('broken' in f && !named.has(f.name) ? [{ name: f.name, reason: f.broken }] : []))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...(latest ? { latest: { record: latest.record, bytes: latest.bytes } } : {}), broken };
}
