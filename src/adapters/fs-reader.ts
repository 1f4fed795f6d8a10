import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ConfigReader, FileKind } from '../core/config/load.js';

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** What a stat says a path is. */
export function kindOf(s: Stats): FileKind {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isFIFO()) return 'FIFO';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character device';
  return 'block device';
}

/** A regular file's bytes; undefined when it is missing or not a regular file. */
function readRegularFile(file: string): Uint8Array | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'EISDIR' || code(e) === 'ENOTDIR') return undefined;
    throw e;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A folder's entries, a symlink counted as a folder when it leads to one; undefined when missing. */
function listFolder(folder: string): ReturnType<ConfigReader['list']> {
  try {
    return readdirSync(folder, { withFileTypes: true }).map((d) => {
      let dir = d.isDirectory();
      const symlink = d.isSymbolicLink();
      if (symlink) {
        try {
          dir = statSync(join(folder, d.name)).isDirectory();
        } catch {
          dir = false;
        }
      }
      return { name: d.name, dir, ...(symlink ? { symlink } : {}) };
    });
  } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Whether `file` (or, when missing, its nearest existing ancestor) really lies inside `realBase`. */
function staysInside(realBase: string, file: string): boolean {
  let p = file;
  // A dangling symlink says where it would lead: judge that, not its folder.
  try {
    if (lstatSync(p).isSymbolicLink() && !existsSync(p)) p = resolve(dirname(p), readlinkSync(p));
  } catch {
    // missing: handled below
  }
  // A missing file cannot escape; check the nearest existing ancestor instead.
  for (;;) {
    try {
      const real = realpathSync.native(p);
      const rel = relative(realBase, real);
      return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !resolve(rel).startsWith('..'));
    } catch {
      const up = dirname(p);
      if (up === p) return true;
      p = up;
    }
  }
}

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
    read: (path) => readRegularFile(abs(path)),
    size(path) {
      try {
        const s = statSync(abs(path));
        return s.isFile() ? s.size : undefined;
      } catch {
        return undefined;
      }
    },
    kind(path) {
      try {
        return kindOf(statSync(abs(path)));
      } catch (e) {
        if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return 'missing';
        return undefined;
      }
    },
    executable(path) {
      try {
        accessSync(abs(path), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    list: (path) => listFolder(abs(path)),
    staysInside: (path) => staysInside(realBase, abs(path)),
  };
}
