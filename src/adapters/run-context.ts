import { execFileSync } from 'node:child_process';
import type { RunContext } from '../core/config/scope.js';

function git(root: string, args: string[]): string | undefined {
  try {
    return (
      execFileSync('git', args, {
        cwd: root,
        stdio: ['ignore', 'pipe', 'ignore'],
        encoding: 'utf8',
        timeout: 5000,
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Run facts for built-in variables: from the GitHub Actions environment, else from git, else "local". */
export function runContext(root: string, env: NodeJS.ProcessEnv = process.env): RunContext {
  const inActions = env.GITHUB_ACTIONS === 'true';
  const sha =
    (inActions && env.GITHUB_SHA) ||
    git(root, ['rev-parse', 'HEAD']) ||
    '0000000000000000000000000000000000000000';
  const ref = (inActions && env.GITHUB_REF) || git(root, ['symbolic-ref', '-q', 'HEAD']) || 'local';
  return {
    repository:
      (inActions && env.GITHUB_REPOSITORY) ||
      env.SITE_DEPLOY_REPOSITORY ||
      originRepository(root) ||
      'local/local',
    sha,
    ref,
    runId: (inActions && env.GITHUB_RUN_ID) || 'local',
    actor: (inActions && env.GITHUB_ACTOR) || env.USER || 'local',
  };
}

/** owner/repo of the git remote "origin", when it is a GitHub-style URL. */
function originRepository(root: string): string | undefined {
  const url = git(root, ['remote', 'get-url', 'origin']);
  const m = url && /[:/]([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : undefined;
}
