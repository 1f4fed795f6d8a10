// A YAML syntax error in any kind of config file is reported once, at its own line and column, with
// the parser's reason — and nothing read from that file is reported as a second error (SPEC §2, §9).
import { afterAll, describe, expect, test } from '@jest/globals';
import { runMain } from './helpers/cli-in-process.js';
import { baseRepo, cleanupRepos, problemLines, writeRepo } from './helpers/repo.js';

afterAll(cleanupRepos);

/** Runs `validate` on the base repository with one file replaced by `text`. */
async function validateWith(path: string, text: string) {
  const root = await writeRepo(baseRepo(), { [path]: text });
  const run = await runMain(['validate'], root);
  return { ...run, problems: problemLines(run.stderr) };
}

const UNTERMINATED_SITE = [
  'site:',
  '  name: s1',
  '  owner: platform',
  '  modules:',
  '    - type: aws-vpc',
  '      name: networking',
  "      cidr: '#{vpc_cidr}'",
  '    - type: app',
  '      vpc_id: "#{networking.vpc_id}',
  "      domain: '#{domain}'",
  '  environments:',
  '    - path: environments/dev.yaml',
  '    - path: environments/prod.yaml',
  '',
].join('\n');

describe('a YAML syntax error is the only error, at its line and column', () => {
  test.each([
    // The unterminated quote from the issue: once reported as a missing input at 1:1, or not at all.
    [
      'site.yaml: an unterminated double quote',
      'sites/s1/site.yaml',
      UNTERMINATED_SITE,
      9,
      15,
      /^invalid YAML: unterminated quoted string/,
    ],
    [
      'an environment file: a value indented under a key that has one',
      'sites/s1/environments/dev.yaml',
      'environment: dev\nvariables:\n  vpc_cidr: 10.0.0.0/16\n    domain: dev.example.com\n',
      4,
      5,
      /^invalid YAML: bad indentation: "domain" is indented deeper than "vpc_cidr"/,
    ],
    [
      'credentials.yaml: an unclosed flow map',
      'sites/s1/credentials.yaml',
      [
        'credentials:',
        '  dev: { aws_account: "111111111111", role: "arn:aws:iam::111111111111:role/deploy-dev", region: us-east-1',
        '  prod:',
        '    aws_account: "222222222222"',
        '',
      ].join('\n'),
      2,
      8,
      /^invalid YAML: unclosed flow map "\{"/,
    ],
    [
      'a module config file: a duplicate key',
      'sites/s1/modules/networking.yaml',
      'cidr: 10.0.0.0/16\nreplicas: 2\ncidr: 10.9.0.0/16\n',
      3,
      1,
      /duplicate key "cidr"/,
    ],
    [
      'a catalog manifest: an unterminated single quote',
      'modules/app/module.yaml',
      "engine: command\nservices: ['ecs]\ninputs:\n  vpc_id: { type: string, required: true }\n",
      2,
      12,
      /^invalid YAML: unterminated quoted string: the ' that opens this value has no closing '$/,
    ],
  ])('%s', async (_name, path, text, line, column, reason) => {
    const files: Record<string, string> = { [path]: text };
    // A module config file is only read when a module names it.
    if (path.endsWith('modules/networking.yaml'))
      files['sites/s1/site.yaml'] = UNTERMINATED_SITE.replace(
        '"#{networking.vpc_id}',
        '"#{networking.vpc_id}"',
      )
        // The required input cidr comes from the config file alone: unread, it is not "missing".
        .replace("      cidr: '#{vpc_cidr}'\n", '      config: modules/networking.yaml\n');
    const root = await writeRepo(baseRepo(), files);
    const run = await runMain(['validate'], root);
    const problems = problemLines(run.stderr).filter((p) => p.severity === 'error');
    expect(run.code).toBe(2);
    expect(problems).toEqual([
      {
        file: expect.stringContaining(path),
        line,
        column,
        severity: 'error',
        message: expect.stringMatching(/^invalid YAML: /),
      },
    ]);
    expect(problems[0]?.message).toMatch(reason);
  });
});

test('a file that parses is still checked: the same site with the quote closed validates', async () => {
  const run = await validateWith(
    'sites/s1/site.yaml',
    UNTERMINATED_SITE.replace('"#{networking.vpc_id}', '"#{networking.vpc_id}"'),
  );
  expect(run.problems.filter((p) => p.severity === 'error')).toEqual([]);
  expect(run.code).toBe(0);
});
