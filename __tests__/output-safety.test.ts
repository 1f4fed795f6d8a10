// The one redaction and the one engine-output writer, judged by what a runner would execute and
// what a reader would see.
import { afterAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { engineOutput, safeText } from '../src/adapters/run/engine-output.js';
import { GroupedLog } from '../src/adapters/run/group-log.js';
import { MASK, Redactor } from '../src/core/redact.js';
import { couldBeCommand, inertStretch, runnerSafeJson } from '../src/core/workflow-commands.js';
import { readAsRunner } from './helpers/runner-commands.js';
import { baseRepo, cleanupRepos, writeRepo } from './helpers/repo.js';
import { runMain } from './helpers/cli-in-process.js';
import { REDACTED } from '../src/core/graph/build.js';

/** What a hostile module prints: every way to reach the runner's command parser. */
const HOSTILE = [
  '::error::PWNED-error',
  '   ::set-output name=x::PWNED-set-output',
  '::endgroup::',
  '::group::PWNED-group',
  'prefix text ##[error]PWNED-legacy',
  '::add-mask::PWNED-mask',
  '::stop-commands::attacker-token',
  '::attacker-token::',
  '::error::PWNED-after-own-stop',
  'carriage\r::error::PWNED-cr',
  '::warning file=x,line=1::PWNED-warning',
  '##[group]PWNED-legacy-group',
  '##[endgroup]',
].join('\n');

describe('engine output on a runner', () => {
  test('nothing a module prints runs as a command; groups stay balanced; the tool’s own commands run', () => {
    const redactor = new Redactor();
    let out = '';
    const sink = engineOutput({ write: (t) => (out += t), redactor, runner: true });
    const log = new GroupedLog(sink);
    const a = log.open('alpha (step) — apply s/dev');
    const b = log.open('beta (step) — apply s/dev'); // buffered while alpha streams
    a.write(`${HOSTILE}\n`);
    b.write(`${HOSTILE}\n`);
    redactor.add('a-secret-learned-mid-run');
    a.write('tail\n');
    a.close();
    b.close();

    const r = readAsRunner(out);
    const names = r.commands.map((c) => c.name);
    expect(r.commands.filter((c) => /PWNED/.test(c.data) || /PWNED/.test(JSON.stringify(c.props)))).toEqual(
      [],
    );
    expect(names.filter((n) => n === 'group')).toHaveLength(2);
    expect(names.filter((n) => n === 'endgroup')).toHaveLength(2);
    expect(r.openGroups).toBe(0);
    expect(r.unbalanced).toBe(false);
    expect(r.stoppedAtEnd).toBe(false);
    expect(r.masks).toEqual([]);
    // Every hostile line is shown to the reader as text, twice (once per module).
    expect(r.shown.filter((l) => l === '::error::PWNED-error')).toHaveLength(2);
    expect(r.shown.filter((l) => l === 'prefix text ##[error]PWNED-legacy')).toHaveLength(2);
  });

  test('each stretch has its own 128-bit token, never shown to the module', () => {
    const tokens: string[] = [];
    let out = '';
    const sink = engineOutput({ write: (t) => (out += t), redactor: new Redactor(), runner: true });
    sink.write('one\n');
    sink.write('two');
    for (const m of out.matchAll(/^::stop-commands::([0-9a-f]+)$/gm)) tokens.push(m[1] as string);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(2);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    // A stretch always closes on a line of its own, even after text without a final newline.
    expect(out).toMatch(/\ntwo\n::[0-9a-f]{32}::\n$/);
  });

  test('a secret registered while a stretch is open is masked by the runner before it could be printed', () => {
    const redactor = new Redactor();
    let out = '';
    const sink = engineOutput({ write: (t) => (out += t), redactor, runner: true });
    redactor.onSecret((s) => (out += `::add-mask::${s}\n`)); // what core.setSecret writes
    sink.write('before\n');
    redactor.add('sess-token-ABCDEFG');
    sink.write('uses sess-token-ABCDEFG\n');
    const r = readAsRunner(out);
    expect(r.masks).toEqual(['sess-token-ABCDEFG']); // executed: it landed outside every stretch
    expect(r.shown.join('\n')).not.toContain('sess-token-ABCDEFG');
    expect(r.shown).toContain(`uses ${MASK}`);
  });

  test('property: whatever a module prints, the runner executes only the tool’s own group commands', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('::', '##[', '::stop-commands::', '::endgroup::', '\r', '::error::', ']', '%0A'),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.array(line, { maxLength: 6 }).map((p) => p.join('')),
          { maxLength: 12 },
        ),
        (lines) => {
          let out = '';
          const sink = engineOutput({ write: (t) => (out += t), redactor: new Redactor(), runner: true });
          sink.startGroup('m (t) — plan s/e');
          sink.write(lines.join('\n'));
          sink.endGroup();
          const r = readAsRunner(out);
          const text = lines.join('\n');
          expect(r.commands.map((c) => c.name)).toEqual(
            text ? ['group', 'stop-commands', 'endgroup'] : ['group', 'endgroup'],
          );
          expect(r.openGroups).toBe(0);
        },
      ),
      { numRuns: 500, seed: 8 },
    );
  });

  test('in a terminal, groups are ▼/▲ lines and text is redacted but otherwise as printed', () => {
    const redactor = new Redactor();
    redactor.add('hunter2hunter2');
    let out = '';
    const sink = engineOutput({ write: (t) => (out += t), redactor, runner: false });
    sink.startGroup('db (rds) — plan s/dev');
    sink.write('password hunter2hunter2\n::error::x\n');
    sink.endGroup();
    expect(out).toBe('▼ db (rds) — plan s/dev\npassword ***\n::error::x\n▲\n');
  });
});

describe('tool text and JSON that may quote engine output', () => {
  test('safeText wraps only text that could run, and only on a runner', () => {
    const r = new Redactor();
    expect(safeText('plain reason\n', r, true)).toBe('plain reason\n');
    expect(safeText('x ##[error]y\n', r, false)).toBe('x ##[error]y\n');
    const wrapped = safeText('apply failed: ##[error]PWNED\n::set-output name=a::b\n', r, true);
    expect(readAsRunner(wrapped).commands.map((c) => c.name)).toEqual(['stop-commands']);
  });

  test('runnerSafeJson parses to the same value and holds no command', () => {
    const doc = { reason: 'x ##[error]PWNED', nested: ['##[', '##[[', '###['], k: '::error::at start' };
    const text = runnerSafeJson(JSON.stringify(doc));
    expect(JSON.parse(text)).toEqual(doc);
    expect(readAsRunner(text).commands).toEqual([]);
    expect(couldBeCommand(text)).toBe(false);
  });

  test('inertStretch refuses a guessable token', () => {
    expect(() => inertStretch('x', 'attacker')).toThrow(/random hex/);
  });
});

describe('the one redaction', () => {
  test('every leaf of a sensitive map or list is a secret; short values and booleans are not', () => {
    const r = new Redactor();
    r.add({ user: 'admin-user', password: 'p@ss-w0rd-123', nested: [{ token: 'tok-000111' }], port: 54321 });
    r.add(true);
    r.add('abc');
    expect(r.text('admin-user p@ss-w0rd-123 tok-000111 54321 abc true')).toBe('*** *** *** *** abc true');
  });

  test('a secret is redacted inside JSON, URL-encoded, and line by line when it spans lines', () => {
    const r = new Redactor();
    const secret = 'he said "hi"/&?=x';
    const pem = '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n-----END KEY-----';
    r.add(secret);
    r.add(pem);
    expect(r.text(JSON.stringify({ v: secret }))).toBe('{"v":"***"}');
    expect(r.text(`q=${encodeURIComponent(secret)}`)).toBe('q=***');
    expect(r.text('line: MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf')).toBe('line: ***');
    expect(r.value({ [secret]: [secret, 1, null] })).toEqual({ '***': ['***', 1, null] });
  });

  test('the longest secret wins when one contains another', () => {
    const r = new Redactor();
    r.add('abcd');
    r.add('abcdefgh');
    expect(r.text('xabcdefghx abcd')).toBe('x***x ***');
  });

  test('listeners hear each new secret once, including those known before they listened', () => {
    const r = new Redactor();
    r.add('first-secret');
    const heard: string[] = [];
    r.onSecret((s) => heard.push(s));
    r.add('first-secret');
    r.add({ a: 'second-secret' });
    expect(heard).toEqual(['first-secret', 'second-secret']);
  });

  test('property: a registered secret never survives text() in any embedding', () => {
    fc.assert(
      fc.property(
        // (A secret made of the mask itself, like "a***", could be rebuilt by masking; not a real risk.)
        fc.string({ minLength: 4, maxLength: 30 }).filter((s) => !s.includes('*')),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        (secret, before, after) => {
          const r = new Redactor();
          r.add(secret);
          expect(r.text(before + secret + after)).not.toContain(secret);
          expect(r.text(JSON.stringify({ x: before + secret + after }))).not.toContain(
            JSON.stringify(secret).slice(1, -1),
          );
        },
      ),
      { numRuns: 1000, seed: 11 },
    );
  });
});

describe('graph --json and validate messages', () => {
  afterAll(cleanupRepos);

  const cli = runMain;

  test('a sensitive input is redacted, and so is its value wherever another input repeats it', async () => {
    const repo = baseRepo();
    const s1 = repo.sites.s1!;
    s1.modules[1] = { ...(s1.modules[1] as object), license: '#{lic}', labels: 'lic=#{lic}' };
    for (const env of Object.values(s1.envs))
      (env.variables as Record<string, unknown>).lic = 'LIC-KEY-5f5f5f5f';
    const root = await writeRepo(repo);
    const r = await cli(['graph', '--root', root, '--site', 's1', '--env', 'dev', '--json'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('LIC-KEY-5f5f5f5f');
    const doc = JSON.parse(r.stdout) as { waves: { name: string; inputs: Record<string, unknown> }[][] };
    const app = doc.waves.flat().find((n) => n.name === 'app')!;
    expect(app.inputs.license).toBe(REDACTED);
    expect(app.inputs.labels).toBe(`lic=${MASK}`);
  });

  test('a type error on a sensitive input names the types, never the value', async () => {
    const repo = baseRepo();
    const s1 = repo.sites.s1!;
    s1.modules[1] = { ...(s1.modules[1] as object), license: '#{lic}' };
    for (const env of Object.values(s1.envs)) (env.variables as Record<string, unknown>).lic = 987654321;
    const root = await writeRepo(repo);
    const r = await cli(['validate', '--root', root], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('input "license" of module "app" must be a string, but lic is a number\n');
    expect(r.stderr).not.toContain('987654321');
  });
});

describe('Redactor', () => {
  test('a sensitive list of 200,000 values is registered whole (no call-stack overflow), every value masked', () => {
    const redactor = new Redactor();
    const values = Array.from({ length: 200_000 }, (_, i) => `token-${String(i).padStart(6, '0')}`);
    redactor.add({ nested: [values] });
    const line = `first ${values[0]} last ${values.at(-1)}`;
    expect(redactor.text(line)).toBe(`first ${MASK} last ${MASK}`);
  });
});
