// Recovery after a kill (issue 18 item 3): a local run lock whose holder is provably gone on this
// host — no process has its pid, or the process with that pid started at another time — is taken
// over with a warning naming the killed run and the module steps it had started; its work folder
// is removed and the next evidence record names it. A live holder, or one on another host, still
// blocks. And a sandbox uid lease names its process's start time, so a reused pid holds none.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EvidenceRecord } from '../src/core/evidence/record.js';
import {
  acquireRunLock,
  localLockPath,
  processStart,
  type LockHolder,
} from '../src/adapters/run/run-lock.js';
import { releaseUid, takeUid } from '../src/adapters/engines/sandbox.js';
import { SiteDeployError } from '../src/core/errors.js';
import {
  cleanupSites,
  cliArgs,
  cliSnapshot,
  eventually,
  markerFolder,
  runCli,
  startCli,
  tempFolder,
  writeSite,
  type SiteRepo,
} from './helpers/site.js';

const validate = (() => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync('schemas/evidence.schema.json', 'utf8')) as object);
})();

beforeAll(async () => {
  await cliSnapshot();
}, 300_000);
afterAll(cleanupSites);

const runFolders = (repo: SiteRepo): string[] => {
  const base = join(repo.root, '.site-deploy', 'work', repo.site, repo.env);
  return existsSync(base) ? readdirSync(base).filter((n) => n.startsWith('run-')) : [];
};

/** A site whose `db` apply touches a marker and sleeps until `<dir>/go` exists; `app` follows it. */
async function sleepySite(dir: string): Promise<SiteRepo> {
  const changes = 'echo \'{"add":1,"change":0,"destroy":0}\' > "$SITE_DEPLOY_CHANGES"';
  return writeSite({
    modules: [
      { type: 'sleepy', name: 'db', weight: 10 },
      { type: 'quick', name: 'app', weight: 20 },
    ],
    catalog: {
      sleepy: {
        plan: changes,
        apply: `[ -e ${dir}/go ] && exit 0\necho $$ > ${dir}/db.pid\ntouch ${dir}/started\nexec sleep 60`,
      },
      quick: { plan: changes },
    },
  });
}

/** The process ids of `sleep` left by a killed step (the test's own to end). */
const killPidFile = (path: string): void => {
  if (!existsSync(path)) return;
  try {
    process.kill(Number(readFileSync(path, 'utf8').trim()), 'SIGKILL');
  } catch {
    // already gone
  }
};

describe('SIGKILL of an apply', () => {
  test('the next apply takes the lock over, warns naming the killed run and its started step, removes its work folder, exits 0, and its record names the killed run', async () => {
    const dir = await markerFolder();
    const repo = await sleepySite(dir);
    // Unsandboxed: the step writes into the test's own folder.
    const env = { SITE_DEPLOY_ISOLATION: 'off' };
    const killed = await startCli(cliArgs(repo, 'apply', '--credentials', 'none'), env);
    try {
      expect(await eventually(() => existsSync(join(dir, 'started')), 30_000)).toBe(true);
      killed.child.kill('SIGKILL');
      await killed.exit;
    } finally {
      killPidFile(join(dir, 'db.pid'));
    }
    expect(runFolders(repo)).toHaveLength(1); // the killed run could not clean up
    expect(existsSync(localLockPath(repo.root, repo.site, repo.env))).toBe(true);

    writeFileSync(join(dir, 'go'), '');
    const next = await runCli(
      cliArgs(repo, 'apply', '--json', '--credentials', 'none', '--lock-timeout', '0s'),
      env,
    );
    expect(next.code).toBe(0);
    const pid = killed.child.pid!;
    expect(next.stderr).toMatch(
      new RegExp(
        `^warning: took over the run lock of a killed run: run (\\d{8}T\\d{9}Z)-1, apply by \\S+ on \\S+ \\(pid ${pid}\\), since \\S+ — its process is gone\\. ` +
          'It had started module step db: they may have stopped half-way, so check their state\\. Its work folder was removed\\.$',
        'm',
      ),
    );
    expect(runFolders(repo)).toEqual([]);
    expect(existsSync(localLockPath(repo.root, repo.site, repo.env))).toBe(false);

    const path = (JSON.parse(next.stdout) as { evidence: string }).evidence;
    const record = JSON.parse(readFileSync(path, 'utf8')) as EvidenceRecord;
    expect(validate(record) ? [] : validate.errors).toEqual([]);
    expect(record.status).toBe('succeeded');
    expect(record.recovered).toEqual({
      run: { id: expect.stringMatching(/^\d{8}T\d{9}Z$/), attempt: 1, url: null },
      command: 'apply',
      host: hostname(),
      pid,
      user: expect.any(String),
      started_at: expect.any(String),
      steps: ['db'],
    });
    expect(next.stderr).toContain(`run ${record.recovered!.run.id}-1`);
    // The run after names no killed run.
    const after = await runCli(cliArgs(repo, 'apply', '--json', '--credentials', 'none'), env);
    expect(after.code).toBe(0);
    expect(after.stderr).not.toMatch(/killed run/);
    const again = JSON.parse(
      readFileSync((JSON.parse(after.stdout) as { evidence: string }).evidence, 'utf8'),
    ) as EvidenceRecord;
    expect(again.recovered).toBeUndefined();
  }, 180_000);

  test('a holder that is alive still blocks: the lock timeout, naming it; its work folder stays', async () => {
    const dir = await markerFolder();
    const repo = await sleepySite(dir);
    const env = { SITE_DEPLOY_ISOLATION: 'off' };
    const holder = await startCli(cliArgs(repo, 'apply', '--credentials', 'none'), env);
    try {
      expect(await eventually(() => existsSync(join(dir, 'started')), 30_000)).toBe(true);
      const r = await runCli(cliArgs(repo, 'apply', '--credentials', 'none', '--lock-timeout', '0s'), env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`s/dev is locked by apply by \\S+ on \\S+ \\(pid ${holder.child.pid}\\)`),
      );
      expect(r.stderr).not.toMatch(/took over/);
      expect(runFolders(repo)).toHaveLength(1);
    } finally {
      holder.child.kill('SIGTERM');
      await holder.exit;
      killPidFile(join(dir, 'db.pid'));
    }
  }, 120_000);
});

describe('which holders are provably gone', () => {
  /** Plants a lock naming `h` (defaults: a local apply) and tries to take it at once. */
  async function takeOver(h: Partial<LockHolder>): Promise<{ recovered?: LockHolder } | SiteDeployError> {
    const root = await tempFolder();
    const path = localLockPath(root, 's', 'dev');
    mkdirSync(dirname(path), { recursive: true });
    const holder: LockHolder = {
      id: 'planted',
      command: 'apply',
      site: 's',
      environment: 'dev',
      host: hostname(),
      pid: 1,
      user: 'someone',
      started: '2026-01-01T00:00:00.000Z',
      run: 'local',
      ...h,
    };
    writeFileSync(path, JSON.stringify(holder));
    try {
      const lock = await acquireRunLock({
        root,
        site: 's',
        environment: 'dev',
        command: 'plan',
        timeoutMs: 0,
      });
      await lock.release();
      return lock;
    } catch (e) {
      if (e instanceof SiteDeployError) return e;
      throw e;
    }
  }

  const deadPid = (): number => Number(spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim());

  test('no process with its pid: taken over', async () => {
    const got = await takeOver({ pid: deadPid() });
    expect(got).not.toBeInstanceOf(SiteDeployError);
    expect((got as { recovered?: LockHolder }).recovered?.id).toBe('planted');
  });

  test('its pid reused by a process that started at another time: taken over', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(await eventually(() => processStart(other.pid!) !== undefined)).toBe(true);
      const got = await takeOver({ pid: other.pid!, pidStart: '1' });
      expect((got as { recovered?: LockHolder }).recovered?.id).toBe('planted');
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('alive with its start time: blocks', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(await eventually(() => processStart(other.pid!) !== undefined)).toBe(true);
      const got = await takeOver({ pid: other.pid!, pidStart: processStart(other.pid!) });
      expect(got).toBeInstanceOf(SiteDeployError);
      expect((got as SiteDeployError).message).toMatch(/^s\/dev is locked by apply by someone/);
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('on another host, even with a pid gone here: blocks', async () => {
    const got = await takeOver({ host: 'another-host.example', pid: deadPid() });
    expect(got).toBeInstanceOf(SiteDeployError);
    expect((got as SiteDeployError).message).toMatch(/on another-host\.example/);
  });
});

describe('force-unlock', () => {
  test('still clears a lock no run can take over (another host), naming its holder', async () => {
    const repo = await sleepySite(await markerFolder());
    const path = localLockPath(repo.root, repo.site, repo.env);
    mkdirSync(dirname(path), { recursive: true });
    const holder = { id: 'x', command: 'apply', site: 's', environment: 'dev', host: 'another-host.example' };
    writeFileSync(
      path,
      JSON.stringify({ ...holder, pid: 4242, user: 'someone', started: 'then', run: 'local' }),
    );
    const blocked = await runCli(cliArgs(repo, 'apply', '--credentials', 'none', '--lock-timeout', '0s'));
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('site-deploy force-unlock --site s --env dev');
    const unlock = await runCli(['force-unlock', '--root', repo.root, '--site', 's', '--env', 'dev']);
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toMatch(
      /^removed the run lock .*\/\.site-deploy\/locks\/s\/dev\.lock, held by apply by someone on another-host\.example \(pid 4242\)/,
    );
    const again = await runCli(['force-unlock', '--root', repo.root, '--site', 's', '--env', 'dev']);
    expect(again.stdout).toBe('s/dev is not locked\n');
  }, 60_000);
});

describe('sandbox uid leases', () => {
  const BASE = 72_000;
  const dir = join(tmpdir(), 'site-deploy-sandbox', 'uids');
  const leaseOf = (uid: number): string => join(dir, String(uid));

  test("a lease names its process's start time; a lease whose pid now runs another process is taken over", async () => {
    const mine = takeUid(BASE);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(readFileSync(leaseOf(mine), 'utf8')).toBe(`${process.pid} ${processStart(process.pid)}\n`);
      expect(await eventually(() => processStart(other.pid!) !== undefined)).toBe(true);
      // BASE + 2: a live process's own lease; BASE + 3: its pid, but another start time (a reused pid).
      writeFileSync(leaseOf(BASE + 2), `${other.pid} ${processStart(other.pid!)}\n`);
      writeFileSync(leaseOf(BASE + 3), `${other.pid} 1\n`);
      expect(takeUid(BASE)).toBe(BASE + 3);
      expect(readFileSync(leaseOf(BASE + 2), 'utf8')).toBe(`${other.pid} ${processStart(other.pid!)}\n`);
      releaseUid(BASE + 3);
      expect(existsSync(leaseOf(BASE + 3))).toBe(false);
    } finally {
      other.kill('SIGKILL');
      releaseUid(mine);
      for (const u of [BASE + 2, BASE + 3]) rmSync(leaseOf(u), { force: true });
    }
  });
});
