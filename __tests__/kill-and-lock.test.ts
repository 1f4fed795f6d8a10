// Kills and races through the bundled CLI with real Terraform: a module killed mid-apply, the CLI
// itself killed outright (SIGKILL), a lock left by a dead run (taken over), and the files a run leaves at rest.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanupSites,
  cliArgs,
  cliSnapshot,
  eventually,
  markerFolder,
  runCli,
  startCli,
  TF_MODULES,
  writeSite,
} from './helpers/site.js';

beforeAll(async () => {
  await cliSnapshot();
}, 300_000);
afterAll(cleanupSites);

/** Terraform processes working inside a folder (by their cwd), from /proc. */
function terraformProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      if (comm === 'terraform' && readlinkSync(`/proc/${p}/cwd`).startsWith(dir)) pids.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

const runFolders = (root: string): string[] => {
  const base = join(root, '.site-deploy', 'work', 's', 'dev');
  return existsSync(base) ? readdirSync(base).filter((n) => n.startsWith('run-')) : [];
};

describe('a module killed mid-apply', () => {
  test('its step fails naming the signal, everything heavier is halted, the run exits 1 and its lock is released', async () => {
    const dir = await markerFolder();
    const pidFile = join(dir, 'apply.pid');
    const repo = await writeSite({
      modules: [
        { type: 'victim', name: 'db', weight: 10 },
        { type: 'after', name: 'app', weight: 20 },
      ],
      catalog: {
        victim: {
          plan: 'echo \'{"add":1,"change":0,"destroy":0}\' > "$SITE_DEPLOY_CHANGES"',
          apply: `echo $$ > ${pidFile}\nexec sleep 60`,
        },
        after: { plan: 'echo \'{"add":1,"change":0,"destroy":0}\' > "$SITE_DEPLOY_CHANGES"' },
      },
    });
    // Unsandboxed: the module writes its pid into the test's (root-only) folder, and is killed by it.
    const cli = await startCli(cliArgs(repo, 'apply', '--json', '--credentials', 'none'), {
      SITE_DEPLOY_ISOLATION: 'off',
    });
    expect(
      await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 30_000),
    ).toBe(true);
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL'); // the OOM killer, say
    const r = await cli.exit;
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      status: string;
      modules: { name: string; status: string; reason?: string }[];
    };
    expect(doc.status).toBe('failed');
    expect(doc.modules.map((m) => [m.name, m.status])).toEqual([
      ['db', 'failed'],
      ['app', 'halted'],
    ]);
    expect(doc.modules[0]!.reason).toBe('apply failed (signal SIGKILL)');
    expect(existsSync(join(repo.root, '.site-deploy', 'locks', 's', 'dev.lock'))).toBe(false);
    expect(runFolders(repo.root)).toEqual([]);
  });
});

describe('the CLI killed outright', () => {
  test('SIGKILL mid-apply: Terraform is told to stop; the next run takes the dead lock over with a warning, cleans up and succeeds', async () => {
    const dir = await markerFolder();
    const marker = join(dir, 'started');
    const repo = await writeSite({
      modules: [{ type: 'step', name: 'db', weight: 10, marker, sleep: '#{sleep}' }],
      catalog: { step: TF_MODULES.step! },
      variables: { sleep: 60 },
    });
    // Unsandboxed: it finds Terraform under the checkout's work folder and its lock file beside the
    // local state (sandboxed, both live in the step's own folders; sandbox.test.ts kills that case).
    const cli = await startCli(cliArgs(repo, 'apply', '--credentials', 'none'), {
      SITE_DEPLOY_ISOLATION: 'off',
    });
    expect(await eventually(() => existsSync(marker), 30_000)).toBe(true);
    const work = join(repo.root, '.site-deploy', 'work');
    expect(terraformProcessesUnder(work)).toHaveLength(1);
    cli.child.kill('SIGKILL');
    await cli.exit;

    // The kernel sent Terraform SIGTERM when its parent died: it stops well before the 60 s sleep ends.
    expect(await eventually(() => terraformProcessesUnder(work).length === 0, 20_000)).toBe(true);
    // It stopped gracefully (SIGTERM), not by a broken pipe when it next printed: its state lock is released.
    expect(repo.lockFiles()).toEqual([]);
    expect(runFolders(repo.root)).toHaveLength(1); // the dead run could not clean up

    await repo.setVariables({ sleep: 0 });
    // Its holder provably gone (this host, no such process), the lock is taken over with a warning.
    const rerun = await runCli(
      cliArgs(repo, 'apply', '--json', '--credentials', 'none', '--lock-timeout', '0s'),
    );
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(
      new RegExp(
        `^warning: took over the run lock of a killed run: run \\S+, apply by \\S+ on \\S+ \\(pid ${cli.child.pid}\\), since \\S+ — its process is gone\\. ` +
          'It had started module step db: they may have stopped half-way, so check their state\\.',
        'm',
      ),
    );
    expect((JSON.parse(rerun.stdout) as { status: string }).status).not.toBe('failed');
    expect(runFolders(repo.root)).toEqual([]); // the dead run's work folder (saved plan, tfvars) is gone too
    expect(repo.lockFiles()).toEqual([]);
  }, 120_000);
});

describe('files at rest', () => {
  test('state and its folders are owner-only; .site-deploy/ ignores itself in git', async () => {
    const repo = await writeSite({
      modules: [{ type: 'echo', name: 'db', weight: 10, value: 'x' }],
      catalog: { echo: TF_MODULES.echo! },
    });
    execFileSync('git', ['init', '-q', repo.root]);
    const r = await runCli(cliArgs(repo, 'apply', '--credentials', 'none'));
    expect(r.code).toBe(0);
    const untracked = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
      cwd: repo.root,
      encoding: 'utf8',
    });
    expect(untracked).toMatch(/sites\/s\/site\.yaml/);
    expect(untracked).not.toMatch(/\.site-deploy/);
    const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
    expect(mode(repo.statePath('db'))).toBe('600');
    expect(mode(join(repo.root, '.site-deploy'))).toBe('700');
    expect(mode(join(repo.root, '.site-deploy', 'state', 's', 'dev'))).toBe('700');
    expect(readFileSync(join(repo.root, '.site-deploy', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });
});
