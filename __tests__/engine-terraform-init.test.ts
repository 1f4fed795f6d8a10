// Terraform steps as cheap as a hand-written script (real Terraform, offline): `init` only when the
// module's kept data folder is not current, one provider plugin cache for every step, no `show` on
// a no-op, and outputs read from the state the step wrote — equal to what `output -json` gives.
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOutputJson, TerraformEngine } from '../src/adapters/engines/terraform.js';
import { withCacheLock } from '../src/adapters/engines/cache-lock.js';
import { INIT_STAMP, stampDataDir } from '../src/adapters/engines/terraform-init.js';
import type { EngineStepRequest } from '../src/adapters/engines/types.js';
import { catalogCopy, cleanTemp, request, tempDir } from './fixtures/engine/harness.js';
import { cleanupSites, cliSnapshot, filePutter, runCli, tempFolder } from './helpers/site.js';

const engine = new TerraformEngine();
const PASSWORD = 'pa55-init-cache-never-in-logs';

afterAll(async () => {
  cleanTemp();
  await cleanupSites();
});

/** A `terraform` first on PATH that logs each call's subcommand (and cache/data folders) before running the real one. */
function shim(): { path: string; calls: () => string[][] } {
  const bin = tempDir('sd-tfshim-');
  const log = join(bin, 'calls.log');
  const real = spawnSync('sh', ['-c', 'command -v terraform'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(
    join(bin, 'terraform'),
    `#!/bin/sh\nprintf '%s %s %s\\n' "$1" "\${TF_PLUGIN_CACHE_DIR:--}" "\${TF_DATA_DIR:--}" >> '${log}'\nexec '${real}' "$@"\n`,
  );
  chmodSync(join(bin, 'terraform'), 0o755);
  return {
    path: `${bin}:${process.env.PATH}`,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(' '))
        : [],
  };
}

/** One module's steps, run again and again with its data folder kept, as runs in one checkout are. */
function moduleSteps(): {
  catalog: string;
  dataDir: string;
  statePath: string;
  run(
    over?: Partial<EngineStepRequest>,
  ): Promise<{ r: Awaited<ReturnType<TerraformEngine['run']>>; calls: string[] }>;
} {
  const catalog = catalogCopy('site');
  const dataDir = join(tempDir('sd-data-'), 'site');
  const cache = tempDir('sd-cache-');
  const statePath = join(tempDir('sd-state-'), 'site.tfstate');
  const tf = shim();
  let seen = 0;
  return {
    catalog,
    dataDir,
    statePath,
    async run(over = {}) {
      const r = await engine.run(
        request({
          moduleDir: catalog,
          inputs: { name: 'portal', password: PASSWORD },
          backend: { kind: 'local', path: statePath },
          dataDir,
          pluginCacheDir: cache,
          env: { PATH: tf.path },
          ...over,
        }),
      );
      const all = tf.calls();
      const calls = all.slice(seen).map((c) => c[0] ?? '');
      seen = all.length;
      if (r.status === 'failed') throw new Error(r.error);
      return { r, calls };
    },
  };
}

describe('init only when needed', () => {
  test('a fresh step runs 4 processes; an unchanged re-run skips init (1 on a no-op, 3 with changes)', async () => {
    const m = moduleSteps();
    const first = await m.run();
    expect(first.calls).toEqual(['init', 'plan', 'show', 'apply']);
    expect(existsSync(join(m.dataDir, INIT_STAMP))).toBe(true);

    const noop = await m.run();
    expect(noop.r.status).toBe('no-op');
    expect(noop.calls).toEqual(['plan']);
    // The no-op still hands downstream modules every output, sensitive ones flagged.
    expect(noop.r.outputs).toEqual(first.r.outputs);

    // New inputs are not a reason to init: only code, lock file, backend and binary are.
    const changed = await m.run({ inputs: { name: 'shop', password: PASSWORD } });
    expect(changed.r.status).toBe('succeeded');
    expect(changed.calls).toEqual(['plan', 'show', 'apply']);
    expect(changed.r.outputs.greeting?.value).toBe('hello shop');
  }, 120_000);

  test("changing the module's code, its lock file or the backend re-initialises", async () => {
    const m = moduleSteps();
    await m.run();
    expect((await m.run()).calls).toEqual(['plan']);

    writeFileSync(join(m.catalog, 'extra.tf'), '# a comment is code too\n');
    expect((await m.run()).calls[0]).toBe('init');
    expect((await m.run()).calls).toEqual(['plan']);

    // A committed lock file (no providers: the module uses only built-in ones).
    writeFileSync(
      join(m.catalog, '.terraform.lock.hcl'),
      '# This file is maintained automatically by "terraform init".\n',
    );
    expect((await m.run()).calls[0]).toBe('init');
    expect((await m.run()).calls).toEqual(['plan']);

    // Same module, its state somewhere else: a new backend configuration.
    const moved = join(tempDir('sd-state-'), 'moved.tfstate');
    const r = await m.run({ backend: { kind: 'local', path: moved } });
    expect(r.calls.slice(0, 2)).toEqual(['init', 'plan']);
    expect(existsSync(moved)).toBe(true);
  }, 180_000);

  test('a deleted or corrupted data folder is rebuilt, never trusted', async () => {
    const m = moduleSteps();
    await m.run();

    rmSync(m.dataDir, { recursive: true, force: true });
    expect((await m.run()).calls).toEqual(['init', 'plan']);

    // Garbage where Terraform keeps the backend: seen before Terraform is asked.
    writeFileSync(join(m.dataDir, 'terraform.tfstate'), 'garbage');
    expect((await m.run()).calls).toEqual(['init', 'plan']);

    // A folder that passes every check and still is not what Terraform needs (here: a forged
    // stamp over an emptied folder): the plan says so, and the step rebuilds the folder once.
    const stamp = JSON.parse(readFileSync(join(m.dataDir, INIT_STAMP), 'utf8')) as { key: string };
    rmSync(join(m.dataDir, 'terraform.tfstate'));
    await stampDataDir(m.dataDir, stamp.key);
    const healed = await m.run();
    expect(healed.calls).toEqual(['plan', 'init', 'plan']);
    expect(healed.r.status).toBe('no-op');
    expect((await m.run()).calls).toEqual(['plan']);
  }, 180_000);
});

describe('lock-timeout', () => {
  test('a timeout in days reaches Terraform as seconds (Go durations have no days)', async () => {
    const m = moduleSteps();
    const logs: string[] = [];
    const { r } = await m.run({ lockTimeout: '1d', log: (c) => void logs.push(c) });
    expect(r.status).toBe('succeeded');
    expect(logs.join('')).toContain('-lock-timeout=86400s');
  }, 120_000);
});

describe('outputs without `output -json`', () => {
  test('after an apply and on a no-op they equal what `terraform output -json` reads from the state', async () => {
    const m = moduleSteps();
    const applied = await m.run();
    const fromTerraform = (): ReturnType<typeof parseOutputJson> => {
      const out = spawnSync('terraform', ['output', '-json', `-state=${m.statePath}`], {
        cwd: tempDir('sd-empty-'),
        encoding: 'utf8',
        env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
      });
      if (out.status !== 0) throw new Error(out.stderr);
      return parseOutputJson(out.stdout);
    };
    expect(applied.r.outputs).toEqual(fromTerraform());
    expect(applied.r.outputs.password).toEqual({ value: PASSWORD, sensitive: true });
    const noop = await m.run();
    expect(noop.r.outputs).toEqual(fromTerraform());
  }, 120_000);
});

describe('one provider plugin cache', () => {
  test('every Terraform process of a run sees the same TF_PLUGIN_CACHE_DIR; each module its own data folder; a sensitive output stays redacted', async () => {
    await cliSnapshot();
    const root = await tempFolder('sd-cache-site-');
    const put = filePutter(root);
    await put('modules/box/module.yaml', { engine: 'terraform', services: [], outputs: ['label', 'secret'] });
    await put(
      'modules/box/main.tf',
      `variable "label" {
  type = string
}
variable "secret" {
  type      = string
  sensitive = true
}
resource "terraform_data" "box" {
  input = var.label
}
output "label" {
  value = var.label
}
output "secret" {
  value     = var.secret
  sensitive = true
}
`,
    );
    await put('sites/shop/site.yaml', {
      site: {
        name: 'shop',
        state: { backend: 'local' },
        modules: [
          { type: 'box', name: 'one', weight: 10, label: 'one', secret: '#{secret}' },
          { type: 'box', name: 'two', weight: 10, label: 'two', secret: '#{secret}' },
          { type: 'box', name: 'three', weight: 20, label: '#{one.label}', secret: '#{one.secret}' },
        ],
        environments: [{ path: 'environments/dev.yaml' }],
      },
    });
    await put('sites/shop/environments/dev.yaml', { environment: 'dev', variables: { secret: PASSWORD } });
    const tf = shim();
    const r = await runCli(
      ['apply', '--root', root, '--site', 'shop', '--env', 'dev', '--credentials', 'none', '--verbose'],
      {
        PATH: tf.path,
        TF_PLUGIN_CACHE_DIR: '',
      },
    );
    if (r.code !== 0) throw new Error(`${r.stdout}\n${r.stderr}`);
    const calls = tf.calls();
    expect(calls.length).toBeGreaterThanOrEqual(3 * 4);
    const caches = new Set(calls.map((c) => c[1]));
    expect([...caches]).toEqual([join(root, '.site-deploy', 'plugin-cache')]);
    const dataDirs = new Set(calls.map((c) => c[2]));
    expect([...dataDirs].sort()).toEqual(
      ['one', 'three', 'two'].map((m) => join(root, '.site-deploy', 'terraform', 'shop', 'dev', m)),
    );
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // Module three was initialised ahead of its step, while one and two ran: once, and its log
    // (the init included) is still in its own group.
    expect(calls.filter((c) => c[0] === 'init' && c[2]?.endsWith('/three'))).toHaveLength(1);
    const shown = r.stdout + r.stderr;
    expect(shown.match(/\$ terraform init/g)).toHaveLength(3);
    const group = shown.slice(shown.indexOf('three (box)'));
    expect(group).toMatch(/\$ terraform init[\s\S]*\$ terraform plan/);

    // The user's own cache wins.
    const own = tempDir('sd-own-cache-');
    const again = await runCli(
      ['apply', '--root', root, '--site', 'shop', '--env', 'dev', '--credentials', 'none'],
      {
        PATH: tf.path,
        TF_PLUGIN_CACHE_DIR: own,
      },
    );
    if (again.code !== 0) throw new Error(`${again.stdout}\n${again.stderr}`);
    const later = tf.calls().slice(calls.length);
    expect(new Set(later.map((c) => c[1]))).toEqual(new Set([own]));
    // Nothing changed: one plan per module, nothing else.
    expect(later.map((c) => c[0])).toEqual(['plan', 'plan', 'plan']);
  }, 180_000);

  test('inits sharing a cache never overlap, in one process; a lock left by a dead process is taken over', async () => {
    const cache = tempDir('sd-lock-cache-');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 4 }, () =>
        withCacheLock(cache, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((ok) => setTimeout(ok, 30));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    // pid 2^22+1 is above Linux's pid_max default: no such process.
    writeFileSync(join(cache, '.site-deploy-init.lock'), String(4_194_305));
    let ran = false;
    await withCacheLock(cache, async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    expect(existsSync(join(cache, '.site-deploy-init.lock'))).toBe(false);
  });
});

describe('the plugin cache lock across processes', () => {
  test('an init in another process holding the lock is waited for, then the lock is taken', async () => {
    const cache = tempDir('sd-xlock-cache-');
    const marks = join(cache, 'marks.log');
    // Another site-deploy process (Node strips the types of this dependency-light module).
    const holder = spawn(
      resolve('node_modules/.bin/node'),
      [
        '--input-type=module',
        '-e',
        `const { withCacheLock } = await import(${JSON.stringify(pathToFileURL(resolve('src/adapters/engines/cache-lock.ts')).href)});
         const { appendFileSync } = await import('node:fs');
         await withCacheLock(${JSON.stringify(cache)}, async () => {
           appendFileSync(${JSON.stringify(marks)}, 'other in\\n');
           await new Promise((ok) => setTimeout(ok, 1500));
           appendFileSync(${JSON.stringify(marks)}, 'other out\\n');
         });`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    holder.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((ok) => holder.once('close', ok));
    // Wait until the other process is inside.
    for (let i = 0; i < 100 && !(existsSync(marks) && readFileSync(marks, 'utf8').includes('in')); i++)
      await new Promise((ok) => setTimeout(ok, 50));
    await withCacheLock(cache, async () => {
      writeFileSync(marks, readFileSync(marks, 'utf8') + 'this in\n');
    });
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(readFileSync(marks, 'utf8').split('\n').filter(Boolean)).toEqual([
      'other in',
      'other out',
      'this in',
    ]);
  }, 30_000);
});
