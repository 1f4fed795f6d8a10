// `plan` / `apply` through the bundled CLI (a private snapshot of dist/cli.js) with REAL Terraform:
// the --json document, progress on stderr, exit codes, max-parallel, and SIGTERM cancellation.
// SPEC §4, §9.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
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

interface RunDoc {
  site: string;
  environment: string;
  command: string;
  status: string;
  modules: {
    name: string;
    type: string;
    weight: number;
    status: string;
    add: number;
    change: number;
    destroy: number;
    import: number;
    forget: number;
    replace: number;
    duration_ms: number;
    mocked: string[];
    blocked_on: string[];
    reason?: string;
  }[];
  outputs: Record<string, Record<string, unknown>>;
}

/** stdout must be exactly one JSON document. */
function doc(stdout: string): RunDoc {
  expect(stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(stdout) as RunDoc;
}

/** Whether a pid no longer names a live process (gone, or a zombie). */
function processGone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('apply with a failing module', () => {
  test('--json: the peer of the failed module finishes, heavier ones are halted, exit 1, the error names the failure', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'step', name: 'net', weight: 10 },
        { type: 'step', name: 'sql', weight: 20, exit_code: 3 },
        { type: 'step', name: 'cache', weight: 20, sleep: 2 },
        { type: 'step', name: 'app', weight: 30 },
        { type: 'step', name: 'dns', weight: 40 },
      ],
      catalog: { step: TF_MODULES.step! },
    });
    const r = await runCli(cliArgs(repo, 'apply', '--json'));
    expect(r.code).toBe(1);
    const d = doc(r.stdout);
    expect(d).toMatchObject({ site: 's', environment: 'dev', command: 'apply', status: 'failed' });
    expect(d.modules.map((m) => [m.name, m.type, m.weight, m.status])).toEqual([
      ['net', 'step', 10, 'succeeded'],
      ['sql', 'step', 20, 'failed'],
      ['cache', 'step', 20, 'succeeded'],
      ['app', 'step', 30, 'halted'],
      ['dns', 'step', 40, 'halted'],
    ]);
    const sql = d.modules[1]!;
    expect(sql.reason).toMatch(/^terraform apply failed \(exit 1\): local-exec provisioner error/);
    expect(sql.reason).toMatch(/exit status 3/);
    expect(d.modules[3]!.reason).toBe('halted: sql failed');
    const keys = [
      'name',
      'type',
      'weight',
      'status',
      'add',
      'change',
      'destroy',
      'import',
      'forget',
      'replace',
      'duration_ms',
      'mocked',
      'blocked_on',
    ];
    for (const m of d.modules) {
      expect(Object.keys(m)).toEqual([...keys, ...(m.reason === undefined ? [] : ['reason'])]);
      expect(typeof m.duration_ms).toBe('number');
    }
    expect(d.modules[0]!.reason).toBeUndefined();
    expect(d.modules[0]!.add).toBe(1);
    // Progress on stderr: what started, how each ended; nothing heavier than the failure started.
    expect(r.stderr).toContain('▶ sql (step, weight 20)\n');
    expect(r.stderr).toMatch(
      /^✗ failed sql \(.+\) — \+1 ~0 -0; terraform apply failed \(exit 1\): local-exec provisioner error$/m,
    );
    expect(r.stderr).toMatch(/^✓ succeeded cache \(.+\) — \+1 ~0 -0$/m);
    expect(r.stderr).not.toContain('▶ app');
    expect(r.stderr).not.toContain('▶ dns');
    expect(d.outputs.net?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    // Without --json: a table, then the failure with its detail.
    const again = await runCli(cliArgs(repo, 'apply'));
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/^s \/ dev — apply failed in /m);
    expect(again.stdout).toMatch(/^sql\s+20\s+✗ failed\s/m);
    expect(again.stdout).toMatch(/^app\s+30\s+■ halted\s.*halted: sql failed$/m);
    expect(again.stdout).toContain(
      '\nsql failed:\nterraform apply failed (exit 1): local-exec provisioner error',
    );
    expect(again.stdout).toContain('exit status 3');
    // net and cache were already applied: no changes this time.
    expect(again.stdout).toMatch(/^net\s+10\s+· no-op\s+no changes/m);
  });
});

describe('plan --json of a never-applied site', () => {
  test('plan-known values are used, a mocked output is listed, a missing one blocks the module', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'src', name: 'up', weight: 10, label: 'hello' },
        { type: 'echo', name: 'known', weight: 20, value: '#{up.label}' },
        { type: 'echo', name: 'mocky', weight: 20, value: '#{up.id}' },
        { type: 'echo', name: 'blocky', weight: 20, value: '#{up.raw}' },
      ],
      catalog: { src: TF_MODULES.src!, echo: TF_MODULES.echo! },
    });
    const r = await runCli(cliArgs(repo, 'plan', '--json'));
    expect(r.code).toBe(0);
    const d = doc(r.stdout);
    expect(d.command).toBe('plan');
    expect(d.modules.map((m) => [m.name, m.status, m.add, m.mocked, m.blocked_on])).toEqual([
      ['up', 'succeeded', 1, [], []],
      ['known', 'succeeded', 1, [], []],
      ['mocky', 'succeeded', 1, ['up.id'], []],
      ['blocky', 'blocked', 0, [], ['up.raw']],
    ]);
    expect(d.modules[3]!.reason).toBe('waiting for #{up.raw}');
    expect(d.outputs.up).toEqual({ label: 'hello' });
    expect(d.outputs.known).toEqual({ value: 'hello' });
    expect(r.stderr).toMatch(/^✓ planned mocky \(.+\) — \+1 ~0 -0; mocked: up\.id$/m);
    expect(r.stderr).toMatch(/^… blocked blocky \(.+\) — waiting for #\{up\.raw\}$/m);

    // Apply never uses the mock, then a plan is all no-op with no mocks.
    const applied = await runCli(cliArgs(repo, 'apply', '--json'));
    expect(applied.code).toBe(0);
    const a = doc(applied.stdout);
    expect(a.status).toBe('succeeded');
    expect(a.modules.every((m) => m.mocked.length === 0 && m.blocked_on.length === 0)).toBe(true);
    const id = a.outputs.up!.id as string;
    expect(a.outputs.mocky).toEqual({ value: id });
    expect(repo.stateInput('mocky')).toBe(id);
    const replanned = await runCli(cliArgs(repo, 'plan', '--json'));
    expect(replanned.code).toBe(0);
    const p = doc(replanned.stdout);
    expect(p.status).toBe('no-op');
    expect(p.modules.map((m) => [m.name, m.status, m.mocked, m.blocked_on])).toEqual([
      ['up', 'no-op', [], []],
      ['known', 'no-op', [], []],
      ['mocky', 'no-op', [], []],
      ['blocky', 'no-op', [], []],
    ]);
  });
});

describe('--max-parallel', () => {
  test('1 runs the three modules of one wave one after another; the default starts all three', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'step', name: 'a', weight: 10 },
        { type: 'step', name: 'b', weight: 10 },
        { type: 'step', name: 'c', weight: 10 },
      ],
      catalog: { step: TF_MODULES.step! },
    });
    const progress = (stderr: string) =>
      stderr
        .split('\n')
        .filter((l) => /^(▶|✓)/.test(l))
        .map((l) => (l.startsWith('▶') ? `start ${l.split(' ')[1]}` : `end ${l.split(' ')[2]}`));
    const one = await runCli(cliArgs(repo, 'plan', '--max-parallel', '1'));
    expect(one.code).toBe(0);
    expect(progress(one.stderr)).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    const dflt = await runCli(cliArgs(repo, 'plan'));
    expect(dflt.code).toBe(0);
    expect(progress(dflt.stderr).slice(0, 3)).toEqual(['start a', 'start b', 'start c']);
    const bad = await runCli(cliArgs(repo, 'plan', '--max-parallel', '0'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-parallel must be a whole number from 1 to 64');
  });
});

describe('cancellation', () => {
  test('SIGTERM mid-apply: exit 1, the module cancelled, the state lock released, nothing left running; a re-run succeeds', async () => {
    const dir = await markerFolder();
    const marker = join(dir, 'db-started');
    const repo = await writeSite({
      modules: [
        { type: 'step', name: 'fast', weight: 10 },
        { type: 'step', name: 'db', weight: 10, marker, sleep: '#{sleep}' },
        { type: 'step', name: 'app', weight: 20, value: '#{db.id}' },
        { type: 'step', name: 'later', weight: 30 },
      ],
      catalog: { step: TF_MODULES.step! },
      variables: { sleep: 20 },
    });
    // Unsandboxed: this watches Terraform's own lock file beside the local state (sandboxed, a step
    // locks the copy staged in its own folder; the run lock keeps runs apart).
    const cli = await startCli(cliArgs(repo, 'apply', '--json'), { SITE_DEPLOY_ISOLATION: 'off' });
    await cli.waitForStderr(/^▶ db \(step, weight 10\)$/m);
    // Wait until Terraform is inside apply (the provisioner runs, the state is locked).
    expect(await eventually(() => existsSync(marker), 30_000)).toBe(true);
    await cli.waitForStderr(/^✓ succeeded fast /m);
    expect(repo.lockFiles()).toEqual(['.db.tfstate.lock.info']);
    const sleepPid = Number(readFileSync(`${marker}.pid`, 'utf8'));
    const sentAt = Date.now();
    cli.child.kill('SIGTERM');
    const r = await cli.exit;
    expect(Date.now() - sentAt).toBeLessThan(15_000);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SIGTERM: cancelling — running steps are stopping and releasing their locks');
    const d = doc(r.stdout);
    expect(d.modules.map((m) => [m.name, m.status])).toEqual([
      ['fast', 'succeeded'],
      ['db', 'cancelled'],
      ['app', 'cancelled'],
      ['later', 'cancelled'],
    ]);
    expect(d.status).toBe('cancelled');
    expect(d.modules[1]!.reason).toMatch(/^cancelled during terraform apply; Terraform stopped/);
    // The run was cancelled: a dependent of the cancelled module is cancelled too, like an independent one.
    expect(d.modules[2]!.reason).toBe('cancelled: the run was cancelled before it started');
    expect(d.modules[3]!.reason).toBe('cancelled: the run was cancelled before it started');
    expect(r.stderr).toMatch(/^⊘ cancelled db \(.+\)/m);
    // Terraform released its lock, and the provisioner's sleep did not outlive the run.
    expect(repo.lockFiles()).toEqual([]);
    expect(await eventually(() => processGone(sleepPid), 5000)).toBe(true);

    // A re-run (no more sleeping) succeeds: no stale lock, no broken work folder.
    await repo.setVariables({ sleep: 0 });
    const rerun = await runCli(cliArgs(repo, 'apply', '--json'));
    expect(rerun.code).toBe(0);
    const d2 = doc(rerun.stdout);
    expect(d2.modules.map((m) => [m.name, m.status])).toEqual([
      ['fast', 'no-op'],
      ['db', 'succeeded'],
      ['app', 'succeeded'],
      ['later', 'succeeded'],
    ]);
    expect(repo.stateInput('app')).toBe(repo.readState('db').outputs.id?.value);
    expect(repo.lockFiles()).toEqual([]);
  });

  test('SIGINT mid-apply cancels too (exit 1, nothing heavier starts, lock released)', async () => {
    const dir = await markerFolder();
    const repo = await writeSite({
      modules: [
        { type: 'step', name: 'slow', weight: 10, wait_for: join(dir, 'never') },
        { type: 'step', name: 'next', weight: 20 },
      ],
      catalog: { step: TF_MODULES.step! },
    });
    // slow waits (at apply) for a file that never comes: cancel once it holds the state lock.
    // Unsandboxed for the same reason: the lock file beside the local state is what it waits for.
    const cli = await startCli(cliArgs(repo, 'apply', '--json'), { SITE_DEPLOY_ISOLATION: 'off' });
    await cli.waitForStderr(/^▶ slow /m);
    expect(await eventually(() => repo.lockFiles().length === 1, 30_000)).toBe(true);
    cli.child.kill('SIGINT');
    const r = await cli.exit;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SIGINT: cancelling');
    expect(doc(r.stdout).modules.map((m) => m.status)).toEqual(['cancelled', 'cancelled']);
    expect(doc(r.stdout).status).toBe('cancelled');
    expect(r.stderr).not.toContain('▶ next');
    expect(repo.lockFiles()).toEqual([]);
  });
});
