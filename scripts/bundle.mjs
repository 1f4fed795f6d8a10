// Bundles the action (dist/index.js) and the CLI (dist/cli.js) with ncc, both at once.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ncc = join('node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');

function build(entry, out) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ncc, 'build', entry, '-o', out, '--quiet', '--target', 'es2023'], {
      stdio: 'inherit',
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ncc ${entry} exited ${code}`))));
  });
}

rmSync('dist', { recursive: true, force: true });
rmSync('.bundle-tmp', { recursive: true, force: true });
await Promise.all([build('src/index.ts', 'dist'), build('src/cli.ts', '.bundle-tmp/cli')]);
// The CLI's chunks live beside its own entry so they never collide with the action's.
mkdirSync('dist/cli', { recursive: true });
for (const f of readdirSync('.bundle-tmp/cli')) renameSync(join('.bundle-tmp/cli', f), join('dist/cli', f));
rmSync('.bundle-tmp', { recursive: true, force: true });
writeFileSync('dist/cli.js', "#!/usr/bin/env node\nimport './cli/index.js';\n");
chmodSync('dist/cli.js', 0o755);
