// Writes schemas/*.schema.json from src/core/config/schemas.ts (Node 24 strips the types).
import { mkdirSync, writeFileSync } from 'node:fs';
import { SCHEMAS } from '../src/core/config/schemas.ts';

mkdirSync('schemas', { recursive: true });
for (const [name, schema] of Object.entries(SCHEMAS)) {
  writeFileSync(`schemas/${name}`, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
