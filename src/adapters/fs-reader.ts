import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ConfigReader } from '../core/config/load.js';

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** Reads the user's repository from disk; every path is relative to `root`. */
export function fsReader(root: string): ConfigReader {
  const base = resolve(root);
  let realBase: string;
  try {
    realBase = realpathSync(base);
  } catch {
    realBase = base;
  }
  const abs = (p: string): string => join(base, ...p.split('/'));
  return {
    read(path) {
      try {
        return readFileSync(abs(path));
      } catch (e) {
        if (code(e) === 'ENOENT' || code(e) === 'EISDIR' || code(e) === 'ENOTDIR') return undefined;
        throw e;
      }
    },
    size(path) {
      try {
        const s = statSync(abs(path));
        return s.isFile() ? s.size : undefined;
      } catch {
        return undefined;
      }
    },
    list(path) {
      try {
        return readdirSync(abs(path), { withFileTypes: true }).map((d) => {
          let dir = d.isDirectory();
          if (d.isSymbolicLink()) {
            try {
              dir = statSync(join(abs(path), d.name)).isDirectory();
            } catch {
              dir = false;
            }
          }
          return { name: d.name, dir };
        });
      } catch (e) {
        if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return undefined;
        throw e;
      }
    },
    staysInside(path) {
      let p = abs(path);
      // A missing file cannot escape; check the nearest existing ancestor instead.
      for (;;) {
        try {
          const real = realpathSync.native(p);
          const rel = relative(realBase, real);
          return (
            rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !resolve(rel).startsWith('..'))
          );
        } catch {
          const up = dirname(p);
          if (up === p) return true;
          p = up;
        }
      }
    },
  };
}
