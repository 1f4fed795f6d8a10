import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import * as validators from '../src/core/config/validators.generated.js';
import { SCHEMAS } from '../src/core/config/schemas.js';
import { EVIDENCE_SCHEMA } from '../src/core/evidence/schema.js';

test.each(Object.keys(SCHEMAS))(
  'schemas/%s is what src/core/config/schemas.ts says (run npm run schemas)',
  (name) => {
    const onDisk = JSON.parse(readFileSync(`schemas/${name}`, 'utf8')) as unknown;
    expect(onDisk).toEqual(SCHEMAS[name as keyof typeof SCHEMAS]);
  },
);

test('schemas/evidence.schema.json is what src/core/evidence/schema.ts says (run npm run schemas)', () => {
  const onDisk = JSON.parse(readFileSync('schemas/evidence.schema.json', 'utf8')) as unknown;
  expect(onDisk).toEqual(EVIDENCE_SCHEMA);
});

test('the precompiled validators are the config schemas compiled now (run npm run schemas)', () => {
  const r = spawnSync(resolve('node_modules/.bin/node'), ['scripts/schemas.mjs', '--check'], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('a precompiled validator rejects what its schema rejects, with the schema it broke', () => {
  const errors: { keyword: string; parentSchema?: unknown }[] = [];
  const site = validators.site as unknown as ((d: unknown) => boolean) & { errors?: typeof errors };
  const example = parse(readFileSync('examples/sites/client-portal/site.yaml', 'utf8')) as { site: object };
  expect(site(example)).toBe(true);
  expect(site({ site: { ...example.site, colour: 'red' } })).toBe(false);
  errors.push(...(site.errors ?? []));
  expect(errors.map((e) => e.keyword)).toEqual(['additionalProperties']);
  // verbose: the parent schema comes along, for "did you mean" hints.
  expect(errors[0]?.parentSchema).toHaveProperty('properties.modules');
});
