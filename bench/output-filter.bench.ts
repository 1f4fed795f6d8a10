// Output filter benchmark: a command module whose plan prints 100,000 plan-like lines (a few of
// them hostile: `::error::`, `##[`), planned through runGraph + enginePorts as the action does.
// - filtered: the action's writer — every line redacted against 20 registered secrets, each chunk
//   written between ::stop-commands::<fresh token> and its resume line;
// - straight: the same run writing the module's text straight through.
// Both write to /dev/null synchronously (stdout on a runner is a pipe, written synchronously), in
// alternating pairs; the ratio of median wall times is the filter's whole cost on a real run. A
// second figure isolates the filter: the same text, in the same chunks, through each writer alone.
// Run with `node bench/run.mjs output-filter`.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineOutput } from '../src/adapters/run/engine-output.js';
import { GroupedLog, type LogSink } from '../src/adapters/run/group-log.js';
import { enginePorts } from '../src/adapters/run/steps.js';
import { fsReader } from '../src/adapters/fs-reader.js';
import { loadProject } from '../src/core/project.js';
import { Redactor } from '../src/core/redact.js';
import { runGraph } from '../src/core/run/runner.js';

const LINES = 100_000;
const PAIRS = 5;
const CTX = {
  repository: 'org/repo',
  sha: '0'.repeat(40),
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'bench',
};

/** Plan-like text: resource blocks, with a hostile line every 1,000 lines. */
function planText(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    if (i % 1000 === 999) out.push(i % 2000 === 999 ? '::error::not a command' : '  note = "##[warning]x"');
    else if (i % 5 === 0) out.push(`  # aws_instance.web[${i}] will be created`);
    else out.push(`      + tags_${i % 17} = "value-${i}-${(i * 2654435761) % 1000003}"`);
  }
  return `${out.join('\n')}\n`;
}

function redactor(): Redactor {
  const r = new Redactor();
  for (let i = 0; i < 20; i++) r.add(`secret-value-${i}-${'x'.repeat(i + 8)}`);
  return r;
}

const ms = (t: number): string => `${t.toFixed(0)} ms`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sd-bench-out-'));
  const text = planText(LINES);
  const textFile = join(root, 'plan.txt');
  writeFileSync(textFile, text);
  const dir = join(root, 'modules', 'loud');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'module.yaml'), 'engine: command\nservices: []\n');
  writeFileSync(join(dir, 'plan'), `#!/bin/sh\ncat "${textFile}"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'apply'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  mkdirSync(join(root, 'sites', 'bench', 'environments'), { recursive: true });
  writeFileSync(
    join(root, 'sites', 'bench', 'site.yaml'),
    'site:\n  name: bench\n  modules:\n    - type: loud\n',
  );
  writeFileSync(join(root, 'sites', 'bench', 'environments', 'dev.yaml'), 'environment: dev\n');
  const { workspace, graph } = loadProject(
    fsReader(root),
    { configRoot: 'sites', catalog: 'modules' },
    CTX,
    'bench',
    'dev',
  );
  const devNull = openSync('/dev/null', 'w');
  const write = (t: string): void => {
    writeSync(devNull, t);
  };
  const straight: LogSink = { startGroup: write, endGroup: () => write('\n'), write };

  let written = 0;
  const runOnce = async (filtered: boolean): Promise<number> => {
    const r = redactor();
    const sink = filtered
      ? engineOutput({ write: (t) => ((written += t.length), write(t)), redactor: r, runner: true })
      : straight;
    const ports = enginePorts(workspace, graph, {
      root,
      workRoot: join(root, '.site-deploy', 'work'),
      terraformBinary: 'terraform',
      lockTimeout: '30s',
      log: new GroupedLog(sink),
      redactor: r,
    });
    const t0 = performance.now();
    const result = await runGraph(workspace, graph, { mode: 'plan', maxParallel: 1 }, ports);
    const t = performance.now() - t0;
    if (result.status !== 'succeeded' && result.status !== 'no-op') throw new Error(`plan ${result.status}`);
    return t;
  };

  await runOnce(true);
  await runOnce(false);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    written = 0;
    a.push(await runOnce(true));
    b.push(await runOnce(false));
  }
  const stretches = (written - text.length) / 1; // bytes the stop/resume lines and masks added
  console.log(
    `  a plan printing ${LINES.toLocaleString('en')} lines (${(text.length / 1e6).toFixed(1)} MB), ${PAIRS} alternating pairs:`,
  );
  console.log(
    `    filtered (redaction of 20 secrets + stop-commands stretches): median ${ms(median(a))} [${a.map(ms).join(', ')}]`,
  );
  console.log(
    `    straight through:                                           median ${ms(median(b))} [${b.map(ms).join(', ')}]`,
  );
  console.log(`    run time filtered ÷ straight: ${(median(a) / median(b)).toFixed(3)}`);
  console.log(
    `    bytes added by stop/resume lines: ${stretches.toLocaleString('en')} (${((100 * stretches) / text.length).toFixed(2)} % of the text)`,
  );

  // The filter alone: the text in 64 KiB chunks, as the spool reader delivers it.
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 65_536) {
    const end = text.indexOf('\n', i + 65_536);
    const cut = end < 0 ? text.length : end + 1;
    chunks.push(text.slice(i, cut));
    i = cut - 65_536;
  }
  const alone = (filtered: boolean): number => {
    const sink = filtered ? engineOutput({ write, redactor: redactor(), runner: true }) : straight;
    const t0 = performance.now();
    for (const c of chunks) sink.write(c);
    return performance.now() - t0;
  };
  const fa: number[] = [];
  const fb: number[] = [];
  for (let i = 0; i < 11; i++) {
    fa.push(alone(true));
    fb.push(alone(false));
  }
  console.log(
    `  the writer alone, ${chunks.length} chunks: filtered median ${median(fa).toFixed(2)} ms, straight ${median(fb).toFixed(2)} ms, ratio ${(median(fa) / median(fb)).toFixed(2)}; ` +
      `${((1000 * median(fa)) / LINES).toFixed(3)} µs per line filtered`,
  );
  closeSync(devNull);
  rmSync(root, { recursive: true, force: true });
}

await main();
