import { readFileSync, statSync } from 'node:fs';
import { SiteDeployError } from '../core/errors.js';
import { kindOf } from './fs-reader.js';

/** The largest plan file `summarize` reads: JavaScript strings stop a little above 512 MiB. */
export const MAX_PLAN_BYTES = 512 * 1024 * 1024;

/** `1.2 GiB`, `600 MiB`, `12 KiB`. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1).replace(/\.0$/, '')} ${units[u]}`;
}

/**
 * Reads a plan JSON file for `summarize`, refusing — as bad input naming it — what is missing,
 * not a regular file (a FIFO would block), or too large to load.
 */
export function readPlanFile(path: string, shown = path): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    throw new SiteDeployError(
      'bad-input',
      `${shown}: no such plan file (write one with \`terraform show -json PLANFILE > plan.json\`)`,
    );
  }
  if (!st.isFile())
    throw new SiteDeployError(
      'bad-input',
      `${shown}: a ${kindOf(st)}, not a regular file; give the plan JSON file`,
    );
  if (st.size > MAX_PLAN_BYTES) {
    throw new SiteDeployError(
      'bad-input',
      `${shown}: the plan file is ${formatBytes(st.size)}, over the ${formatBytes(MAX_PLAN_BYTES)} limit summarize can read; ` +
        "summarize each module's plan separately",
    );
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SiteDeployError(
      'bad-input',
      `${shown}: cannot read the plan file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}
