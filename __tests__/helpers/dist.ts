import { resolve } from 'node:path';

/** The bundles under test: built from the sources for this test run (see setup/bundle.mjs). */
export function testDist(): string {
  return resolve(process.env.SD_TEST_DIST ?? '.test-dist');
}
