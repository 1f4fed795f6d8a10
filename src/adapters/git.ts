/**
 * What changed between a ref and HEAD, from git (argv only, never a shell): the files a change
 * touched since `git merge-base REF HEAD`, and a file's text as it was there.
 */
import { execFileSync } from 'node:child_process';
import type { ChangedFile } from '../core/matrix.js';
import type { ChangeSet } from '../commands/matrix.js';
import { InputError } from '../core/errors.js';

function git(root: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
}

function badRef(ref: string, why: string): InputError {
  const message = `--changed-from ${ref}: ${why}`;
  return new InputError([{ file: '', line: 0, column: 0, message, severity: 'error' }], message);
}

/** The commit changes are measured from: `git merge-base REF HEAD`. Bad input naming the ref when git does not know it. */
export function mergeBase(root: string, ref: string): string {
  if (ref.startsWith('-')) throw badRef(ref, 'not a git ref');
  try {
    git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw badRef(
      ref,
      `git knows no commit by that name in ${root} (fetch it first, e.g. actions/checkout with fetch-depth: 0)`,
    );
  }
  try {
    return git(root, ['merge-base', ref, 'HEAD']).trim();
  } catch {
    throw badRef(ref, 'it shares no history with HEAD (a shallow clone? fetch with fetch-depth: 0)');
  }
}

/**
 * Files changed between `base` and HEAD — or, with `workingTree`, between `base` and the files as
 * they are on disk (commits, staged and unstaged edits, and untracked files git does not ignore) —
 * paths relative to the root ('/' separated).
 */
export function changedFiles(root: string, base: string, workingTree = false): ChangedFile[] {
  // Relative to the repository's top level; the root may be a folder inside it.
  const prefix = git(root, ['rev-parse', '--show-prefix']).trim();
  const diff = ['diff', '--name-status', '-z', '--no-renames', base, ...(workingTree ? [] : ['HEAD'])];
  const parts = git(root, diff)
    .split('\0')
    .filter((p) => p !== '');
  const named: { code: string; path: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2)
    named.push({ code: parts[i] as string, path: parts[i + 1] as string });
  if (workingTree)
    for (const path of git(root, [
      'ls-files',
      '--others',
      '--exclude-standard',
      '-z',
      '--full-name',
      '.',
    ]).split('\0'))
      if (path !== '') named.push({ code: 'A', path });
  const files: ChangedFile[] = [];
  for (const { code, path } of named) {
    if (prefix && !path.startsWith(prefix)) continue;
    const rel = prefix ? path.slice(prefix.length) : path;
    files.push({
      path: rel,
      status: code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified',
    });
  }
  return files;
}

/** A file's text at a commit (undefined when it did not exist there). */
export function fileAt(root: string, commit: string, path: string): string | undefined {
  try {
    return git(root, ['show', `${commit}:./${path}`]);
  } catch {
    return undefined;
  }
}

/** The change set from `git merge-base REF HEAD` to HEAD, for `matrix --changed-from REF` in a workflow run. */
export function gitChanges(root: string, ref: string): ChangeSet {
  const base = mergeBase(root, ref);
  return { files: changedFiles(root, base), before: (p) => fileAt(root, base, p) };
}

/**
 * The change set on a developer's machine: from `git merge-base REF HEAD` to the files as they
 * are, so an edit not yet committed counts — the matrix then says what the commit would deploy.
 */
export function workingTreeChanges(root: string, ref: string): ChangeSet {
  const base = mergeBase(root, ref);
  return { files: changedFiles(root, base, true), before: (p) => fileAt(root, base, p) };
}
