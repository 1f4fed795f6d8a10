import { posix } from 'node:path';
import { loadWorkspace, type ConfigReader, type Layout } from '../core/config/load.js';
import { Problems } from '../core/errors.js';
import {
  affectedEntries,
  matrixDocument,
  matrixEntries,
  type ChangedFile,
  type MatrixDocument,
} from '../core/matrix.js';
import type { ChangeSet, CommandPorts } from './ports.js';
import { renderMatrixTable } from '../core/report/table.js';
import { defineCommand } from './descriptor.js';

export type { ChangeSet } from './ports.js';

/** Which repository, and optionally what changed. */
export interface MatrixSettings {
  root: string;
  layout: Layout;
}

/**
 * `matrix`: one entry per site × environment (SPEC §9), or with a change set only those it
 * affects. Config files that do not load are bad input: a matrix built on them would hide them.
 */
export function matrix(s: MatrixSettings, ports: CommandPorts, change?: ChangeSet): MatrixDocument {
  const problems = new Problems();
  const reader = ports.files(s.root);
  // With a change set, only the sites it can affect are loaded: the sites whose folder it touched,
  // and — for a changed catalog folder — the sites whose site.yaml names that type at all.
  const ws = loadWorkspace(
    reader,
    s.layout,
    problems,
    change && candidateSites(reader, s.layout, change.files),
  );
  problems.throwIfErrors();
  const all = matrixEntries(ws);
  const entries = change
    ? affectedEntries(ws, all, change.files, change.before, (p) => {
        const bytes = reader.read(p);
        return bytes && new TextDecoder().decode(bytes);
      })
    : all;
  return matrixDocument(entries, { file: '', line: 0, column: 0 });
}

/** A filter of the sites a change can affect (a superset: loading them decides). */
function candidateSites(
  reader: ConfigReader,
  layout: Layout,
  files: ChangedFile[],
): (site: string) => boolean {
  const sites = new Set<string>();
  const types = new Set<string>();
  for (const f of files) {
    const [top, ...rest] = posix.normalize(f.path).split('/');
    const under = (root: string): string | undefined => {
      const parts = root.split('/');
      const path = [top, ...rest];
      return parts.every((p, i) => path[i] === p) ? path[parts.length] : undefined;
    };
    const site = under(layout.configRoot);
    if (site) sites.add(site);
    const type = under(layout.catalog);
    if (type) types.add(type);
  }
  if (types.size === 0) return (site) => sites.has(site);
  const text = new Map<string, string>();
  return (site) => {
    if (sites.has(site)) return true;
    // A site using a type names it in its site.yaml: a sound, cheap filter before parsing anything.
    let t = text.get(site);
    if (t === undefined) {
      const bytes = reader.read(posix.join(layout.configRoot, site, 'site.yaml'));
      t = bytes ? new TextDecoder().decode(bytes) : '';
      text.set(site, t);
    }
    return [...types].some((type) => t.includes(type));
  };
}

export const matrixCommand = defineCommand({
  name: 'matrix',
  summary: 'list the site × environment pairs for a GitHub Actions matrix, or only those a change affects',
  usage: 'site-deploy matrix [--changed-from REF] [--json]',
  example: 'site-deploy matrix --changed-from origin/main --json',
  flags: ['changed-from', 'json'],
  inputs: ['changed-from'],
  settings: (o): MatrixSettings & { changedFrom?: string } => ({
    root: o.root,
    layout: o.layout,
    changedFrom: o.changedFrom,
  }),
  run(s, ports) {
    if (s.changedFrom !== undefined && !ports.changes)
      throw new Error('this front door reads no git changes');
    return matrix(s, ports, s.changedFrom === undefined ? undefined : ports.changes?.(s.root, s.changedFrom));
  },
  json: (doc) => doc,
  text: (doc, s) => renderMatrixTable(doc, s.changedFrom),
  action: (doc, s) => ({
    outputs: [
      ['matrix', doc],
      ['status', 'succeeded'],
      ['summary', { entries: doc.include.length, changed_from: s.changedFrom ?? null }],
    ],
    info: renderMatrixTable(doc, s.changedFrom),
  }),
});
