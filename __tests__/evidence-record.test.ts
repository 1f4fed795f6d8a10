// The evidence record (SPEC §8.1) written by real plan/apply runs of the bundled CLI with REAL
// Terraform: one per run — succeeded, failed, cancelled, refused — each valid against
// schemas/evidence.schema.json, canonical JSON whose sha256 is the digest the next record names,
// with what changed since; and never a sensitive value.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { recordDigest, type EvidenceRecord } from '../src/core/evidence/record.js';
import {
  cleanupSites,
  cliArgs,
  cliSnapshot,
  eventually,
  markerFolder,
  runCli,
  startCli,
  TF_MODULES,
  type SiteRepo,
  writeSite,
} from './helpers/site.js';

const SCHEMA = JSON.parse(readFileSync('schemas/evidence.schema.json', 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(SCHEMA);

beforeAll(async () => {
  await cliSnapshot();
}, 300_000);
afterAll(cleanupSites);

/** Parses a record file, checks it against the schema and that its bytes are canonical JSON. */
function readRecord(path: string): { record: EvidenceRecord; bytes: string } {
  const bytes = readFileSync(path, 'utf8');
  const record = JSON.parse(bytes) as EvidenceRecord;
  const ok = validate(record);
  expect(ok ? [] : validate.errors).toEqual([]);
  expect(bytes).toBe(`${canonicalize(record)}\n`);
  return { record, bytes };
}

/** The record files of a site × environment, oldest first. */
function recordFiles(repo: SiteRepo): string[] {
  const dir = join(repo.root, '.site-deploy', 'evidence', repo.site, repo.env);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

const SECRET = 'EVIDENCE-planted-password-5c1e9a';

const secretModule = {
  tf: `variable "password" {
  type      = string
  sensitive = true
}
variable "rev" {
  type    = any
  default = "1"
}
resource "terraform_data" "db" {
  input            = nonsensitive(var.password)
  triggers_replace = [var.rev]
}
output "endpoint" {
  value = "db.internal"
}
output "password" {
  value     = var.password
  sensitive = true
}
`,
  inputs: { password: { type: 'string', required: true, sensitive: true }, rev: { type: 'string' } },
  outputs: ['endpoint', 'password'],
};

describe('a record per run', () => {
  test('plan then apply: each writes a valid record; --json names it; the apply chains to nothing, a second plan to the first by digest', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'db', name: 'db', weight: 10, password: '#{password}', rev: '#{rev}' },
        { type: 'step', name: 'app', weight: 20, value: '#{db.endpoint}' },
      ],
      catalog: { db: secretModule, step: TF_MODULES.step! },
      variables: { password: SECRET, rev: '1' },
    });
    const plan = await runCli(cliArgs(repo, 'plan', '--json', '--credentials', 'none'));
    expect(plan.code).toBe(0);
    const planDoc = JSON.parse(plan.stdout) as { evidence: string };
    const first = readRecord(planDoc.evidence);
    expect(first.record).toMatchObject({
      schema_version: 1,
      command: 'plan',
      status: 'succeeded',
      refusal: null,
      error: null,
      site: 's',
      environment: 'dev',
      lifecycle: 'long-lived',
      account: null,
      previous: null,
    });
    expect(first.record.run).toMatchObject({ event: 'local', attempt: 1, pull_request: null, url: null });
    expect(first.record.run.id).toMatch(/^\d{8}T\d{9}Z$/);
    expect(planDoc.evidence).toBe(
      join(repo.root, '.site-deploy/evidence/s/dev', `${first.record.run.id}-1-plan.json`),
    );
    expect(first.record.modules.map((m) => [m.name, m.type, m.weight, m.status])).toEqual([
      ['db', 'db', 10, 'succeeded'],
      ['app', 'step', 20, 'succeeded'],
    ]);
    const db = first.record.modules[0]!;
    expect(db.counts).toEqual({ add: 1, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 });
    expect(db.resources).toEqual({ create: ['terraform_data.db'] });
    expect(db.outputs).toEqual(['endpoint', 'password']); // names, never values
    expect(db.plan_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(db.plan_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.record.plan_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Every config file the run read and every file of the release (the catalog folders it uses), by sha256.
    expect(Object.keys(first.record.config.files).sort()).toEqual([
      'modules/db/main.tf',
      'modules/db/module.yaml',
      'modules/step/main.tf',
      'modules/step/module.yaml',
      'sites/s/environments/dev.yaml',
      'sites/s/site.yaml',
    ]);
    expect(statSync(planDoc.evidence).mode & 0o777).toBe(0o600);

    const apply = await runCli(cliArgs(repo, 'apply', '--credentials', 'none'));
    expect(apply.code).toBe(0);
    const applyPath = recordFiles(repo).find((f) => f.endsWith('-apply.json'))!;
    const applied = readRecord(applyPath);
    expect(apply.stdout).toContain(`\nevidence: ${applyPath} (${recordDigest(applied.bytes)})\n`);
    expect(applied.record.previous).toBeNull(); // the first apply: chains only to applies

    // Same config, same plan: the second plan names the first by digest; nothing changed.
    await repo.setVariables({ password: SECRET, rev: '1' });
    const again = await runCli(cliArgs(repo, 'plan', '--json', '--credentials', 'none'));
    const second = readRecord((JSON.parse(again.stdout) as { evidence: string }).evidence);
    expect(second.record.previous).toEqual({
      digest: recordDigest(first.bytes),
      run: { id: first.record.run.id, attempt: 1, url: null },
      changed: {
        files: { added: [], removed: [], changed: [] },
        modules: second.record.previous!.changed.modules,
      },
    });
    // After the apply the plan is a no-op: both modules' plans changed from "create" to nothing.
    expect(second.record.status).toBe('no-op');
    expect(second.record.previous!.changed.modules).toEqual(['app', 'db']);

    // A changed variable: the environment file changed, and only db's plan digest.
    await repo.setVariables({ password: SECRET, rev: '2' });
    const third = await runCli(cliArgs(repo, 'plan', '--json', '--credentials', 'none'));
    const changed = readRecord((JSON.parse(third.stdout) as { evidence: string }).evidence);
    expect(changed.record.previous?.digest).toBe(recordDigest(second.bytes));
    expect(changed.record.previous?.changed).toEqual({
      files: { added: [], removed: [], changed: ['sites/s/environments/dev.yaml'] },
      modules: ['db'],
    });
    expect(changed.record.modules[0]!.resources).toEqual({ replace: ['terraform_data.db'] });

    // The planted secret is in the state (Terraform's business), never in a record.
    const files = recordFiles(repo);
    expect(files).toHaveLength(4);
    for (const f of files) expect(readFileSync(f, 'utf8')).not.toContain(SECRET);
    expect(JSON.stringify(repo.readState('db'))).toContain(SECRET); // the probe was really planted
  }, 180_000);

  test('a failed apply: status failed, the module error (its first line), the halted modules', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'step', name: 'net', weight: 10 },
        { type: 'step', name: 'sql', weight: 20, exit_code: 3 },
        { type: 'step', name: 'app', weight: 30 },
      ],
      catalog: { step: TF_MODULES.step! },
    });
    const r = await runCli(cliArgs(repo, 'apply', '--json', '--credentials', 'none'));
    expect(r.code).toBe(1);
    const { record } = readRecord((JSON.parse(r.stdout) as { evidence: string }).evidence);
    expect(record.status).toBe('failed');
    expect(record.modules.map((m) => [m.name, m.status])).toEqual([
      ['net', 'succeeded'],
      ['sql', 'failed'],
      ['app', 'halted'],
    ]);
    expect(record.modules[1]!.error).toMatch(/\S/);
    expect(record.modules[1]!.error).not.toContain('\n');
    expect(record.modules[0]!.error).toBeNull();
  }, 120_000);

  test('a cancelled apply (SIGTERM): status cancelled, written before the process exits', async () => {
    const dir = await markerFolder();
    const marker = join(dir, 'started');
    const repo = await writeSite({
      modules: [
        { type: 'step', name: 'db', weight: 10, marker, sleep: 30 },
        { type: 'step', name: 'app', weight: 20 },
      ],
      catalog: { step: TF_MODULES.step! },
    });
    const cli = await startCli(cliArgs(repo, 'apply', '--json', '--credentials', 'none'));
    expect(await eventually(() => existsSync(marker), 30_000)).toBe(true);
    cli.child.kill('SIGTERM');
    const r = await cli.exit;
    expect(r.code).toBe(1);
    const { record } = readRecord((JSON.parse(r.stdout) as { evidence: string }).evidence);
    expect(record.status).toBe('cancelled');
    expect(record.modules.map((m) => [m.name, m.status])).toEqual([
      ['db', 'cancelled'],
      ['app', 'cancelled'],
    ]);
  }, 120_000);

  test('refused by the run lock: status refused with the lock message, no module ran', async () => {
    const dir = await markerFolder();
    const marker = join(dir, 'started');
    const repo = await writeSite({
      modules: [{ type: 'step', name: 'db', weight: 10, marker, sleep: 30 }],
      catalog: { step: TF_MODULES.step! },
    });
    const holder = await startCli(cliArgs(repo, 'apply', '--credentials', 'none'));
    try {
      expect(await eventually(() => existsSync(marker), 30_000)).toBe(true);
      const r = await runCli(cliArgs(repo, 'plan', '--credentials', 'none', '--lock-timeout', '0s'));
      expect(r.code).toBe(1);
      const path = recordFiles(repo).find((f) => f.endsWith('-plan.json'))!;
      expect(r.stderr).toContain(`evidence: ${path}`);
      const { record } = readRecord(path);
      expect(record).toMatchObject({ command: 'plan', status: 'refused', modules: [], plan_digest: null });
      expect(record.refusal?.kind).toBe('lock');
      expect(record.refusal?.message).toMatch(/s\/dev is locked/);
    } finally {
      holder.child.kill('SIGTERM');
      await holder.exit;
    }
  }, 120_000);

  test('a record is never overwritten: a file already at its name fails the run closed', async () => {
    const repo = await writeSite({
      modules: [{ type: 'step', name: 'a', weight: 10 }],
      catalog: { step: TF_MODULES.step! },
      settings: { state: { backend: 'local' } },
    });
    // In Actions the name is <run id>-<attempt>-<command>: the same job running plan twice collides.
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_REPOSITORY: 'org/repo',
      GITHUB_SHA: 'c'.repeat(40),
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUNNER_ENVIRONMENT: 'self-hosted',
    };
    const first = await runCli(cliArgs(repo, 'plan', '--credentials', 'none'), env);
    expect(first.code).toBe(0);
    const path = join(repo.root, '.site-deploy/evidence/s/dev/4242-1-plan.json');
    const bytes = readFileSync(path, 'utf8');
    expect((JSON.parse(bytes) as EvidenceRecord).run).toMatchObject({
      id: '4242',
      attempt: 1,
      event: 'unknown',
    });
    const second = await runCli(cliArgs(repo, 'plan', '--credentials', 'none'), env);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/evidence record .*4242-1-plan\.json already exists/);
    expect(readFileSync(path, 'utf8')).toBe(bytes);
  }, 120_000);
});
