// Escapes from the step sandbox (SPEC §6, issue 17), with real processes as root (as in CI):
// a module that writes workflow commands straight into the descriptors of every process it can see
// and signals the action, run by the bundled action as the runner runs it; and a sandboxed
// Terraform apply whose local-exec sleeps, cancelled (SIGTERM, SIGINT) or killed (SIGKILL) mid-way.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { releaseUid, takeUid } from '../src/adapters/engines/sandbox.js';
import { dirname, join } from 'node:path';
import { actionBundle, runBundledAction, type ActionRun } from './helpers/action-runner.js';
import { readAsRunner } from './helpers/runner-commands.js';
import {
  cleanupSites,
  cliArgs,
  cliSnapshot,
  eventually,
  markerFolder,
  runCli,
  startCli,
  writeSite,
  type SiteRepo,
} from './helpers/site.js';

beforeAll(async () => {
  await actionBundle();
  await cliSnapshot();
}, 300_000);
afterAll(cleanupSites);

const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test : test.skip;

// ---------------------------------------------------------------------------------------------
// 1. Writing into the action's stdout and stderr, past the stop-commands wrapping.

/**
 * The attack: every process visible gets a workflow command written to its fd 1 and fd 2 — the
 * action's stdout is what the runner parses, and a line written there directly never passes
 * through the log's stop-commands wrapping. Then `kill -0` of the action's pid and an append to
 * each runner file-command file. `target` holds the action's pid, then the command files' paths.
 * Should the action be visible (no sandbox), only the action is written to, never the whole host.
 */
function attackScript(target: string, payload: string): string {
  return `i=0
while [ ! -s '${target}' ]; do i=$((i + 1)); [ "$i" -lt 100 ] || exit 9; sleep 0.1; done
{ read -r action; files=""; while read -r f; do files="$files $f"; done; } < '${target}'
if [ -d "/proc/$action" ]; then echo "attack: the action is visible" >&2; set -- "/proc/$action"
else set -- /proc/[0-9]* "/proc/$action"; fi
seen=""
for d in /proc/[0-9]*; do seen="$seen \${d#/proc/}"; done
echo "attack: processes seen:$seen" >&2
for d in "$@"; do
  [ "$d" = "/proc/$$" ] && continue
  for fd in 1 2; do
    if { printf '%s\\n' '${payload}' > "$d/fd/$fd"; } 2>/dev/null; then echo "attack: wrote \${d#/proc/} fd $fd" >&2
    else echo "attack: write failed \${d#/proc/} fd $fd" >&2; fi
  done
done
if kill -0 "$action" 2>/dev/null; then echo "attack: signalled the action" >&2
else echo "attack: cannot signal the action: $(kill -0 "$action" 2>&1)" >&2; fi
for f in $files; do
  if { echo 'EVIL=1' >> "$f"; } 2>/dev/null; then echo "attack: wrote $f" >&2; else echo "attack: denied $f" >&2; fi
done`;
}

/** Runs the bundled action (plan) on a site whose one command module runs the attack. */
async function runAttack(env: Record<string, string> = {}): Promise<{ run: ActionRun; payload: string }> {
  const dir = await markerFolder();
  const target = join(dir, 'target');
  const payload = `::error::pwned-${randomBytes(6).toString('hex')}`;
  const repo = await writeSite({
    settings: { state: { backend: 'local' } },
    modules: [{ type: 'attacker', name: 'attacker' }],
    catalog: { attacker: { plan: attackScript(target, payload) } },
  });
  const run = await runBundledAction({
    root: repo.root,
    inputs: { command: 'plan', site: repo.site, environment: repo.env },
    env,
    fifos: true,
    onStart: (child, files) =>
      writeFileSync(target, `${child.pid}\n${files.env}\n${files.path}\n${files.output}\n`, { mode: 0o644 }),
  });
  return { run, payload };
}

/** Workflow commands the runner would execute that came from the payload. */
const injected = (stream: string, payload: string): string[] =>
  readAsRunner(stream)
    .commands.filter((c) => `::${c.name}::${c.data}` === payload)
    .map((c) => `line ${c.line}: ::${c.name}::${c.data}`);

describe('a module writing into the descriptors of every process it sees', () => {
  rootTest(
    'sandboxed, through the bundled action: sees only its namespace, every write fails, the action cannot be signalled, nothing reaches the runner',
    async () => {
      const { run, payload } = await runAttack();
      expect(run.code).toBe(0);
      const log = run.stdout;
      expect(log).toMatch(/isolation: namespace/);
      // The attack ran, and met only its own namespace: its init, that init's watcher, itself.
      const seen = /attack: processes seen:((?: \d+)+)/.exec(log)?.[1]?.trim().split(' ').map(Number);
      expect(seen?.length).toBeGreaterThan(0);
      expect(seen!.length).toBeLessThanOrEqual(4);
      expect(Math.max(...seen!)).toBeLessThan(10);
      expect(log).not.toContain('attack: the action is visible');
      // Every other process's fd 1 and fd 2 refused it (pid 1 is root's), and the action's pid does not exist here.
      expect(log).toMatch(/^.*attack: write failed 1 fd 1$/m);
      expect(log).toMatch(/^.*attack: write failed 1 fd 2$/m);
      expect(log).not.toMatch(/attack: wrote /);
      expect(log).toMatch(/attack: cannot signal the action: .*No such process/);
      for (const f of [run.files.env, run.files.path, run.files.output])
        expect(log).toContain(`attack: denied ${f}`);
      // Nothing of the payload reached the runner: not as a command, not even as a line.
      expect(injected(run.stdout, payload)).toEqual([]);
      expect(injected(run.stderr, payload)).toEqual([]);
      expect(run.stdout + run.stderr).not.toContain(payload);
      expect(readFileSync(run.files.env, 'utf8')).toBe('');
      expect(readFileSync(run.files.path, 'utf8')).toBe('');
      expect(readFileSync(run.files.output, 'utf8')).not.toContain('EVIL');
    },
  );

  rootTest(
    'the same attack with isolation off lands in the action’s stdout (the test can fail)',
    async () => {
      const { run, payload } = await runAttack({ SITE_DEPLOY_ISOLATION: 'off' });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/isolation: none/);
      expect(run.stdout).toContain('attack: the action is visible');
      expect(run.stdout).toContain('attack: signalled the action');
      // Written straight into the pipe the runner reads: outside any stop-commands, so it runs.
      expect(injected(run.stdout, payload)).toHaveLength(1);
      expect(injected(run.stderr, payload)).toHaveLength(1);
      expect(readFileSync(run.files.env, 'utf8')).toContain('EVIL=1');
    },
  );
});

// ---------------------------------------------------------------------------------------------
// 2 and 3. A sandboxed Terraform apply cancelled, or its CLI killed, while local-exec sleeps.

/** Pids of live (not zombie) processes whose command line is exactly `sleep <arg>`. */
function sleepers(arg: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8') !== `sleep\0${arg}\0`) continue;
      if (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8'))) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

/** A step's folders, from a process of it: its HOME is `<work folder>.home` (terraform-sandbox.ts). */
function stepFolders(pid: number): { home: string; state: string } {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const home = env.find((e) => e.startsWith('HOME='))?.slice('HOME='.length) ?? '';
  expect(home).toMatch(/\.home$/);
  return { home, state: home.replace(/\.home$/, '.state') };
}

/**
 * A site of one Terraform module whose apply's local-exec starts `sleep <arg>` in the background,
 * in a session of its own (`setsid`: out of the process group a kill of the group reaches), and waits.
 */
function sleepySite(arg: string): Promise<SiteRepo> {
  return writeSite({
    modules: [{ type: 'sleepy', name: 'db', rev: '#{rev}', nap: '#{nap}' }],
    catalog: {
      sleepy: {
        tf: `variable "rev" {
  type = string
}
variable "nap" {
  type = string
}
resource "terraform_data" "this" {
  input = var.rev
  provisioner "local-exec" {
    command = "setsid sleep \${var.nap} & echo started; wait"
  }
}
`,
      },
    },
    variables: { rev: 'r1', nap: arg },
  });
}

const runLock = (repo: SiteRepo): string =>
  join(repo.root, '.site-deploy', 'locks', repo.site, `${repo.env}.lock`);

/** The status of each resource instance in the module's real (not staged) state. */
const stateStatuses = (repo: SiteRepo): (string | undefined)[] =>
  repo.readState('db').resources.flatMap((x) => x.instances.map((i) => i.status));

interface RunDoc {
  status: string;
  evidence: string | null;
  modules: { name: string; status: string; reason?: string }[];
}

/** Starts a sandboxed apply of {@link sleepySite} and waits until its local-exec sleeps (Terraform holds its lock). */
async function applyUntilAsleep(arg: string, env: Record<string, string> = {}) {
  const repo = await sleepySite(arg);
  const cli = await startCli(cliArgs(repo, 'apply', '--json', '--verbose', '--credentials', 'none'), env);
  expect(await eventually(() => sleepers(arg).length === 1, 30_000)).toBe(true);
  expect(cli.stderr()).toMatch(/isolation: namespace \(uid \d+\)/);
  const folders = stepFolders(sleepers(arg)[0]!);
  const stagedLock = join(folders.state, '.terraform.tfstate.lock.info');
  // Sandboxed, Terraform locks the state staged in the step's own folder.
  expect(existsSync(stagedLock)).toBe(true);
  expect(existsSync(runLock(repo))).toBe(true);
  return { repo, cli, stagedLock, runFolder: dirname(folders.home) };
}

describe('a sandboxed Terraform apply cancelled while its local-exec sleeps', () => {
  for (const [signal, arg] of [
    ['SIGTERM', '30.1'],
    ['SIGINT', '30.2'],
  ] as const)
    rootTest(
      `${signal}: Terraform stops gracefully (its lock released, state intact), the run lock goes, exit 1, evidence cancelled, no process left within 2 s`,
      async () => {
        // The work folder is kept, to look at the staged state's lock after the run.
        const { repo, cli, stagedLock, runFolder } = await applyUntilAsleep(arg, {
          SITE_DEPLOY_KEEP_WORK: '1',
        });
        try {
          cli.child.kill(signal);
          const r = await cli.exit;
          expect(await eventually(() => sleepers(arg).length === 0, 2_000)).toBe(true);
          expect(r.code).toBe(1);
          expect(r.stderr).toContain(`${signal}: cancelling`);
          // Terraform got one interrupt, and shut down as it does for Ctrl-C.
          expect(r.stderr).toContain('Gracefully shutting down...');
          const d = JSON.parse(r.stdout) as RunDoc;
          expect(d.status).toBe('cancelled');
          expect(d.modules.map((m) => [m.name, m.status])).toEqual([['db', 'cancelled']]);
          // Told, not killed after the grace period.
          expect(d.modules[0]!.reason).toMatch(/^cancelled during terraform apply; Terraform stopped/);
          const record = JSON.parse(readFileSync(d.evidence!, 'utf8')) as {
            status: string;
            isolation: string;
          };
          expect([record.status, record.isolation]).toEqual(['cancelled', 'namespace']);
          // Terraform released its own lock; the run lock is gone; the state came back, whole.
          expect(existsSync(stagedLock)).toBe(false);
          expect(existsSync(runLock(repo))).toBe(false);
          expect(repo.lockFiles()).toEqual([]);
          // Terraform recorded what it had got to: the resource created, its provisioner cut short.
          expect(stateStatuses(repo)).toEqual(['tainted']);
        } finally {
          await rm(runFolder, { recursive: true, force: true });
        }
        // And a re-run, sandboxed, finishes the apply from that state.
        await repo.setVariables({ rev: 'r1', nap: '0' });
        const again = await runCli(cliArgs(repo, 'apply', '--json', '--credentials', 'none'));
        expect(again.code).toBe(0);
        expect(repo.stateInput('db')).toBe('r1');
        expect(stateStatuses(repo)).toEqual([undefined]);
      },
    );
});

describe('SIGKILL of the CLI during a sandboxed Terraform apply', () => {
  rootTest(
    'the local-exec grandchild is gone within 2 s; Terraform, told to stop, released its lock',
    async () => {
      const arg = '30.3';
      const { repo, cli, stagedLock, runFolder } = await applyUntilAsleep(arg);
      try {
        cli.child.kill('SIGKILL');
        await cli.exit;
        expect(await eventually(() => sleepers(arg).length === 0, 2_000)).toBe(true);
        // The sandbox's init saw its stdin close and stopped Terraform (SIGTERM), which unlocked its state.
        expect(await eventually(() => !existsSync(stagedLock), 5_000)).toBe(true);
        expect(stateStatuses(repo)).toEqual(['tainted']);
      } finally {
        await rm(runFolder, { recursive: true, force: true });
      }
    },
  );
});

describe('step uids across site-deploy processes on one host', () => {
  // A range no other test uses, so runs of other test files cannot take these uids meanwhile.
  const BASE = 71_000;
  const dir = join(tmpdir(), 'site-deploy-sandbox', 'uids');
  const leaseOf = (uid: number): string => join(dir, String(uid));

  test("a uid another running process leased is never handed out; a dead process's lease is taken over and given back", () => {
    takeUid(BASE); // makes the lease folder
    releaseUid(BASE + 1);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    try {
      writeFileSync(leaseOf(BASE + 1), `${other.pid}\n`);
      writeFileSync(leaseOf(BASE + 2), `${dead}\n`);
      const first = takeUid(BASE);
      const second = takeUid(BASE);
      expect([first, second]).toEqual([BASE + 2, BASE + 3]);
      expect(readFileSync(leaseOf(first), 'utf8').split(' ')[0]).toBe(String(process.pid));
      releaseUid(first);
      releaseUid(second);
      expect(existsSync(leaseOf(first))).toBe(false);
      // The other process's lease is its own to give back.
      expect(readFileSync(leaseOf(BASE + 1), 'utf8').trim()).toBe(String(other.pid));
    } finally {
      other.kill('SIGKILL');
      for (const u of [BASE + 1, BASE + 2, BASE + 3]) void rm(leaseOf(u), { force: true });
    }
  });
});
