/**
 * The GitHub Actions matrix of a repository (SPEC §9): one entry per site × environment, and —
 * given the files a change touched — only the entries the change affects.
 */
import { posix } from 'node:path';
import type { Workspace } from './config/load.js';
import type { Site } from './config/model.js';
import { InputError, type SourcePos } from './errors.js';
import { deploysTo } from './inputs.js';

/** GitHub refuses a matrix of more jobs than this. */
export const MATRIX_LIMIT = 256;

/** One job of the matrix. */
export interface MatrixEntry {
  site: string;
  environment: string;
  account?: string;
  region?: string;
  lifecycle: 'long-lived' | 'ephemeral';
  /** 1-based position of the environment in the site's `promotion:`; 1 when it has none. */
  stage: number;
}

/** The `matrix --json` document. */
export interface MatrixDocument {
  include: MatrixEntry[];
}

/** A file a change touched, as `git diff --name-status` reports it (both sides of a rename). */
export interface ChangedFile {
  path: string;
  status: 'added' | 'modified' | 'deleted';
}

/** Reads a file as it was before the change (credentials.yaml), or undefined. */
export type BeforeReader = (path: string) => string | undefined;

/** Every site × environment, sorted by site, then stage, then environment. */
export function matrixEntries(ws: Workspace): MatrixEntry[] {
  const entries: MatrixEntry[] = [];
  for (const site of ws.sites.values()) {
    for (const env of site.environments.values()) {
      const c = site.credentials?.entries.get(env.name);
      const stage = site.promotion?.indexOf(env.name) ?? -1;
      entries.push({
        site: site.name,
        environment: env.name,
        ...(c?.account ? { account: c.account } : {}),
        ...(c?.region ? { region: c.region } : {}),
        lifecycle: env.lifecycle,
        stage: stage >= 0 ? stage + 1 : 1,
      });
    }
  }
  return entries.sort(
    (a, b) =>
      (a.site < b.site ? -1 : a.site > b.site ? 1 : 0) ||
      a.stage - b.stage ||
      (a.environment < b.environment ? -1 : a.environment > b.environment ? 1 : 0),
  );
}

/** Top-level keys of `credentials:` whose text differs between two versions of credentials.yaml. */
function changedCredentialEntries(before: string | undefined, after: string | undefined): string[] | 'all' {
  const entries = (text: string | undefined): Map<string, string> | undefined => {
    if (text === undefined) return new Map();
    const lines = text.split(/\r?\n/);
    const start = lines.findIndex((l) => /^credentials:\s*(#.*)?$/.test(l));
    if (start < 0) return undefined;
    const out = new Map<string, string>();
    let key: string | undefined;
    let indent: number | undefined;
    for (const line of lines.slice(start + 1)) {
      if (/^\S/.test(line)) break; // the next top-level key
      const [, lead, name] = /^(\s+)([^\s#:][^:]*):/.exec(line) ?? [];
      if (lead !== undefined && name !== undefined && (indent === undefined || lead.length === indent)) {
        indent = lead.length;
        key = name.trim().replace(/^["']|["']$/g, '');
        out.set(key, '');
      }
      if (key !== undefined) out.set(key, `${out.get(key) ?? ''}${line.trimEnd()}\n`);
    }
    return out;
  };
  const a = entries(before);
  const b = entries(after);
  if (!a || !b) return 'all'; // not the layout we read line by line: assume everything changed
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k));
}

/** The site × environments a change affects (SPEC §9's rules); `before` reads credentials.yaml as it was. */
export function affectedEntries(
  ws: Workspace,
  entries: MatrixEntry[],
  changed: ChangedFile[],
  before: BeforeReader,
  readNow: BeforeReader,
): MatrixEntry[] {
  const keep = new Set<string>();
  const key = (site: string, env: string): string => `${site}\0${env}`;
  const all = (site: Site): void => {
    for (const env of site.environments.keys()) keep.add(key(site.name, env));
  };
  const catalog = `${ws.layout.catalog}/`;
  for (const file of changed) {
    const path = posix.normalize(file.path);
    if (path.startsWith(catalog)) {
      const type = path.slice(catalog.length).split('/')[0];
      for (const site of ws.sites.values())
        for (const m of site.modules.filter((x) => x.type === type))
          for (const env of site.environments.keys()) if (deploysTo(m, env)) keep.add(key(site.name, env));
      continue;
    }
    for (const site of ws.sites.values()) {
      if (!path.startsWith(`${site.dir}/`)) continue;
      const env = [...site.environments.values()].find((e) => e.file === path);
      if (env) keep.add(key(site.name, env.name));
      else if (path === site.credentials?.file || path === posix.join(site.dir, 'credentials.yaml')) {
        const envs = changedCredentialEntries(
          before(path),
          file.status === 'deleted' ? undefined : readNow(path),
        );
        if (envs === 'all') all(site);
        else for (const e of envs) if (site.environments.has(e)) keep.add(key(site.name, e));
      } else all(site); // site.yaml, a module's config file, anything else of the site
    }
  }
  return entries.filter((e) => keep.has(key(e.site, e.environment)));
}

/** The matrix document; more entries than GitHub runs is bad input saying how to split. */
export function matrixDocument(entries: MatrixEntry[], at: SourcePos): MatrixDocument {
  if (entries.length > MATRIX_LIMIT) {
    const sites = new Set(entries.map((e) => e.site)).size;
    const message =
      `the matrix has ${entries.length} site × environment entries; GitHub runs at most ${MATRIX_LIMIT} jobs of one matrix. ` +
      `Split it: call the workflow once per group of sites (e.g. matrix per site folder with --config-root), ` +
      `or narrow it with --changed-from (${sites} sites now)`;
    throw new InputError([{ ...at, message, severity: 'error' }], message);
  }
  return { include: entries };
}
