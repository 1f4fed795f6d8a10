import { isAbsolute, win32 } from 'node:path';

/**
 * Whether a folder given relative to the root (the CLI's --root, the action's workspace) stays
 * inside it: not absolute and no `..` segment. The CLI and the action both refuse `config-root`
 * and `catalog` values that fail this, so neither reads (or lists) folders outside the root.
 */
export function staysInsideRoot(p: string): boolean {
  return !isAbsolute(p) && !win32.isAbsolute(p) && !p.split(/[\\/]/).includes('..');
}
