// Promotion, freezes and break-glass enforced by `apply` through the bundled CLI with REAL
// Terraform (SPEC §8.4): earlier applies come from the local evidence folder; every refusal exits
// 1 before anything is applied and leaves a refused record; break-glass is recorded.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceRecord } from '../src/core/evidence/record.js';
import { cleanupSites, cliSnapshot, filePutter, runCli, tempFolder, TF_MODULES } from './helpers/site.js';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(JSON.parse(readFileSync('schemas/evidence.schema.json', 'utf8')) as object);

beforeAll(async () => {
  await cliSnapshot();
}, 300_000);
afterAll(cleanupSites);

const ACTOR = 'release-captain';

interface Repo {
  root: string;
  /** Writes (or rewrites) a file under the root. */
  put(path: string, content: unknown): Promise<void>;
  apply(env: string, ...extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Whether the environment's module has local state (something was applied). */
  applied(env: string): boolean;
  /** The newest apply record of an environment. */
  lastRecord(env: string): EvidenceRecord;
}

async function promotionRepo(
  site: Record<string, unknown> = {},
  envs: Record<string, unknown> = {},
): Promise<Repo> {
  const root = await tempFolder('sd-promo-');
  const put = filePutter(root);
  await put('modules/step/module.yaml', {
    engine: 'terraform',
    services: [],
    outputs: TF_MODULES.step!.outputs,
  });
  await put('modules/step/main.tf', TF_MODULES.step!.tf);
  await put('sites/shop/site.yaml', {
    site: {
      name: 'shop',
      state: { backend: 'local' },
      promotion: ['dev', 'staging', 'production'],
      break_glass: { allowed: [ACTOR] },
      modules: [{ type: 'step', name: 'app', weight: 10, value: '#{label}' }],
      environments: ['dev', 'staging', 'production'].map((e) => ({ path: `environments/${e}.yaml` })),
      ...site,
    },
  });
  for (const e of ['dev', 'staging', 'production'])
    await put(`sites/shop/environments/${e}.yaml`, {
      environment: e,
      variables: { label: `shop-${e}` },
      ...((envs[e] as object | undefined) ?? {}),
    });
  const records = (env: string): EvidenceRecord[] => {
    const dir = join(root, '.site-deploy/evidence/shop', env);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => n.endsWith('-apply.json'))
      .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as EvidenceRecord)
      .sort((a, b) => (a.finished_at < b.finished_at ? -1 : 1));
  };
  return {
    root,
    put,
    apply: (env, ...extra) =>
      runCli(['apply', '--root', root, '--site', 'shop', '--env', env, '--credentials', 'none', ...extra], {
        USER: ACTOR,
      }),
    applied: (env) => existsSync(join(root, '.site-deploy/state/shop', env, 'app.tfstate')),
    lastRecord(env) {
      const r = records(env).at(-1)!;
      expect(validate(r) ? [] : validate.errors).toEqual([]);
      return r;
    },
  };
}

describe('promotion: [dev, staging, production]', () => {
  test('out of order is refused naming the environment; in order proceeds; a new release is refused again', async () => {
    const repo = await promotionRepo();
    const early = await repo.apply('staging');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /^error: staging needs a succeeded apply of this release \(commit 000000000000, site config sha256:[0-9a-f]{12}\) in dev first \(promotion: dev → staging → production\); dev has no apply on record\. Apply shop to dev at this commit first, or break glass with a reason if this cannot wait$/m,
    );
    expect(repo.applied('staging')).toBe(false);
    const refused = repo.lastRecord('staging');
    expect(refused).toMatchObject({
      status: 'refused',
      refusal: { kind: 'promotion' },
      modules: [],
      promotion: {
        order: ['dev', 'staging', 'production'],
        required: 'dev',
        result: 'refused',
        applied_in_required: null,
      },
      break_glass: null,
    });

    // The first environment needs nothing before it.
    expect((await repo.apply('dev')).code).toBe(0);
    expect(repo.lastRecord('dev').promotion).toMatchObject({ required: null, result: 'not-required' });
    // Production still needs staging.
    const prod = await repo.apply('production');
    expect(prod.code).toBe(1);
    expect(prod.stderr).toContain('production needs a succeeded apply of this release');
    expect(prod.stderr).toContain('in staging first');
    expect(repo.applied('production')).toBe(false);

    const staging = await repo.apply('staging');
    expect(staging.code).toBe(0);
    expect(repo.applied('staging')).toBe(true);
    const passed = repo.lastRecord('staging');
    const dev = repo.lastRecord('dev');
    expect(passed.promotion).toEqual({
      order: ['dev', 'staging', 'production'],
      required: 'dev',
      release: { commit: '0'.repeat(40), site_digest: passed.config.site_digest },
      result: 'passed',
      applied_in_required: { commit: '0'.repeat(40), status: 'succeeded', at: dev.finished_at, url: null },
      message: null,
    });
    // The same release in every environment: the site digest leaves the environment files out.
    expect(passed.config.site_digest).toBe(dev.config.site_digest);

    // A new release (the catalog module changed): staging must wait for dev again.
    await repo.put('modules/step/main.tf', `${TF_MODULES.step!.tf}\n# v2\n`);
    const again = await repo.apply('staging');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/staging needs a succeeded apply of this release .* in dev first/);
    expect(again.stderr).toMatch(/dev's last apply was commit 000000000000 \(succeeded\)/);
    expect(repo.lastRecord('staging').config.site_digest).not.toBe(passed.config.site_digest);
    expect((await repo.apply('dev')).code).toBe(0);
    expect((await repo.apply('staging')).code).toBe(0);
    // An environment's own file is not part of the release: changing it needs no new promotion.
    await repo.put('sites/shop/environments/production.yaml', {
      environment: 'production',
      variables: { label: 'p2' },
    });
    expect((await repo.apply('production')).code).toBe(0);
  }, 240_000);
});

describe('freeze windows', () => {
  const hour = 3_600_000;
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

  test('in force: refused with its reason; past: proceeds', async () => {
    const now = Date.now();
    const repo = await promotionRepo(
      { promotion: undefined },
      {
        dev: { freeze: [{ from: iso(now - hour), to: iso(now + hour), reason: 'quarter-end close' }] },
        staging: { freeze: [{ from: iso(now - 3 * hour), to: iso(now - 2 * hour), reason: 'last week' }] },
      },
    );
    const frozen = await repo.apply('dev');
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toContain(
      `error: environment dev is frozen until ${iso(now + hour)}: quarter-end close (window ${iso(now - hour)} – ${iso(now + hour)} in sites/shop/environments/dev.yaml, freeze[0]); apply after it ends, or break glass with a reason if this cannot wait`,
    );
    expect(repo.applied('dev')).toBe(false);
    expect(repo.lastRecord('dev')).toMatchObject({ status: 'refused', refusal: { kind: 'freeze' } });

    const past = await repo.apply('staging');
    expect(past.code).toBe(0);
    expect(repo.applied('staging')).toBe(true);
    expect(repo.lastRecord('staging')).toMatchObject({
      status: 'succeeded',
      refusal: null,
      break_glass: null,
    });
  }, 120_000);
});

describe('break-glass', () => {
  test('by an allowed actor: overrides a freeze and a promotion check, proceeds, and is recorded', async () => {
    const now = Date.now();
    const repo = await promotionRepo(
      {},
      {
        staging: {
          freeze: [
            {
              from: new Date(now - 60_000).toISOString(),
              to: new Date(now + 3_600_000).toISOString(),
              reason: 'audit',
            },
          ],
        },
      },
    );
    const r = await repo.apply('staging', '--break-glass', 'INC-4711: payment outage, hotfix cannot wait');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^BREAK-GLASS by release-captain: "INC-4711: payment outage, hotfix cannot wait" — overriding freeze and promotion$/m,
    );
    expect(r.stdout).toContain('BREAK-GLASS by release-captain');
    expect(repo.applied('staging')).toBe(true);
    const record = repo.lastRecord('staging');
    expect(record.status).toBe('succeeded');
    expect(record.break_glass).toEqual({
      actor: ACTOR,
      reason: 'INC-4711: payment outage, hotfix cannot wait',
      overrides: [
        { check: 'freeze', message: expect.stringContaining('environment staging is frozen until') },
        { check: 'promotion', message: expect.stringContaining('staging needs a succeeded apply') },
      ],
    });
    expect(record.promotion?.result).toBe('overridden');
  }, 120_000);

  test('by anyone else: refused, nothing applied, the refusal recorded', async () => {
    const repo = await promotionRepo({ break_glass: { allowed: ['someone-else'] } });
    const r = await repo.apply('staging', '--break-glass', 'I really need this');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: staging needs a succeeded apply of this release');
    expect(r.stderr).toContain(
      `Break-glass refused: "${ACTOR}" may not break glass on site shop: break_glass.allowed in sites/shop/site.yaml lists someone-else`,
    );
    expect(repo.applied('staging')).toBe(false);
    expect(repo.lastRecord('staging')).toMatchObject({
      status: 'refused',
      refusal: { kind: 'promotion' },
      break_glass: null,
    });
    // Asked for when nothing refused: still only for the allowed.
    const dev = await repo.apply('dev', '--break-glass', 'why not');
    expect(dev.code).toBe(1);
    expect(repo.lastRecord('dev').refusal?.kind).toBe('break-glass');
    expect(repo.applied('dev')).toBe(false);
  }, 120_000);

  test('an empty reason is bad input', async () => {
    const repo = await promotionRepo();
    const r = await repo.apply('dev', '--break-glass', '  ');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--break-glass needs a reason');
  });
});
