/**
 * Handoff files on disk (SPEC §8.3): a plan job writes one per site × environment, owner-only,
 * for upload as an artifact; the reporting job reads them back from the downloaded folder.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SiteDeployError } from '../core/errors.js';
import { MAX_HANDOFF_BYTES } from '../core/report/handoff.js';

/** Where a handoff of `site` × `env` is written under `dir`. */
export function handoffPath(dir: string, site: string, env: string): string {
  return join(dir, `${site}--${env}.json`);
}

/** Writes a handoff (already redacted) and returns its path. */
export function writeHandoff(dir: string, site: string, env: string, text: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = handoffPath(dir, site, env);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** Every `*.json` file under `dir`, depth first, sorted (download-artifact puts each artifact in a folder). */
function jsonFiles(dir: string, depth = 0): string[] {
  if (depth > 4) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...jsonFiles(p, depth + 1));
    else if (e.isFile() && e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

/** The handoff files at `path` (a file, or a folder of them), as `file` (relative to `cwd`) and text. */
export function readHandoffFiles(path: string, cwd: string): { file: string; text: string }[] {
  const at = resolve(cwd, path);
  const st = statSync(at, { throwIfNoEntry: false });
  if (!st) throw new SiteDeployError('bad-input', `${path}: no such file or folder of handoffs`);
  const files = st.isDirectory() ? jsonFiles(at) : [at];
  return files.map((f) => {
    const shown = relative(cwd, f) || f;
    const size = statSync(f).size;
    if (size > MAX_HANDOFF_BYTES)
      throw new SiteDeployError(
        'bad-input',
        `${shown}: ${size} bytes, over the ${MAX_HANDOFF_BYTES}-byte handoff limit`,
      );
    return { file: shown, text: readFileSync(f, 'utf8') };
  });
}
