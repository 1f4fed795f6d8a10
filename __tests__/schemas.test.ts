import { readFileSync } from 'node:fs';
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
