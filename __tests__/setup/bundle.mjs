// Jest global setup: the tests of the bundled action and CLI run a bundle of the sources as they are
// now, built once per `npm test` into .test-dist/ — never whatever dist/ happens to hold.
// SD_TEST_DIST=<folder> skips the build (CI sets it to dist/ once it has proved dist/ fresh).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function bundleForTests() {
  if (process.env.SD_TEST_DIST) return;
  const out = resolve('.test-dist');
  execFileSync(process.execPath, ['scripts/bundle.mjs', '--out', out], { stdio: 'inherit' });
  process.env.SD_TEST_DIST = out;
}
