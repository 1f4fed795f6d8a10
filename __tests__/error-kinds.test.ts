// One error hierarchy (SPEC §9 exit codes): what STS would refuse is bad input found before
// anything runs — at the module's `services` line, exit 2 — never "internal error".
import { afterAll, describe, expect, test } from '@jest/globals';
import { runMain } from './helpers/cli-in-process.js';
import { baseRepo, cleanupRepos, problemLines, writeRepo } from './helpers/repo.js';

afterAll(cleanupRepos);

const cli = runMain;

/** A catalog module asking for so many services that its session policy passes STS's 2,048 characters. */
function bloated(): ReturnType<typeof baseRepo> {
  const repo = baseRepo();
  repo.catalog.app = {
    ...repo.catalog.app,
    services: Array.from({ length: 200 }, (_, i) => `service${String(i).padStart(3, '0')}`),
  };
  return repo;
}

describe('a session policy STS would refuse', () => {
  test('validate reports it at the module’s services line and exits 2', async () => {
    const root = await writeRepo(bloated());
    const r = await cli(['validate', '--root', root], root);
    expect(r.code).toBe(2);
    const errors = problemLines(r.stderr).filter((p) => p.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'modules/app/module.yaml', line: 2, column: 1 });
    expect(errors[0]!.message).toMatch(
      /^module "app": the inline session policy is \d{4} characters after minification; STS allows at most 2048/,
    );
    expect(r.stderr).not.toContain('internal error');
  });

  test('trust-policy refuses it as bad input with the same position, not "internal error"', async () => {
    const root = await writeRepo(bloated());
    const r = await cli(['trust-policy', '--root', root, '--site', 's1', '--env', 'dev'], root);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr).map((p) => `${p.file}:${p.line}`)).toContain('modules/app/module.yaml:2');
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).toBe('');
  });
});

describe('trust-policy without a known repository', () => {
  test('warns that the sub names local/local and how to fix it', async () => {
    const saved = process.env.SITE_DEPLOY_REPOSITORY;
    delete process.env.SITE_DEPLOY_REPOSITORY;
    try {
      const root = await writeRepo(baseRepo()); // a folder with no git remote
      const r = await cli(['trust-policy', '--root', root, '--site', 's1', '--env', 'dev'], root);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        /^warning: could not tell the repository .*the OIDC sub below names "local\/local", which no GitHub token carries — set SITE_DEPLOY_REPOSITORY=<owner>\/<repo> and run again\n$/,
      );
      process.env.SITE_DEPLOY_REPOSITORY = 'acme/portal';
      const known = await cli(['trust-policy', '--root', root, '--site', 's1', '--env', 'dev'], root);
      expect(known.stderr).toBe('');
      expect(known.stdout).toContain('repo:acme/portal:environment:dev');
    } finally {
      if (saved === undefined) delete process.env.SITE_DEPLOY_REPOSITORY;
      else process.env.SITE_DEPLOY_REPOSITORY = saved;
    }
  });
});

describe('one root cause, one message', () => {
  test('a variable missing from one environment is reported once, at that environment’s file, with no knock-on type error', async () => {
    const repo = baseRepo();
    const s1 = repo.sites.s1!;
    s1.modules[1] = { ...(s1.modules[1] as object), replicas: '#{replicas}' };
    delete (s1.envs.prod!.variables as Record<string, unknown>).replicas;
    const root = await writeRepo(repo);
    const r = await cli(['validate', '--root', root], root);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr)).toEqual([
      {
        file: 'sites/s1/environments/prod.yaml',
        line: 2,
        column: 1,
        severity: 'error',
        message:
          'environment "prod" has no variable "replicas", which #{replicas} in a module input reads (defined in dev): add it to variables: (environment prod)',
      },
    ]);
  });
});
