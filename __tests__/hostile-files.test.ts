// Hostile files in the user's repository (SPEC §2, §5): symlinks out of the catalog, config paths
// that are not regular files, command modules without runnable scripts, a plan too big to load.
// Each is a clear exit-2 error with the file and line — never a hang, a crash or a copied /etc.
import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyModule } from '../src/adapters/engines/workdir.js';
import { runMain } from './helpers/cli-in-process.js';
import { baseRepo, cleanupRepos, problemLines, writeRepo } from './helpers/repo.js';

const outside: string[] = [];
afterAll(async () => {
  await cleanupRepos();
  await Promise.all(outside.map((d) => rm(d, { recursive: true, force: true })));
});

/** Runs the CLI in-process from the sources. */
const cli = runMain;

/** A folder outside every repository, holding a file a leak would carry along. */
async function outsideFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sd-outside-'));
  outside.push(dir);
  await writeFile(join(dir, 'shadow'), 'root:SECRET-OUTSIDE:0:0\n');
  return dir;
}

function noCrash(r: { stdout: string; stderr: string }): void {
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at |internal error|[A-Za-z]*Error:/m);
}

describe('symlinks in a catalog module folder', () => {
  test('a link leading outside the repository is an error at the link, and validate exits 2', async () => {
    const dir = await outsideFolder();
    const root = await writeRepo(baseRepo(), { 'modules/aws-vpc/etc': { symlink: dir } });
    const r = await cli(['validate', '--root', root], root);
    noCrash(r);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr)).toEqual([
      {
        file: 'modules/aws-vpc/etc',
        line: 1,
        column: 1,
        severity: 'error',
        message:
          'modules/aws-vpc/etc is a symlink that resolves outside the repository: refusing to copy it into work folders — replace it with the file itself, or link to a path inside the repository',
      },
    ]);
  });

  test('a dangling link that would lead outside is refused too; a link inside the repository is fine', async () => {
    const root = await writeRepo(baseRepo(), {
      'modules/aws-vpc/gone': { symlink: '/nonexistent-sd-target/x.tf' },
      'modules/shared/common.tf': '# shared\n',
      'modules/aws-vpc/common.tf': { symlink: '../shared/common.tf' },
    });
    const r = await cli(['validate', '--root', root], root);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr).map((p) => p.file)).toEqual(['modules/aws-vpc/gone']);
  });

  test('the copy into a work folder refuses an escaping link and copies nothing from outside', async () => {
    const dir = await outsideFolder();
    const root = await mkdtemp(join(tmpdir(), 'sd-copy-'));
    outside.push(root);
    const moduleDir = join(root, 'modules', 'm');
    await mkdir(moduleDir, { recursive: true });
    await writeFile(join(moduleDir, 'main.tf'), '# m\n');
    await symlink(dir, join(moduleDir, 'etc'));
    const work = join(root, '.site-deploy', 'work', 'm');
    await expect(copyModule(moduleDir, work, root)).rejects.toThrow(
      `${join(moduleDir, 'etc')} is a symlink that resolves outside the repository: refusing to copy it`,
    );
    const copied = existsSync(work) ? readdirSync(work, { recursive: true }).map(String) : [];
    expect(copied.filter((f) => f.includes('shadow'))).toEqual([]);
  });
});

describe('config paths that are not regular files are refused without being opened', () => {
  test('a FIFO as an environment file: exit 2 at once, naming it', async () => {
    const root = await writeRepo(baseRepo(), { 'sites/s1/environments/dev.yaml': null });
    execFileSync('mkfifo', [join(root, 'sites/s1/environments/dev.yaml')]);
    // A read of the FIFO would block forever: the test's own timeout is the hang detector.
    const r = await cli(['validate', '--root', root], root);
    noCrash(r);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr)).toContainEqual({
      file: 'sites/s1/site.yaml',
      line: expect.any(Number) as unknown as number,
      column: expect.any(Number) as unknown as number,
      severity: 'error',
      message: 'sites/s1/environments/dev.yaml is a FIFO, not a regular file: refusing to read it',
    });
  }, 20_000);

  test('a FIFO as credentials.yaml and a directory as a module config file', async () => {
    const repo = baseRepo();
    const s1 = repo.sites.s1!;
    s1.modules = [{ ...(s1.modules[0] as object), config: 'modules/networking.yaml' }, s1.modules[1]!];
    const root = await writeRepo(repo, { 'sites/s1/credentials.yaml': null });
    execFileSync('mkfifo', [join(root, 'sites/s1/credentials.yaml')]);
    await mkdir(join(root, 'sites/s1/modules/networking.yaml'), { recursive: true });
    const r = await cli(['validate', '--root', root], root);
    noCrash(r);
    expect(r.code).toBe(2);
    const messages = problemLines(r.stderr).map((p) => `${p.file}: ${p.message}`);
    expect(messages).toContain(
      'sites/s1/credentials.yaml: sites/s1/credentials.yaml is a FIFO, not a regular file: refusing to read it',
    );
    expect(messages).toContain(
      'sites/s1/site.yaml: sites/s1/modules/networking.yaml is a directory, not a regular file: refusing to read it',
    );
  }, 20_000);
});

describe('command modules need runnable plan and apply files', () => {
  test('a missing apply is caught by validate at the manifest’s engine line', async () => {
    const root = await writeRepo(baseRepo(), { 'modules/app/apply': null });
    const r = await cli(['validate', '--root', root], root);
    noCrash(r);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr)).toEqual([
      {
        file: 'modules/app/module.yaml',
        line: 1,
        column: 9,
        severity: 'error',
        message:
          "command module app has no 'apply' file: a command module needs executable 'plan' and 'apply' files in modules/app/",
      },
    ]);
  });

  test('a plan without the executable bit is caught with the fix', async () => {
    const root = await writeRepo(baseRepo());
    await chmod(join(root, 'modules/app/plan'), 0o644);
    const r = await cli(['validate', '--root', root], root);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr).map((p) => p.message)).toEqual([
      'command module app: modules/app/plan is not executable — run `chmod +x modules/app/plan` and commit the mode (`git update-index --chmod=+x modules/app/plan`)',
    ]);
  });
});

describe('summarize', () => {
  test('a plan file over the limit is named with its size and the limit, not "no such plan file"', async () => {
    const dir = await outsideFolder();
    const big = join(dir, 'plan.json');
    await writeFile(big, '');
    await truncate(big, 600 * 1024 * 1024); // sparse: no disk used
    const r = await cli(['summarize', big], dir);
    noCrash(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: ${big}: the plan file is 600 MiB, over the 512 MiB limit summarize can read; summarize each module's plan separately\n`,
    );
  });

  test('a FIFO given as the plan is refused without blocking', async () => {
    const dir = await outsideFolder();
    const fifo = join(dir, 'plan.json');
    execFileSync('mkfifo', [fifo]);
    const r = await cli(['summarize', fifo], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${fifo}: a FIFO, not a regular file; give the plan JSON file\n`);
  }, 20_000);
});
