// Every outcome answered (SPEC §9, §8.1): each outcome of `plan`/`apply --json` — succeeded,
// failed, promotion refused, freeze refused, lock timeout, bad config, bad arguments, an evidence
// folder that cannot be written — prints exactly one JSON document on stdout, valid against
// schemas/result.schema.json, with the evidence path whenever a record was written; and a record
// exists wherever one must (config errors and refusals included), valid against its schema.
// Binding refusals run in Actions only: binding-action.test.ts checks their `summary` output.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { acquireRunLock } from '../src/adapters/run/run-lock.js';
import type { EvidenceRecord } from '../src/core/evidence/record.js';
import { RESULT_FAILURE_STATUSES, RESULT_MODULE_STATUSES } from '../src/core/result-schema.js';
import { FAILURE_STATUSES } from '../src/core/result.js';
import { STATUSES } from '../src/core/status.js';
import { runMain } from './helpers/cli-in-process.js';
import { cleanupSites, filePutter, tempFolder, TF_MODULES } from './helpers/site.js';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const schema = (name: string): object => JSON.parse(readFileSync(`schemas/${name}`, 'utf8')) as object;
const validResult = ajv.compile(schema('result.schema.json'));
const validRecord = ajv.compile(schema('evidence.schema.json'));

const SECRET = 'pl4nted-s3cret-in-a-broken-line';
const hour = 3_600_000;
const iso = (t: number): string => new Date(t).toISOString();

let root = '';
const previous = process.env.SITE_DEPLOY_ISOLATION;

beforeAll(async () => {
  // The documents are the subject here, not the sandbox (sandbox.test.ts covers it).
  process.env.SITE_DEPLOY_ISOLATION = 'off';
  root = await tempFolder('sd-outcomes-');
  const put = filePutter(root);
  await put('modules/step/module.yaml', {
    engine: 'terraform',
    services: [],
    outputs: TF_MODULES.step!.outputs,
  });
  await put('modules/step/main.tf', TF_MODULES.step!.tf);
  const envs = ['dev', 'staging', 'broken', 'frozen'];
  await put('sites/shop/site.yaml', {
    site: {
      name: 'shop',
      state: { backend: 'local' },
      promotion: ['dev', 'staging'],
      modules: [{ type: 'step', name: 'app', weight: 10, value: '#{label}', exit_code: '#{code}' }],
      environments: envs.map((e) => ({ path: `environments/${e}.yaml` })),
    },
  });
  for (const e of envs)
    await put(`sites/shop/environments/${e}.yaml`, {
      environment: e,
      variables: { label: `shop-${e}`, code: e === 'broken' ? 1 : 0 },
      ...(e === 'frozen'
        ? {
            freeze: [
              { from: iso(Date.now() - hour), to: iso(Date.now() + hour), reason: 'quarter-end close' },
            ],
          }
        : {}),
    });
  // Another site, whose environment file has an unterminated quote on a line that holds a value nobody may see.
  await put('sites/oops/site.yaml', {
    site: {
      name: 'oops',
      state: { backend: 'local' },
      modules: [{ type: 'step', name: 'app', weight: 10, value: '#{label}' }],
      environments: [{ path: 'environments/dev.yaml' }],
    },
  });
  await put('sites/oops/environments/dev.yaml', '');
  writeFileSync(
    join(root, 'sites/oops/environments/dev.yaml'),
    `environment: dev\nvariables:\n  code: 0\n  label: "${SECRET}\n`,
  );
}, 60_000);

afterAll(async () => {
  if (previous === undefined) delete process.env.SITE_DEPLOY_ISOLATION;
  else process.env.SITE_DEPLOY_ISOLATION = previous;
  await cleanupSites();
});

/** A `--json` document as a consumer reads it. */
interface Doc {
  ok?: boolean;
  status: string;
  command?: string | null;
  exit_code?: number;
  evidence: string | null;
  evidence_error?: string;
  refusal?: { kind: string } | null;
  errors?: { file: string; line: number; message: string }[];
  modules?: { name: string; status: string }[];
}

/** Runs the CLI with --json and reads stdout as exactly one document, valid against the schema. */
async function runJson(...args: string[]): Promise<{ code: number; doc: Doc; stderr: string }> {
  const r = await runMain([...args, '--root', root, '--credentials', 'none', '--json']);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  const doc = JSON.parse(lines[0]!) as Doc;
  expect(validResult(doc) ? [] : validResult.errors).toEqual([]);
  return { code: r.code, doc, stderr: r.stderr };
}

/** The record a document names: it exists and validates. */
function recordOf(doc: Doc): EvidenceRecord {
  expect(doc.evidence).toEqual(expect.any(String));
  const path = resolve(root, doc.evidence!);
  expect(existsSync(path)).toBe(true);
  const record = JSON.parse(readFileSync(path, 'utf8')) as EvidenceRecord;
  expect(validRecord(record) ? [] : validRecord.errors).toEqual([]);
  return record;
}

describe('one document and one record for every outcome of plan and apply', () => {
  // In order: staging is refused by promotion before dev has applied the release.
  const table: {
    outcome: string;
    args: string[];
    code: number;
    status: string;
    record: Partial<EvidenceRecord> | null;
    before?: () => Promise<() => Promise<void>>;
  }[] = [
    {
      outcome: 'promotion refused',
      args: ['apply', '--site', 'shop', '--env', 'staging'],
      code: 1,
      status: 'refused',
      record: {
        status: 'refused',
        refusal: { kind: 'promotion', message: expect.any(String) as unknown as string },
      },
    },
    {
      outcome: 'plan succeeded',
      args: ['plan', '--site', 'shop', '--env', 'dev'],
      code: 0,
      status: 'succeeded',
      record: { command: 'plan', status: 'succeeded' },
    },
    {
      outcome: 'apply succeeded',
      args: ['apply', '--site', 'shop', '--env', 'dev'],
      code: 0,
      status: 'succeeded',
      record: { command: 'apply', status: 'succeeded' },
    },
    {
      outcome: 'apply failed',
      args: ['apply', '--site', 'shop', '--env', 'broken'],
      code: 1,
      status: 'failed',
      record: { command: 'apply', status: 'failed' },
    },
    {
      outcome: 'freeze refused',
      args: ['apply', '--site', 'shop', '--env', 'frozen'],
      code: 1,
      status: 'refused',
      record: {
        status: 'refused',
        refusal: { kind: 'freeze', message: expect.any(String) as unknown as string },
      },
    },
    {
      outcome: 'lock timeout',
      args: ['apply', '--site', 'shop', '--env', 'dev', '--lock-timeout', '0s'],
      code: 1,
      status: 'refused',
      record: {
        status: 'refused',
        refusal: { kind: 'lock', message: expect.any(String) as unknown as string },
      },
      before: async () => {
        const held = await acquireRunLock({
          root,
          site: 'shop',
          environment: 'dev',
          command: 'apply',
          timeoutMs: 0,
        });
        return async () => void (await held.release());
      },
    },
    {
      outcome: 'bad config',
      args: ['plan', '--site', 'oops', '--env', 'dev'],
      code: 2,
      status: 'invalid',
      record: {
        status: 'refused',
        lifecycle: null,
        refusal: { kind: 'config', message: expect.any(String) as unknown as string },
      },
    },
    {
      outcome: 'bad arguments',
      args: ['plan', '--site', 'shop'],
      code: 2,
      status: 'invalid',
      record: null,
    },
  ];

  test.each(table)(
    '$outcome: exit $code, status $status',
    async ({ args, code, status, record, before }) => {
      const after = before ? await before() : undefined;
      let r;
      try {
        r = await runJson(...args);
      } finally {
        await after?.();
      }
      expect({ code: r.code, status: r.doc.status }).toEqual({ code, status });
      if (r.doc.ok === false) expect(r.doc.exit_code).toBe(code);
      if (record === null) {
        expect(r.doc.evidence).toBeNull();
        return;
      }
      const written = recordOf(r.doc);
      expect(written).toMatchObject(record);
      if (r.doc.ok === false && written.refusal) expect(r.doc.refusal?.kind).toBe(written.refusal.kind);
    },
    120_000,
  );

  test('bad config: the document names the YAML error at its line; neither it nor the record holds the line’s value', async () => {
    const { doc } = await runJson('plan', '--site', 'oops', '--env', 'dev');
    expect(doc.errors?.[0]).toMatchObject({ file: 'sites/oops/environments/dev.yaml', line: 4 });
    const bytes = readFileSync(resolve(root, doc.evidence!), 'utf8');
    expect(bytes).not.toContain(SECRET);
    expect(bytes).toContain('sites/oops/environments/dev.yaml:4:');
  }, 60_000);

  test('an evidence folder that cannot be written: the apply happened, the document says so and names the folder, exit 1', async () => {
    const other = await tempFolder('sd-outcomes-noevidence-');
    const files = ['modules/step/module.yaml', 'modules/step/main.tf', 'sites/shop/site.yaml'];
    for (const e of ['dev', 'staging', 'broken', 'frozen']) files.push(`sites/shop/environments/${e}.yaml`);
    for (const f of files) await filePutter(other)(f, readFileSync(join(root, f), 'utf8'));
    await filePutter(other)('.site-deploy/evidence', 'a file where the folder should be\n');
    const r = await runMain([
      'apply',
      '--root',
      other,
      '--site',
      'shop',
      '--env',
      'dev',
      '--credentials',
      'none',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(validResult(doc) ? [] : validResult.errors).toEqual([]);
    expect(doc).toMatchObject({ status: 'succeeded', evidence: null });
    expect(doc.modules?.map((m) => m.status)).toEqual(['succeeded']);
    expect(doc.evidence_error).toMatch(/\.site-deploy\/evidence/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(existsSync(join(other, '.site-deploy/state/shop/dev/app.tfstate'))).toBe(true);
  }, 120_000);
});

test('the schema names the same status words as the code', () => {
  expect(RESULT_FAILURE_STATUSES).toEqual([...FAILURE_STATUSES]);
  expect(RESULT_MODULE_STATUSES).toEqual([...STATUSES]);
});
