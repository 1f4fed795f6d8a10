import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder site-deploy keeps its state, locks and work folders in, under the repository root. */
export function toolDir(root: string): string {
  return join(root, '.site-deploy');
}

/**
 * Creates `<root>/.site-deploy` (owner-only) with a `.gitignore` of its own, so nothing written
 * there — local state, saved plans, locks — can be committed by accident, whatever the
 * repository's own ignore rules say. Returns the folder.
 */
export async function ensureToolDir(root: string): Promise<string> {
  const dir = toolDir(root);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // 'wx' keeps a user's own edits to the file.
  await writeFile(
    join(dir, '.gitignore'),
    '# Written by site-deploy: local state, saved plans and locks never belong in git.\n*\n',
    { flag: 'wx', mode: 0o600 },
  ).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  return dir;
}
