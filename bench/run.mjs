// Compiles the TypeScript once and runs every bench/*.bench.ts (or those named on the command line).
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const out = '.bench/build';
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.check.json', '--noEmit', 'false', '--outDir', out], {
  stdio: 'inherit',
});
const wanted = process.argv.slice(2);
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
for (const f of benches) {
  console.log(`\n## ${f}`);
  execFileSync(process.execPath, ['--expose-gc', join(out, 'bench', f.replace(/\.ts$/, '.js'))], { stdio: 'inherit' });
}
