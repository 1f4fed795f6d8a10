// Promotion, freezes and break-glass (SPEC §8.4): the pure checks in src/core/promotion.ts, the
// date-times of freeze windows, the release's site-level digest, and the local evidence lookup the
// CLI uses outside Actions.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { localPreviousApplies } from '../src/adapters/evidence/previous-applies.js';
import { loadWorkspace, parseZonedDateTime, type Layout } from '../src/core/config/load.js';
import type { Environment, FreezeWindow, Site } from '../src/core/config/model.js';
import { Problems } from '../src/core/errors.js';
import {
  authorizeBreakGlass,
  checkFreeze,
  checkPromotion,
  siteConfigDigest,
  type PreviousApply,
  type PreviousApplyStatus,
  type Release,
} from '../src/core/promotion.js';
import { baseRepo, fileBytes, memoryReader, repoFiles, type Files, type RepoDesc } from './helpers/repo.js';

const at = (iso: string): number => Date.parse(iso);

describe('freeze windows: date-times with a zone', () => {
  test.each<[string, number]>([
    ['2026-12-20T00:00:00Z', Date.UTC(2026, 11, 20)],
    ['2026-12-20T00:00Z', Date.UTC(2026, 11, 20)],
    ['2026-12-20T01:00:00+01:00', Date.UTC(2026, 11, 20)],
    ['2026-12-19T18:30:00-0530', Date.UTC(2026, 11, 20)],
    ['2026-12-20T09:00:00+09', Date.UTC(2026, 11, 20)],
    ['2026-12-20T00:00:00.123456Z', Date.UTC(2026, 11, 20, 0, 0, 0, 123)],
    ['2028-02-29T12:00:00Z', Date.UTC(2028, 1, 29, 12)],
    ['0099-01-01T00:00:00Z', Date.parse('0099-01-01T00:00:00Z')],
  ])('%s is read as the instant it names', (text, ms) => {
    expect(parseZonedDateTime(text)).toEqual({ ms });
  });

  test.each<[string, RegExp]>([
    ['2026-12-20T00:00:00', /^has no zone: give a zone, e\.g\. 2026-12-20T00:00:00Z \(UTC\)/],
    ['2026-12-20', /^is a date without a time: .* e\.g\. 2026-12-20T00:00:00Z$/],
    ['2026-12-20 00:00:00Z', /^is not an ISO 8601 date-time/],
    ['20 Dec 2026', /^is not an ISO 8601 date-time/],
    ['2026-02-29T00:00:00Z', /^is not a real date and time/],
    ['2026-12-20T24:00:00Z', /^is not a real date and time/],
    ['2026-13-01T00:00:00Z', /^is not a real date and time/],
    ['2026-12-20T00:00:00+24:00', /^has an offset out of range \(\+24:00\)/],
  ])('%s is refused', (text, problem) => {
    const r = parseZonedDateTime(text);
    expect(r).toEqual({ problem: expect.stringMatching(problem) });
  });
});

describe('checkFreeze', () => {
  const window = (from: string, to: string, reason: string, i = 0): FreezeWindow => ({
    from: at(from),
    to: at(to),
    reason,
    origin: { file: 'sites/portal/environments/production.yaml', path: ['freeze', i] },
  });
  const yearEnd = window('2026-12-20T00:00:00Z', '2026-12-27T00:00:00Z', 'year-end change freeze');
  const production = (freeze: FreezeWindow[]): Pick<Environment, 'name' | 'freeze'> => ({
    name: 'production',
    freeze,
  });

  test.each<[string, string, boolean]>([
    ['a week before', '2026-12-13T00:00:00Z', false],
    ['the last millisecond before it starts', '2026-12-19T23:59:59.999Z', false],
    ['the instant it starts (included)', '2026-12-20T00:00:00Z', true],
    ['in the middle', '2026-12-23T12:00:00Z', true],
    ['the last millisecond of it', '2026-12-26T23:59:59.999Z', true],
    ['the instant it ends (not included)', '2026-12-27T00:00:00Z', false],
    ['next year', '2027-01-05T00:00:00Z', false],
  ])('%s: frozen = %s', (_name, now, frozen) => {
    const r = checkFreeze(production([yearEnd]), at(now));
    expect(r !== undefined).toBe(frozen);
  });

  test('the refusal names the environment, when the freeze ends and why', () => {
    const r = checkFreeze(production([yearEnd]), at('2026-12-23T12:00:00Z'));
    expect(r?.window).toBe(yearEnd);
    expect(r?.message).toMatch(
      /^environment production is frozen until 2026-12-27T00:00:00Z: year-end change freeze \(window 2026-12-20T00:00:00Z – 2026-12-27T00:00:00Z in sites\/portal\/environments\/production\.yaml, freeze\[0\]\); apply after it ends, or break glass/,
    );
  });

  test('of overlapping windows, the one that ends last is named: frozen until then', () => {
    const launch = window('2026-12-22T00:00:00Z', '2027-01-03T00:00:00Z', 'launch', 1);
    const r = checkFreeze(production([yearEnd, launch]), at('2026-12-23T00:00:00Z'));
    expect(r?.message).toMatch(/frozen until 2027-01-03T00:00:00Z: launch/);
    expect(checkFreeze(production([yearEnd, launch]), at('2026-12-21T00:00:00Z'))?.window).toBe(yearEnd);
  });

  test('no windows: never frozen', () => {
    expect(checkFreeze(production([]), at('2026-12-23T00:00:00Z'))).toBeUndefined();
  });
});

describe('checkPromotion', () => {
  const site: Pick<Site, 'name' | 'promotion'> = {
    name: 'portal',
    promotion: ['dev', 'staging', 'production'],
  };
  const COMMIT = 'abc123def4567890abc123def4567890abc12345';
  const OTHER = 'def4567890abc123def4567890abc123def45678';
  const DIGEST = `sha256:${'1'.repeat(64)}`;
  const OTHER_DIGEST = `sha256:${'2'.repeat(64)}`;
  const release: Release = { commit: COMMIT, siteDigest: DIGEST };
  const apply = (
    environment: string,
    status: PreviousApplyStatus,
    when: string,
    commit = COMMIT,
    siteDigest: string | null = DIGEST,
  ): PreviousApply => ({ environment, commit, siteDigest, status, at: when });

  test.each<[string, string, PreviousApply[], string | undefined]>([
    ['the first environment of promotion: proceeds', 'dev', [], undefined],
    ['an environment not in promotion: proceeds', 'sandbox', [], undefined],
    [
      'in order: staging after a succeeded dev apply',
      'staging',
      [apply('dev', 'succeeded', '2026-05-01T10:00:00Z')],
      undefined,
    ],
    [
      'in order: production after a succeeded staging apply',
      'production',
      [apply('staging', 'succeeded', '2026-05-01T11:00:00Z')],
      undefined,
    ],
    [
      'a no-op apply counts (the environment already matched)',
      'production',
      [apply('staging', 'no-op', '2026-05-01T11:00:00Z')],
      undefined,
    ],
    [
      'environment written as <site>/<env> (GitHub) counts',
      'production',
      [apply('portal/staging', 'succeeded', '2026-05-01T11:00:00Z')],
      undefined,
    ],
    [
      'commit compared without regard to case',
      'production',
      [apply('staging', 'succeeded', '2026-05-01T11:00:00Z', COMMIT.toUpperCase())],
      undefined,
    ],
    [
      'the release succeeded earlier, and a newer other release failed since',
      'production',
      [
        apply('staging', 'failed', '2026-05-02T09:00:00Z', OTHER),
        apply('staging', 'succeeded', '2026-05-01T11:00:00Z'),
      ],
      undefined,
    ],
    ['out of order: production with nothing in staging', 'production', [], 'staging'],
    [
      'out of order: production after dev only (staging skipped)',
      'production',
      [apply('dev', 'succeeded', '2026-05-01T10:00:00Z')],
      'staging',
    ],
    [
      'the release failed in staging',
      'production',
      [apply('staging', 'failed', '2026-05-01T11:00:00Z')],
      'staging',
    ],
    [
      'the release is still in progress in staging',
      'production',
      [apply('staging', 'in-progress', '2026-05-01T11:00:00Z')],
      'staging',
    ],
    [
      'a new release (new commit, same site config) is refused again',
      'production',
      [apply('staging', 'succeeded', '2026-05-01T11:00:00Z', OTHER)],
      'staging',
    ],
    [
      'a new release (same commit, new site config) is refused again',
      'production',
      [apply('staging', 'succeeded', '2026-05-01T11:00:00Z', COMMIT, OTHER_DIGEST)],
      'staging',
    ],
    [
      'an apply that recorded no site digest cannot prove the release',
      'production',
      [apply('staging', 'succeeded', '2026-05-01T11:00:00Z', COMMIT, null)],
      'staging',
    ],
    [
      'a succeeded apply of another site with the same environment name does not count',
      'production',
      [apply('other/staging', 'succeeded', '2026-05-01T11:00:00Z')],
      'staging',
    ],
  ])('%s', (_name, env, applies, required) => {
    const r = checkPromotion(site, env, release, applies);
    if (required === undefined) expect(r).toBeUndefined();
    else expect(r).toMatchObject({ required, message: expect.stringContaining(`in ${required} first`) });
  });

  test('no promotion: in site.yaml: every environment proceeds', () => {
    expect(checkPromotion({ name: 'portal' }, 'production', release, [])).toBeUndefined();
  });

  test('the refusal names the environment that must go first, the release, and that it has none', () => {
    const r = checkPromotion(site, 'production', release, []);
    expect(r?.message).toBe(
      'production needs a succeeded apply of this release (commit abc123def456, site config sha256:111111111111) ' +
        'in staging first (promotion: dev → staging → production); staging has no apply on record. ' +
        'Apply portal to staging at this commit first, or break glass with a reason if this cannot wait',
    );
  });

  test("the refusal shows staging's last apply: its commit, status, time and run", () => {
    const failed = {
      ...apply('staging', 'failed', '2026-05-02T09:00:00Z', OTHER),
      url: 'https://github.com/acme/portal/actions/runs/7',
    };
    const r = checkPromotion(site, 'production', release, [
      apply('staging', 'succeeded', '2026-04-01T00:00:00Z', OTHER),
      failed,
    ]);
    expect(r?.last).toEqual(failed);
    expect(r?.message).toContain(
      "staging's last apply was commit def4567890ab (failed) at 2026-05-02T09:00:00Z — https://github.com/acme/portal/actions/runs/7.",
    );
  });

  test('when this release was tried but is not the last apply, both are shown', () => {
    const r = checkPromotion(site, 'production', release, [
      apply('staging', 'failed', '2026-05-01T11:00:00Z'),
      apply('staging', 'succeeded', '2026-05-02T09:00:00Z', OTHER),
    ]);
    expect(r?.message).toContain(
      "staging's last apply was commit def4567890ab (succeeded) at 2026-05-02T09:00:00Z; this release's last apply there was commit abc123def456 (failed) at 2026-05-01T11:00:00Z",
    );
  });

  test('the same commit with another site config is explained as another release', () => {
    const r = checkPromotion(site, 'production', release, [
      apply('staging', 'succeeded', '2026-05-01T11:00:00Z', COMMIT, OTHER_DIGEST),
    ]);
    expect(r?.message).toContain(
      'commit abc123def456 was applied there with another site config (sha256:222222222222), which makes it another release',
    );
  });
});

describe('authorizeBreakGlass', () => {
  const site: Pick<Site, 'name' | 'file' | 'breakGlass'> = {
    name: 'portal',
    file: 'sites/portal/site.yaml',
    breakGlass: {
      allowed: ['alice', 'Bob'],
      origin: { file: 'sites/portal/site.yaml', path: ['site', 'break_glass'] },
    },
  };

  test('an allowed actor with a reason is allowed, and the record says who, why and what it overrode', () => {
    const freeze = { window: {} as FreezeWindow, message: 'environment production is frozen until …' };
    const promotion = {
      required: 'staging',
      message: 'production needs a succeeded apply … in staging first',
    };
    const d = authorizeBreakGlass(site, 'alice', '  INC-4711: payments down, hotfix  ', {
      freeze,
      promotion,
    });
    expect(d).toEqual({
      allowed: true,
      record: {
        actor: 'alice',
        reason: 'INC-4711: payments down, hotfix',
        overrides: [
          { check: 'freeze', message: freeze.message },
          { check: 'promotion', message: promotion.message },
        ],
      },
    });
  });

  test('logins are compared without regard to case, as GitHub does', () => {
    expect(authorizeBreakGlass(site, 'bob', 'hotfix')).toEqual({
      allowed: true,
      record: { actor: 'bob', reason: 'hotfix', overrides: [] },
    });
  });

  test.each<[string, string, string | undefined, RegExp]>([
    [
      'no reason',
      'alice',
      undefined,
      /^break-glass needs a reason: give it as break-glass: "<why this cannot wait>"/,
    ],
    ['a blank reason', 'alice', ' \n ', /^break-glass needs a reason/],
    [
      'an actor not in the list',
      'mallory',
      'hotfix',
      /^"mallory" may not break glass on site portal: break_glass\.allowed in sites\/portal\/site\.yaml lists alice, Bob; ask one of them, or add the login there$/,
    ],
    [
      'a bot acting for someone',
      'github-actions[bot]',
      'hotfix',
      /^"github-actions\[bot\]" may not break glass/,
    ],
    ['no actor', '', 'hotfix', /^an unknown actor may not break glass/],
  ])('%s: refused', (_name, actor, reason, message) => {
    expect(authorizeBreakGlass(site, actor, reason)).toEqual({
      allowed: false,
      message: expect.stringMatching(message),
    });
  });

  test('a site without break_glass refuses, saying how to allow it', () => {
    const d = authorizeBreakGlass({ name: 'portal', file: 'sites/portal/site.yaml' }, 'alice', 'hotfix');
    expect(d).toEqual({
      allowed: false,
      message:
        'site portal allows no break-glass: sites/portal/site.yaml has no break_glass. To allow it, add under site: ' +
        '`break_glass: { allowed: [<github-login>, ...] }` naming the people who may override a freeze or a promotion check',
    });
  });

  test('an empty allowed list refuses everyone', () => {
    const d = authorizeBreakGlass(
      { ...site, breakGlass: { allowed: [], origin: { file: site.file, path: [] } } },
      'alice',
      'hotfix',
    );
    expect(d).toEqual({
      allowed: false,
      message: expect.stringMatching(/break_glass\.allowed in .* is empty/),
    });
  });
});

describe('siteConfigDigest: what makes a release', () => {
  const LAYOUT: Layout = { configRoot: 'sites', catalog: 'modules' };
  const sha = (c: Exclude<Files[string], null | { symlink: string }>): string =>
    createHash('sha256').update(fileBytes(c)).digest('hex');

  function fixture(desc: RepoDesc = baseRepo(), extra: Files = {}) {
    const all = { ...repoFiles(desc), ...extra };
    const problems = new Problems();
    const ws = loadWorkspace(memoryReader(all), LAYOUT, problems, 's1');
    expect(problems.list.filter((p) => p.severity === 'error')).toEqual([]);
    const site = ws.sites.get('s1') as Site;
    const hashes = new Map<string, string>();
    for (const [path, content] of Object.entries(all))
      if (content !== null && !(typeof content === 'object' && 'symlink' in content))
        hashes.set(path, sha(content));
    const digest = (changes: Record<string, string> = {}): string => {
      const files = new Map(hashes);
      for (const [p, h] of Object.entries(changes)) files.set(p, h);
      return siteConfigDigest(files, site, LAYOUT, new Set(site.modules.map((m) => m.type)));
    };
    return { site, hashes, digest };
  }
  const changed = 'f'.repeat(64);

  test('is sha256 of the canonical JSON of the sorted [path, sha256] pairs that count', () => {
    const { hashes, digest } = fixture();
    const counted = [...hashes]
      .filter(
        ([p]) =>
          p.startsWith('sites/s1/') || p.startsWith('modules/aws-vpc/') || p.startsWith('modules/app/'),
      )
      .filter(([p]) => !p.startsWith('sites/s1/environments/') && p !== 'sites/s1/credentials.yaml')
      .sort(([a], [b]) => (a < b ? -1 : 1));
    expect(counted.map(([p]) => p)).toEqual([
      'modules/app/apply',
      'modules/app/main.tf',
      'modules/app/module.yaml',
      'modules/app/plan',
      'modules/aws-vpc/main.tf',
      'modules/aws-vpc/module.yaml',
      'sites/s1/site.yaml',
    ]);
    const expected = createHash('sha256').update(JSON.stringify(counted)).digest('hex');
    expect(digest()).toBe(`sha256:${expected}`);
  });

  test.each<[string, string]>([
    ['site.yaml', 'sites/s1/site.yaml'],
    ['a catalog file of a module type it uses (Terraform code)', 'modules/aws-vpc/main.tf'],
    ["a used type's manifest", 'modules/app/module.yaml'],
    ['a new file in the site folder', 'sites/s1/modules/networking.yaml'],
    ['a new file in a used catalog folder', 'modules/aws-vpc/variables.tf'],
  ])('changes with %s: a new release', (_name, path) => {
    const { digest } = fixture();
    expect(digest({ [path]: changed })).not.toBe(digest());
  });

  test.each<[string, string]>([
    ['an environment file', 'sites/s1/environments/prod.yaml'],
    ['a new environment file', 'sites/s1/environments/qa.yaml'],
    ['credentials.yaml', 'sites/s1/credentials.yaml'],
    ['a catalog folder the site does not use', 'modules/dns/main.tf'],
    ["Terraform's cache in a used catalog folder", 'modules/aws-vpc/.terraform/providers/x'],
    ['another site', 'sites/other/site.yaml'],
    ['a file outside sites and the catalog', 'README.md'],
  ])('does not change with %s: the same release', (_name, path) => {
    const { digest } = fixture();
    expect(digest({ [path]: changed })).toBe(digest());
  });

  test('environment files listed outside environments/ are left out too', () => {
    const desc = baseRepo();
    const files: Files = {
      'sites/s1/site.yaml': {
        site: {
          name: 's1',
          modules: [{ type: 'free' }],
          environments: [{ path: 'envs/dev.yaml' }],
        },
      },
      'sites/s1/envs/dev.yaml': { environment: 'dev' },
      'sites/s1/credentials.yaml': null,
    };
    const { digest } = fixture(desc, files);
    expect(digest({ 'sites/s1/envs/dev.yaml': changed })).toBe(digest());
    expect(digest({ 'modules/free/main.tf': changed })).not.toBe(digest());
  });

  test("a module config file outside the site's folder counts", () => {
    const desc = baseRepo();
    (desc.sites.s1 as RepoDesc['sites'][string]).modules[0] = {
      type: 'aws-vpc',
      name: 'networking',
      config: '../../shared/net.yaml',
    };
    const { digest } = fixture(desc, { 'shared/net.yaml': { cidr: '10.0.0.0/16' } });
    expect(digest({ 'shared/net.yaml': changed })).not.toBe(digest());
  });

  test('the same in every environment, and independent of the order files are handed in', () => {
    const { site, hashes } = fixture();
    const reversed = new Map([...hashes].reverse());
    const types = ['app', 'aws-vpc'];
    expect(siteConfigDigest(reversed, site, LAYOUT, types)).toBe(
      siteConfigDigest(hashes, site, LAYOUT, types),
    );
    // A type missing from catalogTypes but used by a module still counts: no per-environment digest.
    expect(siteConfigDigest(hashes, site, LAYOUT, [])).toBe(siteConfigDigest(hashes, site, LAYOUT, types));
  });

  test('a sha256 that is not 64 hex digits is a programming error, not a silent digest', () => {
    const { site } = fixture();
    expect(() => siteConfigDigest(new Map([['sites/s1/site.yaml', 'abc']]), site, LAYOUT, [])).toThrow(
      /the sha256 of sites\/s1\/site\.yaml is not 64 hex digits/,
    );
  });
});

describe('localPreviousApplies: the evidence folder outside Actions', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  const COMMIT = '0123456789abcdef0123456789abcdef01234567';
  const DIGEST = `sha256:${'3'.repeat(64)}`;

  function root(): string {
    const r = mkdtempSync(join(tmpdir(), 'sd-promotion-'));
    roots.push(r);
    return r;
  }
  function record(
    r: string,
    env: string,
    name: string,
    fields: {
      status?: string;
      finished_at?: string;
      commit?: string;
      command?: string;
      environment?: string;
    } = {},
  ): void {
    const dir = join(r, '.site-deploy', 'evidence', 'portal', env);
    mkdirSync(dir, { recursive: true });
    const body = {
      schema_version: 1,
      command: fields.command ?? 'apply',
      status: fields.status ?? 'succeeded',
      site: 'portal',
      environment: fields.environment ?? env,
      run: { commit: fields.commit ?? COMMIT, url: null, id: name, attempt: 1 },
      finished_at: fields.finished_at ?? '2026-05-01T10:00:00Z',
      config: { digest: 'sha256:x', files: {}, site_digest: DIGEST },
    };
    writeFileSync(join(dir, name), JSON.stringify(body));
  }

  test('no evidence folder: no applies', async () => {
    await expect(localPreviousApplies(root(), 'portal', 'staging')).resolves.toEqual([]);
  });

  test('apply records only, newest first, in the shape checkPromotion takes; what is not one is left out and said', async () => {
    const r = root();
    record(r, 'staging', '20260501T100000Z-1-apply.json', {
      status: 'succeeded',
      finished_at: '2026-05-01T10:00:00Z',
    });
    record(r, 'staging', '20260502T100000Z-1-apply.json', {
      status: 'failed',
      finished_at: '2026-05-02T10:00:00Z',
      commit: 'f'.repeat(40),
    });
    record(r, 'staging', '20260503T100000Z-1-plan.json', {
      command: 'plan',
      finished_at: '2026-05-03T10:00:00Z',
    });
    record(r, 'staging', '20260504T100000Z-1-apply.json', { environment: 'production' });
    record(r, 'staging', '20260505T100000Z-1-apply.json', { status: 'exploded' });
    writeFileSync(join(r, '.site-deploy', 'evidence', 'portal', 'staging', 'broken-1-apply.json'), '{"sche');
    const warnings: string[] = [];

    const applies = await localPreviousApplies(r, 'portal', 'staging', { warn: (m) => warnings.push(m) });

    expect(applies).toEqual([
      {
        environment: 'staging',
        commit: 'f'.repeat(40),
        siteDigest: DIGEST,
        status: 'failed',
        at: '2026-05-02T10:00:00Z',
      },
      {
        environment: 'staging',
        commit: COMMIT,
        siteDigest: DIGEST,
        status: 'succeeded',
        at: '2026-05-01T10:00:00Z',
      },
    ]);
    expect(warnings.sort()).toEqual([
      expect.stringMatching(
        /20260504T100000Z-1-apply\.json is not a schema_version 1 apply record of portal\/staging: left out$/,
      ),
      expect.stringMatching(
        /20260505T100000Z-1-apply\.json is not a schema_version 1 apply record of portal\/staging: left out$/,
      ),
      expect.stringMatching(/broken-1-apply\.json is not a readable evidence record \(.*\): left out$/),
    ]);
  });

  test('end to end: production proceeds after the release succeeded in staging, and is refused before', async () => {
    const r = root();
    const site = { name: 'portal', promotion: ['staging', 'production'] };
    const release = { commit: COMMIT, siteDigest: DIGEST };
    record(r, 'staging', '20260501T090000Z-1-apply.json', {
      status: 'failed',
      finished_at: '2026-05-01T09:00:00Z',
    });
    expect(
      checkPromotion(site, 'production', release, await localPreviousApplies(r, 'portal', 'staging')),
    ).toEqual(expect.objectContaining({ required: 'staging' }));
    record(r, 'staging', '20260501T100000Z-1-apply.json', {
      status: 'succeeded',
      finished_at: '2026-05-01T10:00:00Z',
    });
    expect(
      checkPromotion(site, 'production', release, await localPreviousApplies(r, 'portal', 'staging')),
    ).toBeUndefined();
  });

  test('a site or environment name that would leave the evidence folder is refused', async () => {
    await expect(localPreviousApplies(root(), 'portal', '../../etc')).rejects.toThrow(
      /not a site or environment name/,
    );
  });
});
