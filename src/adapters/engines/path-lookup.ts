/** Finding a program on PATH, the way each caller needs it. */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The first `<dir>/<name>` on `path` this process may execute (an empty entry is the current folder). */
export function findExecutable(
  name: string,
  path: string = process.env.PATH ?? '/usr/bin:/bin',
): string | undefined {
  for (const dir of path.split(delimiter)) {
    const p = join(dir || '.', name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Where `binary` may be: itself when it names a path, else `<dir>/<binary>` for each absolute PATH entry, in order. */
export function pathCandidates(binary: string, env: NodeJS.ProcessEnv): string[] {
  if (binary.includes('/')) return [binary];
  return (env.PATH ?? '')
    .split(delimiter)
    .filter((d) => isAbsolute(d))
    .map((d) => join(d, binary));
}
