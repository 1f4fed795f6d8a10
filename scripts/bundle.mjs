// Bundles the action (<out>/index.js) and the CLI (<out>/cli.js) with ncc, both at once.
// `node scripts/bundle.mjs` writes dist/ (committed); `--out DIR` writes elsewhere (the tests
// bundle the sources into .test-dist/ so they never run a stale dist/).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ncc = join('node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
const at = process.argv.indexOf('--out');
const out = at > 0 && process.argv[at + 1] ? process.argv[at + 1] : 'dist';
const tmp = `${out}.bundle-tmp`;

function build(entry, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ncc, 'build', entry, '-o', dir, '--quiet', '--target', 'es2023'], {
      stdio: 'inherit',
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ncc ${entry} exited ${code}`))));
  });
}

rmSync(out, { recursive: true, force: true });
rmSync(tmp, { recursive: true, force: true });
await Promise.all([build('src/index.ts', out), build('src/cli.ts', join(tmp, 'cli'))]);
// The CLI's chunks live beside its own entry so they never collide with the action's.
mkdirSync(join(out, 'cli'), { recursive: true });
for (const f of readdirSync(join(tmp, 'cli'))) renameSync(join(tmp, 'cli', f), join(out, 'cli', f));
rmSync(tmp, { recursive: true, force: true });
writeFileSync(join(out, 'cli.js'), "#!/usr/bin/env node\nimport './cli/index.js';\n");
chmodSync(join(out, 'cli.js'), 0o755);
