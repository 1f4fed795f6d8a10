// The command line (SPEC §9): util.parseArgs underneath, each command's own --help, suggestions.
import { describe, expect, test } from '@jest/globals';
import { COMMANDS, commandHelp, parseArgs, UsageError } from '../src/adapters/cli/args.js';
import { runMain } from './helpers/cli-in-process.js';

const cli = (args: string[]) => runMain(args);

describe('help', () => {
  test.each(COMMANDS.map((c) => [c]))('%s --help shows its own usage, options and an example', async (c) => {
    const r = await cli([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${commandHelp(c)}\n`);
    expect(r.stdout).toMatch(new RegExp(`^site-deploy ${c} — .+\\n\\nUsage: site-deploy ${c}`));
    expect(r.stdout).toMatch(/\nOptions:\n {2}--/);
    expect(r.stdout).toMatch(/\nExample:\n {2}(site-deploy|terraform) /);
    expect(r.stdout).toContain('--root DIR');
  });

  test('a command’s help lists only its options', () => {
    expect(commandHelp('plan')).toContain('--lock-timeout T');
    expect(commandHelp('validate')).not.toContain('--lock-timeout');
    expect(commandHelp('summarize')).toContain('--markdown');
  });

  test('`help plan` is `plan --help`; the global help lists every command', async () => {
    expect((await cli(['help', 'plan'])).stdout).toBe(`${commandHelp('plan')}\n`);
    const global = (await cli(['--help'])).stdout;
    for (const c of COMMANDS) expect(global).toContain(`site-deploy ${c}`);
  });
});

describe('bad command lines', () => {
  test.each([
    [['plna'], 'unknown command "plna" — did you mean "plan"?'],
    [
      ['plan', '--site', 's', '--env', 'e', '--max-paralel', '2'],
      'unknown option "--max-paralel" — did you mean "--max-parallel"?',
    ],
    [
      ['validate', '--lock-timeout', '1m'],
      'validate has no option "--lock-timeout"; its options: --site, --env, --json, --root, --config-root, --catalog, --verbose, --help',
    ],
    [['graph', '--site'], '--site needs a value'],
    [['graph', '--site', '--env', 'dev'], '--site needs a value'],
    [['validate', '--json=yes'], '--json takes no value'],
    [
      ['apply', '--site', 's', '--env', 'e', '--lock-timeout', 'soon'],
      '--lock-timeout must be a duration like 30s, 5m or 1h, not "soon"',
    ],
    [['summarize'], 'summarize needs exactly one PLAN.json argument'],
    [['force-unlock', '--site', 's'], 'force-unlock needs --env'],
  ])('%j: %s', (argv, message) => {
    let thrown: unknown;
    try {
      parseArgs(argv);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toBe(message);
  });

  test('the hint names the command’s own help', async () => {
    const r = await cli(['graph', '--site', 's']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: graph needs --env\nRun "site-deploy graph --help" for usage.\n');
  });
});
