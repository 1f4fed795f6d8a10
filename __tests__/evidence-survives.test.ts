// Evidence that survives (SPEC §8.1, issue 18 item 2): a record is written under a temporary name,
// fsynced and linked into place — a SIGKILL mid-write never leaves a partial file under a record's
// name; a file under a record's name that does not parse or validate (planted, empty, truncated) is
// a broken link the next record names, chaining to the last valid record, never a crash; a folder
// that cannot be written is an error naming it. Real CLI runs with real Terraform, real processes.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { recordDigest, type EvidenceRecord } from '../src/core/evidence/record.js';
import { evidenceSchemaFailure } from '../src/core/evidence/validate.js';
import { evidenceDir, readChain, writeRecord } from '../src/adapters/evidence/folder.js';
import { SiteDeployError } from '../src/core/errors.js';
import {
  cleanupSites,
  cliArgs,
  cliSnapshot,
  runCli,
  tempFolder,
  TF_MODULES,
  writeSite,
  type SiteRepo,
} from './helpers/site.js';

const SCHEMA = JSON.parse(readFileSync('schemas/evidence.schema.json', 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(SCHEMA);

const SECRET = 'SURVIVES-planted-secret-7d41c0';

beforeAll(async () => {
  await cliSnapshot();
}, 300_000);
afterAll(cleanupSites);

/** A valid record (a plan of s/dev), as the model has it. */
function sample(overrides: Partial<EvidenceRecord> = {}): EvidenceRecord {
  return {
    schema_version: 1,
    command: 'plan',
    status: 'succeeded',
    refusal: null,
    error: null,
    site: 's',
    environment: 'dev',
    lifecycle: 'long-lived',
    account: null,
    region: null,
    run: {
      repository: 'org/repo',
      pull_request: null,
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      ref_protected: null,
      actor: 'me',
      triggering_actor: 'me',
      event: 'local',
      workflow_ref: null,
      id: '20260101T000000000Z',
      attempt: 1,
      url: null,
    },
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:00:01.000Z',
    config: {
      digest: `sha256:${'c'.repeat(64)}`,
      files: { 'sites/s/site.yaml': 'd'.repeat(64) },
      site_digest: null,
    },
    modules: [],
    plan_digest: null,
    policy: { decisions: [], exceptions: [] },
    binding: null,
    promotion: null,
    break_glass: null,
    isolation: null,
    previous: null,
    ...overrides,
  };
}

/** Reads a record file and checks it against the published schema (ajv). */
function validRecord(path: string): { record: EvidenceRecord; bytes: string } {
  const bytes = readFileSync(path, 'utf8');
  const record = JSON.parse(bytes) as EvidenceRecord;
  expect(validate(record) ? [] : validate.errors).toEqual([]);
  return { record, bytes };
}

const dirOf = (repo: SiteRepo): string => evidenceDir(repo.root, repo.site, repo.env);

describe('the run-time schema check agrees with the published schema', () => {
  const mutations: [string, (r: Record<string, unknown>) => unknown][] = [
    ['valid as it is', (r) => r],
    [
      'with broken_links and recovered',
      (r) => ({
        ...r,
        broken_links: [{ name: 'x-1-plan.json', reason: 'does not parse' }],
        recovered: {
          run: { id: null, attempt: null, url: null },
          command: 'apply',
          host: 'h',
          pid: 7,
          user: 'u',
          started_at: 'then',
          steps: ['db'],
        },
      }),
    ],
    [
      'the planted three-field record',
      () => ({ schema_version: 1, command: 'plan', finished_at: '9999-12-31T00:00:00Z' }),
    ],
    ['no run', (r) => ({ ...r, run: undefined })],
    ['run is null', (r) => ({ ...r, run: null })],
    ['run.attempt 0', (r) => ({ ...r, run: { ...(r.run as object), attempt: 0 } })],
    ['a bad digest', (r) => ({ ...r, config: { ...(r.config as object), digest: 'sha256:xyz' } })],
    ['a file digest not hex', (r) => ({ ...r, config: { ...(r.config as object), files: { a: 'nothex' } } })],
    ['a bad date', (r) => ({ ...r, finished_at: 'yesterday' })],
    ['an unknown status', (r) => ({ ...r, status: 'fine' })],
    ['an extra property', (r) => ({ ...r, [SECRET]: 1 })],
    ['schema_version 2', (r) => ({ ...r, schema_version: 2 })],
    ['empty broken_links', (r) => ({ ...r, broken_links: [] })],
    ['a module missing a field', (r) => ({ ...r, modules: [{ name: 'x' }] })],
    ['an array', () => []],
    ['null', () => null],
  ];
  test.each(mutations)('%s', (_name, mutate) => {
    const doc = mutate(JSON.parse(JSON.stringify(sample())) as Record<string, unknown>);
    const plain = JSON.parse(JSON.stringify(doc ?? null)) as unknown;
    const failure = evidenceSchemaFailure(plain);
    expect(failure === undefined).toBe(validate(plain));
    // The reason never repeats the document's own keys or values.
    expect(JSON.stringify(failure ?? {})).not.toContain(SECRET);
  });
});

describe('broken links of the chain', () => {
  test('a malformed, an empty and a schema-invalid latest record: the next plan exits 0, chains to the last valid one and names each; the one after names none', async () => {
    const repo = await writeSite({
      modules: [{ type: 'step', name: 'db', weight: 10 }],
      catalog: { step: TF_MODULES.step! },
    });
    const first = await runCli(cliArgs(repo, 'plan', '--json', '--credentials', 'none'));
    expect(first.code).toBe(0);
    const valid = validRecord((JSON.parse(first.stdout) as { evidence: string }).evidence);

    // A module (or anyone) plants files under record names, all sorting and "finishing" after it.
    const dir = dirOf(repo);
    writeFileSync(join(dir, '99990101T000000000Z-1-plan.json'), '');
    writeFileSync(
      join(dir, '99990102T000000000Z-1-plan.json'),
      `{"schema_version":1,"command":"plan","x":"${SECRET}`,
    );
    writeFileSync(
      join(dir, '99990103T000000000Z-1-plan.json'),
      JSON.stringify({
        schema_version: 1,
        command: 'plan',
        finished_at: '9999-12-31T23:59:59.999Z',
        [SECRET]: SECRET,
      }),
    );

    const second = await runCli(cliArgs(repo, 'plan', '--json', '--credentials', 'none'));
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/internal error/);
    const next = validRecord((JSON.parse(second.stdout) as { evidence: string }).evidence);
    expect(next.record.previous?.digest).toBe(recordDigest(valid.bytes));
    expect(next.record.previous?.run.id).toBe(valid.record.run.id);
    expect(next.record.broken_links).toEqual([
      { name: '99990101T000000000Z-1-plan.json', reason: 'is empty (0 bytes)' },
      { name: '99990102T000000000Z-1-plan.json', reason: 'does not parse (it ends mid-document: truncated)' },
      {
        name: '99990103T000000000Z-1-plan.json',
        reason: 'fails the schema at /status: wants this property (missing)',
      },
    ]);
    // The planted secret reaches no record and no output.
    for (const text of [second.stdout, second.stderr, next.bytes]) expect(text).not.toContain(SECRET);

    // Named once: the next record chains to the second and names nothing more.
    const third = await runCli(cliArgs(repo, 'plan', '--json', '--credentials', 'none'));
    expect(third.code).toBe(0);
    const last = validRecord((JSON.parse(third.stdout) as { evidence: string }).evidence);
    expect(last.record.previous?.digest).toBe(recordDigest(next.bytes));
    expect(last.record.broken_links).toBeUndefined();
  }, 180_000);

  test('apply over a planted apply record exits 0 as it would otherwise, and names it', async () => {
    const repo = await writeSite({
      modules: [{ type: 'step', name: 'db', weight: 10 }],
      catalog: { step: TF_MODULES.step! },
    });
    mkdirSync(dirOf(repo), { recursive: true });
    writeFileSync(
      join(dirOf(repo), '99990101T000000000Z-1-apply.json'),
      '{"schema_version":1,"command":"apply","finished_at":"9999-12-31T23:59:59Z"}',
    );
    const r = await runCli(cliArgs(repo, 'apply', '--json', '--credentials', 'none'));
    expect(r.code).toBe(0);
    const { record } = validRecord((JSON.parse(r.stdout) as { evidence: string }).evidence);
    expect(record.status).toBe('succeeded');
    expect(record.previous).toBeNull();
    expect(record.broken_links).toEqual([
      {
        name: '99990101T000000000Z-1-apply.json',
        reason: 'fails the schema at /status: wants this property (missing)',
      },
    ]);
  }, 120_000);

  test('writeRecord returns the broken links it named', async () => {
    const root = await tempFolder();
    await writeRecord(root, sample());
    const dir = evidenceDir(root, 's', 'dev');
    writeFileSync(join(dir, 'zz-1-plan.json'), '{"schema_version":1,"command":"plan","run":');
    const written = await writeRecord(
      root,
      sample({
        run: { ...sample().run, id: '20260101T000000001Z' },
        finished_at: '2026-01-01T00:00:02.000Z',
      }),
    );
    expect(written.broken).toEqual([
      { name: 'zz-1-plan.json', reason: 'does not parse (it ends mid-document: truncated)' },
    ]);
    expect(written.record.broken_links).toEqual(written.broken);
  });
});

describe('a folder that cannot be written', () => {
  test('a file where the evidence folder should be: an evidence error naming the folder and the file, in plain words', async () => {
    const root = await tempFolder();
    mkdirSync(join(root, '.site-deploy', 'evidence'), { recursive: true });
    writeFileSync(join(root, '.site-deploy', 'evidence', 's'), 'not a folder');
    const e = await writeRecord(root, sample()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SiteDeployError);
    expect((e as SiteDeployError).code).toBe('evidence');
    expect((e as SiteDeployError).message).toBe(
      `cannot write the evidence record in ${evidenceDir(root, 's', 'dev')}: a file is where a folder should be ` +
        `(${join(root, '.site-deploy', 'evidence', 's')}). Make it a folder this user can write, then run again`,
    );
  });
});

describe('SIGKILL while a large record is written', () => {
  const child = resolve('__tests__/helpers/write-records.mjs');

  /** Resolves once `check()` holds, polling every few milliseconds (no deadline: the test's own). */
  const when = (check: () => boolean): Promise<void> =>
    new Promise((ok) => {
      const t = setInterval(() => {
        if (check()) {
          clearInterval(t);
          ok();
        }
      }, 2);
    });

  test('no file under a record name is ever partial; the next write succeeds and ignores the temporaries', async () => {
    const root = await tempFolder();
    const template = join(root, 'template.json');
    writeFileSync(template, JSON.stringify(sample()));
    const dir = evidenceDir(root, 's', 'dev');
    const seed = await writeRecord(root, sample());
    let killedMidWrite = 0;
    for (let round = 0; round < 5; round++) {
      const p = spawn(
        process.execPath,
        ['--experimental-transform-types', '--no-warnings', child, root, template, '250000'],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const exited = new Promise<void>((ok) => p.once('exit', () => ok()));
      // Killed while its temporary (~20 MB) exists: between creating it and linking it into place.
      const mine = (): string[] =>
        (existsSync(dir) ? readdirSync(dir) : []).filter((n) => n.includes(`.${p.pid}-`));
      await when(() => mine().length > 0);
      p.kill('SIGKILL');
      await exited;
      if (mine().length > 0) killedMidWrite++;
      for (const name of readdirSync(dir).filter((n) => !n.startsWith('.'))) {
        const bytes = readFileSync(join(dir, name), 'utf8');
        const whole = bytes.length > 0 && evidenceSchemaFailure(JSON.parse(bytes)) === undefined;
        expect([name, whole]).toEqual([name, true]);
      }
    }
    expect(killedMidWrite).toBeGreaterThan(0); // the kills did land mid-write
    const chain = await readChain(dir, { command: 'plan', site: 's', environment: 'dev' });
    expect(chain.broken).toEqual([]); // temporaries are never links
    const written = await writeRecord(
      root,
      sample({ run: { ...sample().run, id: 'after' }, finished_at: '2030-01-01T00:00:00.000Z' }),
    );
    expect(chain.latest?.bytes).toBe(seed.bytes);
    expect(written.record.previous?.digest).toBe(recordDigest(seed.bytes));
    expect(written.broken).toBeUndefined();
    // The dead writers' temporaries are gone after that write.
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(written.path)).toBe(true);
    rmSync(root, { recursive: true, force: true });
  }, 240_000);
});
