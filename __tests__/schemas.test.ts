import { readFileSync } from 'node:fs';
import { SCHEMAS } from '../src/core/config/schemas.js';

test.each(Object.keys(SCHEMAS))(
  'schemas/%s is what src/core/config/schemas.ts says (run npm run schemas)',
  (name) => {
    const onDisk = JSON.parse(readFileSync(`schemas/${name}`, 'utf8')) as unknown;
    expect(onDisk).toEqual(SCHEMAS[name as keyof typeof SCHEMAS]);
  },
);
