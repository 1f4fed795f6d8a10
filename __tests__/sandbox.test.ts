// The step sandbox (SPEC §6, issue 17 items 1, 2 and 6), with real processes as root (as in CI):
// command modules that probe /proc, the runner's file-command files and the credential endpoint of
// a sibling, and a CLI killed with SIGKILL while a step's grandchild runs.
import { afterAll, describe, expect, test } from '@jest/globals';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { startCredentialServer, type CredentialServer } from '../src/adapters/aws/credential-server.js';
import { renderReport, type RunReport } from '../src/core/report/markdown.js';
import { binaryUnreachable } from '../src/adapters/engines/terraform-sandbox.js';
import {
  cleanupSites,
  cliArgs,
  eventually,
  runCli,
  startCli,
  tempFolder,
  tf,
  writeSite,
} from './helpers/site.js';

afterAll(cleanupSites);

const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test : test.skip;

// Planted where the action keeps them: a module must find none of these anywhere.
const PLANTED = {
  GITHUB_TOKEN: 'ghp_PLANTEDgithubTOKEN0000000000000000',
  GH_TOKEN: 'gho_PLANTEDghTOKEN',
  'INPUT_GITHUB-TOKEN': 'ghs_PLANTEDinputTOKEN',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'PLANTEDidTokenRequest',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://planted.invalid/idtoken',
  ACTIONS_RUNTIME_TOKEN: 'PLANTEDruntimeToken',
  AWS_SECRET_ACCESS_KEY: 'PLANTEDambientAwsSecret',
};
const NEEDLES = Object.values(PLANTED);

/** A shell fragment: every process's environ and descriptors this step can see, searched for `needles`. */
function procScan(needles: string[], label: string): string {
  const pattern = needles.map((n) => n.replace(/[^A-Za-z0-9]/g, '.')).join('|');
  return [
    'found=""; n=0',
    'for d in /proc/[0-9]*; do',
    '  n=$((n + 1))',
    `  if tr '\\0' '\\n' < "$d/environ" 2>/dev/null | grep -qE '${pattern}|^INPUT_|^GITHUB_ENV='; then found="$found $d/environ"; fi`,
    '  for fd in "$d"/fd/*; do',
    '    t=$(readlink "$fd" 2>/dev/null) || continue',
    '    case "$t" in *gh-files*) found="$found $fd";; esac',
    '  done',
    'done',
    `echo "${label}: $n processes seen; found:\${found:- nothing}" >&2`,
  ].join('\n');
}

/** The runner's file-command files, root-owned 0644 in a folder anyone may enter. */
function fileCommandFiles(dir: string): Record<string, string> {
  const folder = join(dir, 'gh-files');
  mkdirSync(folder, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(folder, 0o755);
  const files: Record<string, string> = {};
  for (const v of ['GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    const p = join(folder, v.toLowerCase());
    writeFileSync(p, 'untouched\n', { mode: 0o644 });
    chmodSync(p, 0o644);
    files[v] = p;
  }
  return files;
}

/** Two modules in one wave: each holds a secret of its own in its environment, and hunts for the other's. */
async function probeSite(files: Record<string, string>) {
  const writes = Object.values(files)
    .map(
      (p) =>
        `if echo 'EVIL=1' >> '${p}' 2>/dev/null; then echo "wrote ${p}" >&2; else echo "denied ${p}" >&2; fi`,
    )
    .join('\n');
  const script = (me: string, other: string): string =>
    [
      `export MY_SESSION_SECRET=sibling-secret-of-${me}`,
      // Held while the sibling looks (the same wave runs both at once).
      'sleep 3 &',
      'sleep 1',
      `[ -z "$GITHUB_ENV$GITHUB_PATH$GITHUB_OUTPUT$GITHUB_STATE$GITHUB_STEP_SUMMARY$GITHUB_TOKEN" ] && echo "${me}: no file-command variables" >&2`,
      procScan([...NEEDLES, `sibling-secret-of-${other}`], me),
      writes,
      'wait',
    ].join('\n');
  return writeSite({
    modules: [
      { type: 'probe_a', name: 'a', weight: 10 },
      { type: 'probe_b', name: 'b', weight: 10 },
    ],
    catalog: { probe_a: { plan: script('a', 'b') }, probe_b: { plan: script('b', 'a') } },
  });
}

const cliEnv = (
  files: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  ...PLANTED,
  ...files,
  ...extra,
});

describe('a sandboxed module', () => {
  rootTest(
    'sees no other process: no token, no INPUT_*, no sibling secret in any /proc/*/environ or fd; cannot write the file-command files',
    async () => {
      const dir = await tempFolder('sd-sbx-');
      const files = fileCommandFiles(dir);
      const repo = await probeSite(files);
      const r = await runCli(cliArgs(repo, 'plan', '--verbose', '--credentials', 'none'), cliEnv(files));
      expect(r.code).toBe(0);
      for (const m of ['a', 'b']) {
        expect(r.stderr).toMatch(new RegExp(`${m}: no file-command variables`));
        // Its own namespace: itself, its init and its own children only — and nothing found there.
        expect(r.stderr).toMatch(new RegExp(`${m}: \\d processes seen; found: nothing`));
      }
      // One uid per concurrently running step.
      const uids = [...r.stderr.matchAll(/isolation: namespace \(uid (\d+)\)/g)].map((m) => m[1]);
      expect(uids).toHaveLength(2);
      expect(new Set(uids).size).toBe(2);
      expect(r.stderr).not.toMatch(/wrote /);
      for (const p of Object.values(files)) {
        expect(r.stderr).toContain(`denied ${p}`);
        expect(readFileSync(p, 'utf8')).toBe('untouched\n');
      }
      // No planted value in anything the run printed.
      for (const n of NEEDLES) expect(r.stdout + r.stderr).not.toContain(n);
    },
  );

  rootTest(
    'the same probe with isolation off finds the action and its sibling (the scan can fail)',
    async () => {
      const dir = await tempFolder('sd-sbx-');
      const files = fileCommandFiles(dir);
      const repo = await probeSite(files);
      const r = await runCli(
        cliArgs(repo, 'plan', '--verbose', '--credentials', 'none'),
        cliEnv(files, { SITE_DEPLOY_ISOLATION: 'off' }),
      );
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/isolation: none \(turned off \(SITE_DEPLOY_ISOLATION=off\)\)/);
      expect(r.stderr).toMatch(/a: \d+ processes seen; found: \/proc/);
      // Still stripped from the step's own environment (item 2), whatever the isolation.
      expect(r.stderr).toMatch(/a: no file-command variables/);
    },
  );
});

describe('a sibling cannot use another step’s session', () => {
  const servers: CredentialServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  test("each step's token is refused on the other's endpoint; its own works", async () => {
    const provider = async (): Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
      expiration: Date;
    }> => ({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'S',
      sessionToken: 'T',
      expiration: new Date(Date.now() + 3600_000),
    });
    const a = await startCredentialServer({ provider, region: 'eu-west-1' });
    const b = await startCredentialServer({ provider, region: 'eu-west-1' });
    servers.push(a, b);
    const ea = a.env();
    const eb = b.env();
    const get = (url: string | undefined, token: string | undefined): Promise<number> =>
      fetch(url ?? '', { headers: { Authorization: token ?? '' } }).then((r) => r.status);
    expect(await get(ea.AWS_CONTAINER_CREDENTIALS_FULL_URI, eb.AWS_CONTAINER_AUTHORIZATION_TOKEN)).toBe(401);
    expect(await get(eb.AWS_CONTAINER_CREDENTIALS_FULL_URI, ea.AWS_CONTAINER_AUTHORIZATION_TOKEN)).toBe(401);
    expect(await get(ea.AWS_CONTAINER_CREDENTIALS_FULL_URI, ea.AWS_CONTAINER_AUTHORIZATION_TOKEN)).toBe(200);
    expect(await get(eb.AWS_CONTAINER_CREDENTIALS_FULL_URI, eb.AWS_CONTAINER_AUTHORIZATION_TOKEN)).toBe(200);
  });
});

/** Pids of processes whose command line is exactly `sleep <n>`. */
function sleepers(n: number): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${n}\0`) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

describe('SIGKILL of the CLI leaves no process of its steps', () => {
  const cases: [string, Record<string, string>, number][] = [
    ['sandboxed', {}, 307],
    ['with isolation off', { SITE_DEPLOY_ISOLATION: 'off' }, 308],
  ];
  for (const [how, env, n] of cases)
    rootTest(`${how}: a grandchild started in the background is gone within 2 s`, async () => {
      const repo = await writeSite({
        modules: [{ type: 'bg', name: 'bg' }],
        catalog: { bg: { plan: `sleep ${n} &\necho started >&2\nwait` } },
      });
      const cli = await startCli(cliArgs(repo, 'plan', '--verbose', '--credentials', 'none'), env);
      expect(await eventually(() => sleepers(n).length > 0, 30_000)).toBe(true);
      cli.child.kill('SIGKILL');
      await cli.exit;
      // A wait bound, not a speed claim: the grandchild must go, and 2 s is plenty.
      expect(await eventually(() => sleepers(n).length === 0, 2_000)).toBe(true);
    });
});

describe('require-isolation', () => {
  rootTest('fails closed before any step when steps cannot be sandboxed; the evidence says why', async () => {
    const repo = await writeSite({
      modules: [{ type: 'm', name: 'm' }],
      catalog: { m: { plan: 'echo STEP-RAN >&2' } },
    });
    const r = await runCli(
      cliArgs(repo, 'plan', '--verbose', '--credentials', 'none', '--require-isolation'),
      {
        SITE_DEPLOY_ISOLATION: 'off',
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/require-isolation: module steps cannot be sandboxed here/);
    expect(r.stderr).not.toContain('STEP-RAN');
    const records = evidenceRecords(repo.root);
    expect(records.map((x) => [x.status, x.refusal?.kind])).toEqual([['refused', 'isolation']]);
  });

  rootTest('with the sandbox available the same run goes ahead, sandboxed', async () => {
    const repo = await writeSite({
      modules: [{ type: 'm', name: 'm' }],
      catalog: { m: { plan: 'echo STEP-RAN >&2' } },
    });
    const r = await runCli(
      cliArgs(repo, 'plan', '--verbose', '--credentials', 'none', '--require-isolation'),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('STEP-RAN');
    expect(evidenceRecords(repo.root).map((x) => x.isolation)).toEqual(['namespace']);
  });
});

interface RecordFields {
  status: string;
  isolation: string | null;
  refusal: { kind: string } | null;
}

/** The evidence records a repository's runs left (`.site-deploy/evidence/**.json`). */
function evidenceRecords(root: string): RecordFields[] {
  const out: RecordFields[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push(JSON.parse(readFileSync(p, 'utf8')) as RecordFields);
    }
  };
  walk(resolve(root, '.site-deploy', 'evidence'));
  return out;
}

describe('the evidence and the comment show the isolation', () => {
  rootTest('evidence: none with isolation off', async () => {
    const repo = await writeSite({ modules: [{ type: 'm', name: 'm' }], catalog: { m: {} } });
    const r = await runCli(cliArgs(repo, 'plan', '--credentials', 'none'), { SITE_DEPLOY_ISOLATION: 'off' });
    expect(r.code).toBe(0);
    expect(evidenceRecords(repo.root).map((x) => x.isolation)).toEqual(['none']);
  });

  test('the PR comment says isolation: none (or namespace) in its header', () => {
    const base: RunReport = {
      marker: '<!-- site-deploy:s:dev -->',
      command: 'plan',
      site: 's',
      environment: 'dev',
      status: 'succeeded',
      modules: [],
    };
    expect(renderReport({ ...base, isolation: 'none' })).toMatch(/<code>isolation: none<\/code>/);
    expect(renderReport({ ...base, isolation: 'namespace' })).toMatch(/<code>isolation: namespace<\/code>/);
    expect(renderReport(base)).not.toContain('isolation:');
  });
});

describe('a sandboxed Terraform module', () => {
  rootTest(
    'its local-exec runs as a uid of its own and finds no token in /proc; local state round-trips: applied, written back, then no changes',
    async () => {
      // The probe as a script beside main.tf (local-exec prints its command, which names the needles).
      const repo = await writeSite({
        modules: [{ type: 'tfprobe', name: 'p' }],
        catalog: {
          tfprobe: {
            tf: tf.data('probe', '"v1"', 'sh ./probe.sh') + tf.output('label', 'terraform_data.probe.input'),
          },
        },
      });
      writeFileSync(
        join(repo.root, 'modules', 'tfprobe', 'probe.sh'),
        [procScan(NEEDLES, 'tf'), 'echo "tf: uid $(id -u)" >&2'].join('\n'),
      );
      const r = await runCli(cliArgs(repo, 'apply', '--verbose', '--credentials', 'none'), PLANTED);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/isolation: namespace \(uid (\d+)\)/);
      expect(r.stderr).not.toMatch(/isolation: none/);
      const uid = /isolation: namespace \(uid (\d+)\)/.exec(r.stderr)?.[1];
      const out = r.stdout + r.stderr;
      // The provisioner's own uid, the step's, not root's.
      expect(out).toMatch(new RegExp(`tf: uid ${uid}\\b`));
      expect(out).toMatch(/tf: \d processes seen; found: nothing/);
      for (const n of NEEDLES) expect(out).not.toContain(n);
      // The state came back to its real place, root's and private, with what was applied.
      expect(repo.stateInput('p')).toBe('v1');
      const st = statSync(repo.statePath('p'));
      expect([st.uid, st.mode & 0o777]).toEqual([0, 0o600]);
      // Planned again, sandboxed against that state: nothing to change.
      const again = await runCli(cliArgs(repo, 'plan', '--verbose', '--credentials', 'none'));
      expect(again.code).toBe(0);
      // The kept data folder (mounted at the same place in every sandbox) is still current.
      expect(again.stderr).toContain('init skipped');
      expect(again.stdout).toMatch(/^p\s+.*no-op\s+no changes/m);
      expect(evidenceRecords(repo.root).map((x) => x.isolation)).toEqual(['namespace', 'namespace']);
    },
  );
});

describe('a Terraform binary a step cannot run', () => {
  test('is named as the reason the run stays unsandboxed; one every uid may run is fine', async () => {
    const dir = await tempFolder('sd-tfbin-'); // 0700: only its owner may enter
    const bin = join(dir, 'terraform');
    writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
    chmodSync(bin, 0o755);
    expect(binaryUnreachable(bin)).toBe(
      `the Terraform binary ${bin} cannot be run by a step's uid (a folder on its path, or the file, is not executable by others)`,
    );
    expect(binaryUnreachable('terraform', { PATH: dir })).toContain(bin);
    chmodSync(dir, 0o755);
    expect(binaryUnreachable(bin)).toBeUndefined();
  });
});
