// Terraform step cost: the bundled CLI (`apply`, as users run it) against the hand-written script
// users have today, on the same 8-module Terraform site built only on the built-in `terraform_data`
// (no network, no AWS, local state). Module k (k = 1..8) sits at weight 10·k; module 1 reads the
// environment variable `label`, module k > 1 reads module k−1's output `value` through
// `#{m<k−1>.value}`, so the modules run strictly in order. The script, `deploy.sh` (bash), does for
// each module in order: a work folder with the module's main.tf and a `*.auto.tfvars.json` (the
// previous module's output fed in with jq), `terraform init`, `terraform apply -auto-approve`,
// `terraform output -json`; its local state lives in its own folder.
// Both contenders find a `terraform` shim first on PATH that appends `<date +%s%N> <subcommand>` to a
// log and execs the real terraform: log lines ÷ 8 = Terraform processes per module step; the first
// timestamp gives the cold start. Measured in one run, alternating site-deploy and the script,
// PAIRS pairs (default 5) of each case:
//   fresh apply (`.site-deploy/`, state included, and the script's state and work removed first);
//   no-op re-apply (state present, nothing changed);
//   changed re-apply (a new `label` in the environment file / the script's argument, so every
//     module changes; `.site-deploy/` and the script's work folders kept: init could be skipped);
//   cold start: from just before spawning the CLI to its first Terraform process (fresh runs).
// Prints median wall times, the ratio site-deploy ÷ script, Terraform processes per step and the
// subcommands each contender ran. Needs terraform and jq on PATH and a built dist/cli.js.
// Run: npm run bench -- terraform-steps (the project's Node 24). PAIRS=N for more or fewer pairs,
// SD_BENCH_VERBOSE=1 to print every run's output, SD_TEST_CLI=<cli.js> to bench another build.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';

const PAIRS = Number(process.env.PAIRS ?? 5);
const MODULES = 8;
const SITE = 'bench';
const ENV = 'dev';
const REPO = process.cwd();
const NODE = resolve(REPO, 'node_modules/.bin/node');
const CLI = process.env.SD_TEST_CLI ?? 'dist/cli.js';
const LOG_VAR = 'SD_BENCH_TF_LOG';

if (!Number.isInteger(PAIRS) || PAIRS < 1) throw new Error(`PAIRS must be a positive integer, got ${PAIRS}`);

/** The catalog module every step uses: a terraform_data storing its input, and that input as output. */
const MAIN_TF = `variable "value" {
  type = any
}
resource "terraform_data" "this" {
  input = var.value
}
output "value" {
  value = var.value
}
`;

/** The baseline: one work folder per module, init + apply + output, the previous output fed in with jq. */
const DEPLOY_SH = `#!/usr/bin/env bash
# deploy.sh LABEL: apply modules m1..m${MODULES} in order; m1 gets LABEL, each later one the previous output.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
label="$1"
work="$here/.deploy/work"
state="$here/.deploy/state"
mkdir -p "$work" "$state"
prev=""
for k in $(seq 1 ${MODULES}); do
  dir="$work/m$k"
  mkdir -p "$dir"
  cp "$here/modules/link/main.tf" "$dir/main.tf"
  printf 'terraform {\\n  backend "local" {\\n    path = "%s"\\n  }\\n}\\n' "$state/m$k.tfstate" > "$dir/backend.tf"
  if [ "$k" -eq 1 ]; then
    jq -n --arg v "$label" '{value: $v}' > "$dir/inputs.auto.tfvars.json"
  else
    printf '%s' "$prev" | jq '{value: .value.value}' > "$dir/inputs.auto.tfvars.json"
  fi
  cd "$dir"
  terraform init -input=false
  terraform apply -input=false -auto-approve
  prev="$(terraform output -json)"
  cd "$here"
done
`;

/** Epoch nanoseconds on the clock `date +%s%N` reads (CLOCK_REALTIME), with sub-millisecond steps. */
const epochNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Run {
  ms: number;
  /** ms from just before spawn to the first Terraform process (NaN when none ran). */
  coldMs: number;
  /** Subcommands in the order Terraform was started. */
  commands: string[];
}

interface Case {
  name: string;
  sd: Run[];
  script: Run[];
}

function put(path: string, text: string, mode?: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  if (mode !== undefined) chmodSync(path, mode);
}

/** Spawns a command to completion; throws with its output when it exits non-zero. */
async function spawned(
  what: string,
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: string,
): Promise<Run> {
  rmSync(log, { force: true });
  const t0ns = epochNs();
  const t0 = performance.now();
  const child = spawn(file, args, {
    cwd,
    env: { ...env, [LOG_VAR]: log },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (ok, fail) => {
      child.once('error', fail);
      child.once('close', (c, s) => ok({ code: c, signal: s }));
    },
  );
  const ms = performance.now() - t0;
  if (code !== 0)
    throw new Error(
      `${what} exited ${code ?? signal}: ${file} ${args.join(' ')}\n--- stdout\n${out}\n--- stderr\n${err}`,
    );
  const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  const parsed = lines.map((l) => {
    const [ns, cmd] = l.split(' ');
    return { ns: BigInt(ns as string), cmd: cmd ?? '' };
  });
  const coldMs = parsed.length ? Number(parsed[0]!.ns - t0ns) / 1e6 : NaN;
  if (process.env.SD_BENCH_VERBOSE) console.log(`--- ${what}: stdout\n${out}--- stderr\n${err}`);
  return { ms, coldMs, commands: parsed.map((p) => p.cmd) };
}

/** `init 8, plan 8, …`: each subcommand's count per run, in order of first use. */
function commandCounts(runs: Run[]): string {
  const counts = new Map<string, number>();
  for (const r of runs) for (const c of r.commands) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].map(([c, n]) => `${c} ${+(n / runs.length).toFixed(2)}`).join(', ');
}

async function main(): Promise<void> {
  // Resolved once, before the shim goes first on PATH (`command -v` exits 1 when missing).
  const which = (tool: string): string =>
    execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  const terraform = which('terraform');
  which('jq');
  const version = (
    JSON.parse(
      execFileSync(terraform, ['version', '-json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as {
      terraform_version: string;
    }
  ).terraform_version;
  const tmp = mkdtempSync(join(tmpdir(), 'sd-bench-tfsteps-'));
  try {
    const root = join(tmp, 'repo');
    const shim = join(tmp, 'shim');
    const logs = join(tmp, 'logs');
    mkdirSync(logs, { recursive: true });
    put(
      join(shim, 'terraform'),
      `#!/bin/sh\necho "$(date +%s%N) $1" >> "$${LOG_VAR}"\nexec ${JSON.stringify(terraform)} "$@"\n`,
      0o755,
    );

    // The site: one catalog type, 8 modules chained through placeholders.
    put(
      join(root, 'modules/link/module.yaml'),
      stringify({ engine: 'terraform', services: [], outputs: ['value'] }),
    );
    put(join(root, 'modules/link/main.tf'), MAIN_TF);
    const modules = Array.from({ length: MODULES }, (_, i) => ({
      type: 'link',
      name: `m${i + 1}`,
      weight: 10 * (i + 1),
      value: i === 0 ? '#{label}' : `#{m${i}.value}`,
    }));
    put(
      join(root, 'sites', SITE, 'site.yaml'),
      stringify({
        site: {
          name: SITE,
          state: { backend: 'local' },
          modules,
          environments: [{ path: `environments/${ENV}.yaml` }],
        },
      }),
    );
    const envFile = join(root, 'sites', SITE, 'environments', `${ENV}.yaml`);
    const setLabel = (label: string): void =>
      put(envFile, stringify({ environment: ENV, variables: { label } }));
    put(join(root, 'deploy.sh'), DEPLOY_SH, 0o755);

    // Both contenders: the shim first on PATH, CI, no GitHub Actions variables, no TTY. A
    // TF_CLI_CONFIG_FILE naming a missing file (site-deploy swaps it for /dev/null) is dropped so the
    // script's Terraform does not warn on every command either.
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('GITHUB_') && !k.startsWith('ACTIONS_') && !k.startsWith('INPUT_'),
      ),
    );
    env.PATH = `${shim}${delimiter}${process.env.PATH ?? ''}`;
    env.CI = 'true';
    env.NODE_NO_WARNINGS = '1';
    delete env.SITE_DEPLOY_KEEP_WORK;
    if (env.TF_CLI_CONFIG_FILE !== undefined && !existsSync(env.TF_CLI_CONFIG_FILE))
      delete env.TF_CLI_CONFIG_FILE;

    let n = 0;
    const siteDeploy = (label: string, fresh: boolean): Promise<Run> => {
      if (fresh) rmSync(join(root, '.site-deploy'), { recursive: true, force: true });
      setLabel(label);
      return spawned(
        'site-deploy apply',
        NODE,
        [CLI, 'apply', '--root', root, '--site', SITE, '--env', ENV, '--credentials', 'none'],
        REPO,
        env,
        join(logs, `${n++}.log`),
      );
    };
    const script = (label: string, fresh: boolean): Promise<Run> => {
      if (fresh) rmSync(join(root, '.deploy'), { recursive: true, force: true });
      return spawned(
        'deploy.sh',
        'bash',
        [join(root, 'deploy.sh'), label],
        root,
        env,
        join(logs, `${n++}.log`),
      );
    };

    // Warm-up (file cache, first spawns), not counted.
    await siteDeploy('v0', true);
    await script('v0', true);

    const cases: Case[] = [];
    const fresh: Case = { name: 'fresh apply', sd: [], script: [] };
    for (let i = 0; i < PAIRS; i++) {
      fresh.sd.push(await siteDeploy('v0', true));
      fresh.script.push(await script('v0', true));
    }
    cases.push(fresh);
    // State from the last fresh apply; the same label again.
    const noop: Case = { name: 'no-op re-apply', sd: [], script: [] };
    for (let i = 0; i < PAIRS; i++) {
      noop.sd.push(await siteDeploy('v0', false));
      noop.script.push(await script('v0', false));
    }
    cases.push(noop);
    const changed: Case = { name: 'changed re-apply, init cached', sd: [], script: [] };
    for (let i = 0; i < PAIRS; i++) {
      changed.sd.push(await siteDeploy(`v${i + 1}`, false));
      changed.script.push(await script(`v${i + 1}`, false));
    }
    cases.push(changed);

    const targets: Record<string, { ratio: string; procs: string } | undefined> = {
      'fresh apply': { ratio: ' (target ≤ 1.3)', procs: ' (target ≤ 4)' },
      'no-op re-apply': { ratio: ' (target ≤ 1.0)', procs: ' (target ≤ 3)' },
    };
    console.log(
      `terraform ${version} (${terraform}), ${MODULES} modules in order, ${PAIRS} pairs per case, node ${process.version}`,
    );
    for (const c of cases) {
      const target = targets[c.name];
      const sdMs = median(c.sd.map((r) => r.ms));
      const scMs = median(c.script.map((r) => r.ms));
      const perStep = (runs: Run[]): string =>
        `${+(median(runs.map((r) => r.commands.length)) / MODULES).toFixed(2)}`;
      console.log(
        `${c.name}: site-deploy median ${sdMs.toFixed(0)} ms, script ${scMs.toFixed(0)} ms → ratio ${(sdMs / scMs).toFixed(2)}×${target?.ratio ?? ''}; terraform processes per step: site-deploy ${perStep(c.sd)}, script ${perStep(c.script)}${target?.procs ?? ''}`,
      );
      console.log(
        `  per run: site-deploy [${c.sd.map((r) => r.ms.toFixed(0)).join(', ')}] ms — ${commandCounts(c.sd)}; script [${c.script.map((r) => r.ms.toFixed(0)).join(', ')}] ms — ${commandCounts(c.script)}`,
      );
    }
    const cold = fresh.sd.map((r) => r.coldMs);
    console.log(
      `cold start to first terraform process: median ${median(cold).toFixed(0)} ms (target ≤ 150) [${cold.map((x) => x.toFixed(0)).join(', ')}]; script ${median(fresh.script.map((r) => r.coldMs)).toFixed(0)} ms`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
