// The CLI run in-process from the sources (no bundle): its exit code and everything it wrote.
import { main } from '../../src/adapters/cli/main.js';

/** What one CLI run wrote, and its exit code. */
export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `site-deploy ...args` in-process, from `cwd` (default: this process's). */
export async function runMain(args: string[], cwd = process.cwd()): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), cwd });
  return { code, stdout, stderr };
}
