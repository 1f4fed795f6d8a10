// A child process for evidence-survives.test.ts: writes large evidence records one after another
// through the real folder code (src/adapters/evidence/folder.ts), printing `writing <n>` before
// each, until it is killed. Arguments: <root> <template record JSON file> <files per record>.
import { register } from 'node:module';
import { readFileSync } from 'node:fs';

register('./ts-hooks.mjs', import.meta.url);
const { writeRecord } = await import('../../src/adapters/evidence/folder.ts');
const [root, template, count] = process.argv.slice(2);
const base = JSON.parse(readFileSync(template, 'utf8'));
const files = {};
for (let i = 0; i < Number(count); i++)
  files[`sites/s/big/file-${String(i).padStart(7, '0')}.tf`] = 'e'.repeat(64);
for (let n = 0; ; n++) {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000 + process.pid).toISOString();
  const record = {
    ...base,
    run: { ...base.run, id: `kill-${process.pid}-${n}` },
    finished_at: at,
    config: { ...base.config, files },
  };
  process.stdout.write(`writing ${n}\n`);
  await writeRecord(root, record);
  process.stdout.write(`wrote ${n}\n`);
}
