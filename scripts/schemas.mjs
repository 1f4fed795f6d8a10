// Writes schemas/*.schema.json from src/core/config/schemas.ts and src/core/evidence/schema.ts
// (Node 24 strips the types).
import { mkdirSync, writeFileSync } from 'node:fs';
import { SCHEMAS } from '../src/core/config/schemas.ts';
import { EVIDENCE_SCHEMA } from '../src/core/evidence/schema.ts';

mkdirSync('schemas', { recursive: true });
for (const [name, schema] of Object.entries({ ...SCHEMAS, 'evidence.schema.json': EVIDENCE_SCHEMA })) {
  writeFileSync(`schemas/${name}`, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
