// Bad input through the bundled CLI (`node dist/cli.js`): every case must exit 2 with one clear
// `file:line:column: error: message` per problem, never a stack trace (SPEC §2, §3, §4, §9).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  baseRepo,
  cleanupRepos,
  creds,
  ensureBundle,
  problemLines,
  runCli,
  writeRepo,
  yaml,
  type CliRun,
  type Files,
  type RepoDesc,
} from './helpers/repo.js';

/** A file outside every fixture repository, for symlinks that escape the root. */
const OUTSIDE = join(tmpdir(), `sd-outside-${process.pid}.yaml`);

beforeAll(async () => {
  await writeFile(OUTSIDE, 'credentials: {}\n');
  await ensureBundle();
}, 300_000);
afterAll(async () => {
  await rm(OUTSIDE, { force: true });
  await cleanupRepos();
});

/** Neither a stack trace nor a raw Node error leaks out. */
function expectNoCrash(run: CliRun): void {
  const all = `${run.stdout}\n${run.stderr}`;
  expect(all).not.toMatch(/^\s+at .+/m);
  expect(all).not.toMatch(/\b[A-Za-z]*Error:/);
  expect(all).not.toMatch(/internal error/);
  expect(all).not.toMatch(/^Node\.js v\d+/m);
}

/** A valid site.yaml for site s1 (environments discovered from the folder: dev, prod). */
const SITE = yaml`
  site:
    name: s1
    owner: platform
    modules:
      - type: aws-vpc
        name: networking
        cidr: "#{vpc_cidr}"
      - type: app
        vpc_id: "#{networking.vpc_id}"
        domain: "#{domain}"
`;

const DEV = yaml`
  environment: dev
  variables:
    vpc_cidr: 10.0.0.0/16
    domain: dev.example.com
    replicas: 2
`;

const CREDS = yaml`
  credentials:
    dev:
      aws_account: "111111111111"
      role: arn:aws:iam::111111111111:role/deploy-dev
      region: us-east-1
    prod:
      aws_account: "222222222222"
      role: arn:aws:iam::222222222222:role/deploy-prod
      region: us-east-1
`;

const S = 'sites/s1/site.yaml';
const E = 'sites/s1/environments/dev.yaml';
const C = 'sites/s1/credentials.yaml';

/** A billion-laughs alias bomb: 9 levels of 9 aliases each. */
function aliasBomb(): string {
  const names = 'abcdefghi'.split('');
  const lines = ['environment: dev', 'variables:', '  a: &a [x,x,x,x,x,x,x,x,x]'];
  for (let i = 1; i < names.length; i++) {
    const prev = names[i - 1] as string;
    lines.push(`  ${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

interface Row {
  name: string;
  /** Raw files over the base repository (null deletes). */
  files?: Files;
  /** Changes to the base description, applied before `files`. */
  repo?: (d: RepoDesc) => void;
  /** The command line after `--root DIR`; default `validate`. */
  args?: string[];
  file: string;
  line: number;
  column?: number;
  message: RegExp;
  /** How many error lines in all, when the case pins it (no cascades). */
  errors?: number;
}

const rows: Row[] = [
  // ---- malformed YAML and file limits ------------------------------------------------------
  {
    name: 'bad indentation',
    files: {
      [S]: 'site:\n  name: s1\n  modules:\n    - type: aws-vpc\n     name: networking\n      cidr: x\n',
    },
    file: S,
    line: 5,
    column: 6,
    message: /invalid YAML: bad indentation: "name" starts at column 6, but "type" before it at column 7/,
  },
  {
    // The quote opens on line 2; the parser notices at the end of the file (line 5 of a 4-line file).
    name: 'unclosed quote (named where it opens)',
    files: { [S]: 'site:\n  name: "s1\n  modules:\n    - type: aws-vpc\n' },
    file: S,
    line: 2,
    message: /invalid YAML: .*(quote|")/i,
  },
  {
    name: 'tab indentation',
    files: { [S]: 'site:\n  name: s1\n\towner: x\n  modules:\n    - type: free\n' },
    file: S,
    line: 3,
    column: 1,
    message: /invalid YAML: Tabs/,
  },
  {
    name: 'duplicate keys',
    files: { [S]: 'site:\n  name: s1\n  modules:\n    - type: aws-vpc\n      cidr: a\n      cidr: b\n' },
    file: S,
    line: 6,
    column: 7,
    message: /duplicate key/,
  },
  { name: 'empty file', files: { [S]: '' }, file: S, line: 1, column: 1, message: /file is empty/ },
  {
    name: 'comments-only file',
    files: { [E]: '# nothing here\n\n' },
    file: E,
    line: 1,
    column: 1,
    message: /file is empty/,
  },
  {
    name: 'non-UTF-8 bytes in the middle of line 3',
    files: {
      [S]: Buffer.concat([
        Buffer.from('site:\n  name: s1\n  owner: ab'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('cd\n  modules:\n    - type: free\n'),
      ]),
    },
    file: S,
    line: 3,
    column: 12,
    message: /not valid UTF-8.*0xff/,
  },
  {
    name: 'oversize file (> 1 MiB)',
    files: {
      [S]: `site:\n  name: s1\n  description: "${'x'.repeat(1024 * 1024)}"\n  modules:\n    - type: free\n`,
    },
    file: S,
    line: 1,
    column: 1,
    message: /at most 1048576 bytes \(1 MiB\)/,
  },
  {
    name: 'alias bomb (billion laughs)',
    files: { [E]: aliasBomb() },
    file: E,
    line: 4,
    column: 10,
    message: /too many alias expansions.*alias bomb/,
  },
  {
    // An anchor whose own value aliases it builds a circular value: it must be refused, not crash.
    name: 'self-referencing alias',
    files: { [E]: 'environment: dev\nvariables:\n  vpc_cidr: x\n  domain: y\n  loop: &l { k: *l }\n' },
    file: E,
    line: 5,
    message: /alias/i,
  },
  {
    name: 'multiple documents',
    files: { [E]: 'environment: dev\n---\nenvironment: prod\n' },
    file: E,
    line: 2,
    column: 1,
    message: /more than one YAML document/,
  },

  // ---- schema violations -------------------------------------------------------------------
  {
    name: 'unknown module key "wieght" (manifest declares inputs) with suggestion',
    files: {
      [S]: SITE.replace('      cidr: "#{vpc_cidr}"\n', '      cidr: "#{vpc_cidr}"\n      wieght: 10\n'),
    },
    file: S,
    line: 8,
    column: 7,
    message: /module "networking" \(aws-vpc\) has no input "wieght" — did you mean "weight"\?/,
  },
  {
    name: 'unknown top-level key in an environment, with suggestion',
    files: { [E]: 'environment: dev\nvariabels:\n  vpc_cidr: x\n' },
    file: E,
    line: 2,
    column: 1,
    message: /unknown key "variabels" in \(top level\) — did you mean "variables"\?/,
  },
  {
    name: 'wrong type: weight: heavy',
    files: { [S]: 'site:\n  name: s1\n  modules:\n    - type: free\n      weight: heavy\n' },
    file: S,
    line: 5,
    column: 15,
    message: /site\.modules\[0\]\.weight must be a number, not "heavy"/,
  },
  {
    // NaN passes `type: number` but no scheduler can order it.
    name: 'weight: .nan',
    files: { [S]: 'site:\n  name: s1\n  modules:\n    - type: free\n      weight: .nan\n' },
    file: S,
    line: 5,
    message: /weight/,
  },
  {
    name: 'missing site.name',
    files: { [S]: 'site:\n  owner: x\n  modules:\n    - type: free\n' },
    file: S,
    line: 1,
    column: 1,
    message: /site is missing required key "name"/,
  },
  {
    name: 'unknown lifecycle value',
    files: { [E]: 'environment: dev\nlifecycle: temporary\nvariables: { vpc_cidr: x, domain: y }\n' },
    file: E,
    line: 2,
    column: 12,
    message: /lifecycle is "temporary"; expected one of: long-lived, ephemeral/,
  },
  {
    name: 'aws_account as an unquoted number',
    files: { [C]: CREDS.replace('aws_account: "111111111111"', 'aws_account: 111111111111') },
    file: C,
    line: 3,
    column: 18,
    message: /credentials\.dev\.aws_account must be a string.*quote the 12-digit account id/,
  },
  {
    name: 'bad region',
    files: { [C]: CREDS.replace('region: us-east-1\n  prod', 'region: useast1\n  prod') },
    file: C,
    line: 5,
    column: 13,
    message: /credentials\.dev\.region is "useast1", which is not an AWS region name/,
  },
  {
    // One bad name is one problem, reported where the name is (line 5), not also at the map.
    name: 'invalid variable name',
    files: { [E]: 'environment: dev\nvariables:\n  vpc_cidr: x\n  domain: y\n  bad.name: 1\n' },
    file: E,
    line: 5,
    column: 3,
    message: /invalid name "bad\.name" in variables/,
    errors: 1,
  },

  // ---- names ---------------------------------------------------------------------------------
  {
    name: 'site.name differs from the folder',
    files: { [S]: SITE.replace('name: s1', 'name: s2') },
    file: S,
    line: 2,
    column: 9,
    message: /site\.name is "s2" but the site's folder is "s1"/,
  },
  {
    name: 'environment name differs from the file name',
    files: {
      'sites/s1/environments/prod.yaml': 'environment: production\nvariables: { vpc_cidr: x, domain: y }\n',
    },
    file: 'sites/s1/environments/prod.yaml',
    line: 1,
    column: 14,
    message: /environment is "production" but the file is prod\.yaml/,
  },
  {
    name: 'unknown module type with suggestion',
    files: { [S]: SITE.replace('type: aws-vpc', 'type: aws-vcp') },
    file: S,
    line: 5,
    column: 13,
    message:
      /unknown module type "aws-vcp": the catalog modules\/ has no folder "aws-vcp" — did you mean "aws-vpc"\?/,
  },
  {
    name: 'duplicate module names',
    files: {
      [S]: SITE.replace('    - type: app\n', '    - type: app\n      name: networking\n').replace(
        '"#{networking.vpc_id}"',
        'vpc-1',
      ),
    },
    file: S,
    line: 9,
    column: 13,
    message: /module name "networking" is used twice/,
  },

  // ---- manifest-declared inputs ----------------------------------------------------------------
  {
    name: 'unknown input under inputs: with suggestion',
    files: { [S]: `${SITE}      inputs:\n        domian: x\n` },
    file: S,
    line: 12,
    column: 9,
    message: /module "app" \(app\) has no input "domian" — did you mean "domain"\?/,
  },
  {
    // Object.prototype names are not declared inputs.
    name: 'undeclared input named like an Object.prototype member',
    files: {
      [S]: SITE.replace('      cidr: "#{vpc_cidr}"\n', '      cidr: "#{vpc_cidr}"\n      toString: x\n'),
    },
    file: S,
    line: 8,
    column: 7,
    message: /module "networking" \(aws-vpc\) has no input "toString"/,
  },
  {
    name: 'missing required input',
    files: { [S]: SITE.replace('      vpc_id: "#{networking.vpc_id}"\n', '') },
    file: S,
    line: 8,
    column: 7,
    message: /module "app" \(app\) is missing required input "vpc_id"/,
  },
  {
    name: 'wrong type after a type-preserving placeholder',
    files: {
      [S]: SITE.replace(
        '      domain: "#{domain}"\n',
        '      domain: "#{domain}"\n      replicas: "#{replicas}"\n',
      ),
      [E]: DEV.replace('replicas: 2', 'replicas: "three"'),
    },
    file: S,
    line: 11,
    column: 17,
    message:
      /input "replicas" of module "app" must be a number, but replicas is a string: "three" \(environment dev\)/,
  },
  {
    name: 'the same input as a module key and under inputs:',
    files: { [S]: `${SITE}      inputs:\n        domain: y\n` },
    file: S,
    line: 12,
    column: 9,
    message: /input "domain" of module "app" is given twice/,
  },

  // ---- placeholders ------------------------------------------------------------------------------
  {
    name: 'unknown variable with suggestion',
    files: { [S]: SITE.replace('#{domain}', '#{domian}') },
    file: S,
    line: 10,
    column: 16,
    message: /unknown variable "domian" — did you mean "domain"\?/,
  },
  {
    name: 'unknown module in #{netwrking.vpc_id} with suggestion',
    files: { [S]: SITE.replace('#{networking.vpc_id}', '#{netwrking.vpc_id}') },
    file: S,
    line: 9,
    column: 16,
    message: /unknown module "netwrking" in #\{netwrking\.vpc_id\} — did you mean "networking"\?/,
  },
  {
    name: 'unknown output #{networking.vpc_idd} with suggestion',
    files: { [S]: SITE.replace('#{networking.vpc_id}', '#{networking.vpc_idd}') },
    file: S,
    line: 9,
    column: 16,
    message: /module "networking" \(aws-vpc\) has no output "vpc_idd" — did you mean "vpc_id"\?/,
  },
  {
    name: 'unclosed #{',
    files: { [S]: SITE.replace('"#{domain}"', '"x-#{domain"') },
    file: S,
    line: 10,
    column: 18,
    message: /unclosed placeholder "#\{domain"/,
  },
  {
    name: 'unknown filter | ToUpperr with suggestion',
    files: { [S]: SITE.replace('#{domain}', '#{domain | ToUpperr}') },
    file: S,
    line: 10,
    column: 16,
    message: /unknown filter "ToUpperr" — did you mean "ToUpper"\?/,
  },
  {
    name: 'a variable reading a module output',
    files: { [E]: DEV.replace('domain: dev.example.com', 'domain: "#{networking.vpc_id}"') },
    file: E,
    line: 4,
    column: 12,
    message: /#\{networking\.vpc_id\}: environment variables .* never module outputs/,
  },
  {
    name: 'a variable shadowing a built-in',
    files: { [E]: `${DEV}  Environment: x\n` },
    file: E,
    line: 6,
    column: 3,
    message: /variable "Environment" would shadow the built-in #\{Environment\}/,
  },
  {
    name: 'reading a module filtered out of the environment (names both)',
    files: {
      [S]: SITE.replace(
        '      cidr: "#{vpc_cidr}"\n',
        '      cidr: "#{vpc_cidr}"\n      environments: [prod]\n',
      ),
    },
    file: S,
    line: 10,
    column: 16,
    message:
      /module "app" reads #\{networking\.vpc_id\}, but module "networking" does not deploy to environment dev/,
  },

  // ---- cycles and ordering --------------------------------------------------------------------------
  {
    name: 'variable cycle a -> b -> a',
    files: { [E]: `${DEV}  a: "#{b}"\n  b: "pre-#{a}"\n` },
    file: E,
    line: 6,
    column: 7,
    message: /variable cycle: a -> b -> a/,
  },
  {
    name: 'depends_on cycle with ordering: dependencies',
    files: {
      [S]: 'site:\n  name: s1\n  ordering: dependencies\n  modules:\n    - type: free\n      name: x\n      depends_on: [y]\n    - type: free\n      name: y\n      depends_on: [x]\n',
    },
    file: S,
    line: 5,
    column: 7,
    message: /cycle.*: x -> y -> x/,
  },
  {
    name: 'placeholder cycle with ordering: dependencies',
    files: {
      [S]: 'site:\n  name: s1\n  ordering: dependencies\n  modules:\n    - type: free\n      name: x\n      v: "#{y.out}"\n    - type: free\n      name: y\n      v: "#{x.out}"\n',
    },
    file: S,
    line: 5,
    column: 7,
    message: /cycle.*: x -> y -> x/,
  },
  {
    name: 'placeholder to an equal weight (names both modules and weights)',
    files: {
      [S]: 'site:\n  name: s1\n  modules:\n    - type: aws-vpc\n      name: networking\n      cidr: x\n      weight: 50\n    - type: app\n      vpc_id: "#{networking.vpc_id}"\n      weight: 50\n',
    },
    file: S,
    line: 9,
    column: 16,
    message:
      /module "app" \(weight 50\) reads #\{networking\.vpc_id\} from module "networking" \(weight 50\)/,
  },
  {
    name: 'depends_on a heavier module (names both modules and weights)',
    files: {
      [S]: 'site:\n  name: s1\n  modules:\n    - type: aws-vpc\n      name: networking\n      cidr: x\n      weight: 50\n    - type: app\n      vpc_id: vpc-1\n      weight: 20\n      depends_on: [networking]\n',
    },
    file: S,
    line: 11,
    column: 20,
    message: /module "app" \(weight 20\) depends_on module "networking" \(weight 50\)/,
  },
  {
    name: 'depends_on an unknown module with suggestion',
    files: {
      [S]: 'site:\n  name: s1\n  modules:\n    - type: free\n      name: alpha\n    - type: free\n      name: beta\n      depends_on: [alpah]\n',
    },
    file: S,
    line: 8,
    column: 20,
    message: /module "beta" depends_on unknown module "alpah" — did you mean "alpha"\?/,
  },

  // ---- credentials rules ----------------------------------------------------------------------------------
  {
    name: 'role in another account',
    files: {
      [C]: CREDS.replace(
        'role: arn:aws:iam::111111111111:role/deploy-dev',
        'role: arn:aws:iam::333333333333:role/deploy-dev',
      ),
    },
    file: C,
    line: 4,
    column: 11,
    message: /role is in account 333333333333, not in aws_account 111111111111/,
  },
  {
    name: 'plan_role in another account',
    files: {
      [C]: CREDS.replace(
        '    region: us-east-1\n  prod',
        '    plan_role: arn:aws:iam::444444444444:role/ro\n    region: us-east-1\n  prod',
      ),
    },
    file: C,
    line: 5,
    column: 16,
    message: /plan_role is in account 444444444444, not in aws_account 111111111111/,
  },
  {
    name: 'boundary_policy in another account',
    files: {
      [C]: CREDS.replace(
        '    region: us-east-1\n  prod',
        '    boundary_policy: arn:aws:iam::555555555555:policy/b\n    region: us-east-1\n  prod',
      ),
    },
    file: C,
    line: 5,
    column: 22,
    message: /boundary_policy is in account 555555555555, not in aws_account 111111111111/,
  },
  {
    name: 'wrong partition for us-gov-west-1',
    files: { [C]: `${CREDS.slice(0, CREDS.lastIndexOf('region: us-east-1'))}region: us-gov-west-1\n` },
    file: C,
    line: 8,
    column: 11,
    message:
      /role uses partition "aws", but region us-gov-west-1 is in partition "aws-us-gov": write arn:aws-us-gov:iam::/,
  },
  {
    name: 'session_duration 800',
    files: { [C]: `${CREDS}    session_duration: 800\n` },
    file: C,
    line: 10,
    column: 23,
    message: /session_duration 800 is outside 900–43200 seconds/,
  },
  {
    name: 'session_duration 50000',
    files: { [C]: `${CREDS}    session_duration: 50000\n` },
    file: C,
    line: 10,
    column: 23,
    message: /session_duration 50000 is outside 900–43200 seconds/,
  },
  {
    name: 'via with session_duration 7200',
    files: { [C]: `${CREDS}    via: arn:aws:iam::999999999999:role/hub\n    session_duration: 7200\n` },
    file: C,
    line: 11,
    column: 23,
    message: /session_duration 7200 exceeds 3600 seconds: with via the session is chained/,
  },
  {
    name: 'missing credentials entry for an environment whose modules need AWS',
    files: { [C]: CREDS.slice(0, CREDS.indexOf('  prod:')) },
    file: C,
    line: 1,
    column: 1,
    message:
      /environment "prod" has no entry in sites\/s1\/credentials\.yaml, but its modules need AWS \(networking: ec2; app: ecs\)/,
  },
  {
    name: 'module services not in allowed_services',
    files: {
      [C]: CREDS.replace(
        '    region: us-east-1\n  prod',
        '    region: us-east-1\n    allowed_services: [ec2]\n  prod',
      ),
    },
    file: S,
    line: 8,
    column: 13,
    message:
      /module "app" needs AWS service ecs, which credentials for environment dev do not allow \(allowed_services: ec2\)/,
  },

  // ---- path escapes ----------------------------------------------------------------------------------------
  {
    name: 'config: ../../../etc/passwd',
    files: { [S]: SITE.replace('      cidr: "#{vpc_cidr}"\n', '      config: ../../../etc/passwd\n') },
    file: S,
    line: 7,
    column: 15,
    message: /config path "\.\.\/\.\.\/\.\.\/etc\/passwd" escapes the repository root/,
  },
  {
    name: 'environment path ../../../x.yaml escapes the root',
    files: {
      [S]: `${SITE}  environments:\n    - path: environments/dev.yaml\n    - path: ../../../x.yaml\n`,
    },
    file: S,
    line: 13,
    column: 13,
    message: /environment path "\.\.\/\.\.\/\.\.\/x\.yaml" escapes the repository root/,
  },
  {
    name: 'environment path ../../x.yaml (outside the site folder, missing)',
    files: { [S]: `${SITE}  environments:\n    - path: environments/dev.yaml\n    - path: ../../x.yaml\n` },
    file: S,
    line: 13,
    column: 13,
    message: /x\.yaml/,
  },
  {
    name: 'a symlinked config file pointing outside the root',
    files: {
      [S]: SITE.replace('      cidr: "#{vpc_cidr}"\n', '      config: modules/net.yaml\n'),
      'sites/s1/modules/net.yaml': { symlink: OUTSIDE },
    },
    file: S,
    line: 7,
    column: 15,
    message: /sites\/s1\/modules\/net\.yaml resolves outside the repository root/,
  },
  {
    name: 'a symlinked environment file pointing outside the root',
    files: {
      [S]: `${SITE}  environments:\n    - path: environments/dev.yaml\n    - path: environments/prod.yaml\n`,
      'sites/s1/environments/prod.yaml': { symlink: OUTSIDE },
    },
    file: S,
    line: 13,
    column: 13,
    message: /sites\/s1\/environments\/prod\.yaml resolves outside the repository root/,
  },
  {
    // Refusing the file is right; saying nothing about it (and blaming missing entries) is not.
    name: 'a symlinked credentials.yaml pointing outside the root',
    files: { [C]: { symlink: OUTSIDE } },
    file: C,
    line: 1,
    message: /resolves outside the repository root/,
  },

  // ---- selection ----------------------------------------------------------------------------------------------
  {
    name: 'graph --env that does not exist (suggestion)',
    args: ['graph', '--site', 's1', '--env', 'dve'],
    file: S,
    line: 1,
    column: 1,
    message: /site s1 has no environment "dve" — did you mean "dev"\?/,
  },
  {
    name: 'validate --env that does not exist',
    args: ['validate', '--env', 'staging'],
    file: S,
    line: 1,
    column: 1,
    message: /site s1 has no environment "staging"; environments: dev, prod/,
  },
  {
    name: 'promotion naming an unknown environment',
    files: {
      [S]: SITE.replace('  owner: platform\n', '  owner: platform\n  promotion: [dev, staging, prod]\n'),
    },
    file: S,
    line: 4,
    column: 20,
    message:
      /promotion names environment "staging", which the site does not deploy to; environments: dev, prod/,
  },
  {
    name: 'module environments: naming an unknown environment',
    files: { [S]: `${SITE}      environments: [dev, prdo]\n` },
    file: S,
    line: 11,
    column: 27,
    message:
      /module "app" names environment "prdo", which the site does not deploy to — did you mean "prod"\?/,
  },
];

function repoFor(row: Row): Promise<string> {
  const desc = baseRepo();
  const site = desc.sites.s1 as RepoDesc['sites'][string];
  site.credentials = site.credentials ?? {
    dev: creds('111111111111', 'dev'),
    prod: creds('222222222222', 'prod'),
  };
  row.repo?.(desc);
  return writeRepo(desc, {
    [S]: SITE,
    [E]: DEV,
    'sites/s1/environments/prod.yaml': DEV.replace('dev', 'prod'),
    [C]: CREDS,
    ...(row.files ?? {}),
  });
}

describe('bad input: exit 2, file:line:column, message, no stack trace', () => {
  test('the table is big enough', () => {
    expect(rows.length).toBeGreaterThanOrEqual(35);
  });

  test.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const root = await repoFor(row);
    const [command = 'validate', ...rest] = row.args ?? ['validate'];
    const run = await runCli([command, '--root', root, ...rest]);
    expectNoCrash(run);
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(row.message),
    });
    const errors = problemLines(run.stderr).filter((p) => p.severity === 'error');
    if (row.errors !== undefined)
      expect(errors.map((e) => `${e.line}:${e.column}: ${e.message}`)).toHaveLength(row.errors);
    const hit = errors.find((p) => row.message.test(p.message));
    expect(hit).toBeDefined();
    if (!hit) return;
    expect(hit.file.endsWith(row.file)).toBe(true);
    expect({ line: hit.line, ...(row.column === undefined ? {} : { column: hit.column }) }).toEqual({
      line: row.line,
      ...(row.column === undefined ? {} : { column: row.column }),
    });

    if (command !== 'validate') {
      expect(run.stdout).toBe('');
      return;
    }
    // The same problem, once more as the one JSON document of `validate --json`.
    const json = await runCli([command, '--root', root, ...rest, '--json']);
    expectNoCrash(json);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout) as {
      ok: boolean;
      errors: { file: string; line: number; column: number; message: string }[];
    };
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(doc.ok).toBe(false);
    for (const e of doc.errors) expect(Object.keys(e).sort()).toEqual(['column', 'file', 'line', 'message']);
    const same = doc.errors.find((e) => row.message.test(e.message));
    expect(same).toMatchObject({
      file: row.file,
      line: row.line,
      ...(row.column === undefined ? {} : { column: row.column }),
    });
  });
});

describe('every problem, once', () => {
  test('a site.yaml with three problems reports all three in one run', async () => {
    const site = yaml`
      site:
        name: s1
        modules:
          - type: aws-vpc
            name: networking
            cidr: "#{vpc_cidrr}"
          - type: app
            vpc_id: "#{networking.vpc_idd}"
            depends_on: [netwrking]
    `;
    const root = await writeRepo(baseRepo(), { [S]: site });
    const run = await runCli(['validate', '--root', root]);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    const errors = problemLines(run.stderr).filter((p) => p.severity === 'error');
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [6, 14],
      [8, 16],
      [9, 20],
    ]);
    expect(errors.every((e) => e.file.endsWith(S))).toBe(true);
    expect(run.stderr).toMatch(/✗ 3 errors/);

    const json = await runCli(['validate', '--root', root, '--json']);
    const doc = JSON.parse(json.stdout) as { ok: boolean; errors: unknown[] };
    expect(doc.errors).toHaveLength(3);
  });

  test('a credentials.yaml with two schema errors reports exactly those two (no "has no entry" cascade)', async () => {
    const root = await writeRepo(baseRepo(), {
      [C]: CREDS.replace('aws_account: "111111111111"', 'aws_account: 111111111111').replace(
        'region: us-east-1\n',
        'region: useast1\n',
      ),
    });
    const run = await runCli(['validate', '--root', root]);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    const errors = problemLines(run.stderr).filter((p) => p.severity === 'error');
    expect(errors.map((e) => `${e.file.slice(-C.length)}:${e.line}:${e.column}`)).toEqual([
      `${C}:3:18`,
      `${C}:5:13`,
    ]);
  });

  test('an environment-independent cycle is reported once, naming the environment at most once', async () => {
    const root = await writeRepo(baseRepo(), {
      [S]: 'site:\n  name: s1\n  ordering: dependencies\n  modules:\n    - type: free\n      name: x\n      depends_on: [y]\n    - type: free\n      name: y\n      depends_on: [x]\n',
    });
    const run = await runCli(['validate', '--root', root]);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    const cycles = problemLines(run.stderr).filter((p) => /cycle/.test(p.message));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.message).toMatch(/x -> y -> x/);
    expect((cycles[0]?.message.match(/environment/g) ?? []).length).toBeLessThanOrEqual(1);
  });

  test('validate --json prints exactly one JSON document on stdout and nothing else there', async () => {
    const root = await writeRepo(baseRepo(), {
      [S]: SITE.replace('#{domain}', '#{domian}').replace('name: s1', 'name: s9'),
    });
    const run = await runCli(['validate', '--root', root, '--json']);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ ok: false });
    expect(Object.keys(doc).filter((k) => k !== 'warnings')).toEqual(['ok', 'errors']);
    expect(doc.errors).toEqual([
      { file: S, line: 2, column: 9, message: expect.stringMatching(/site\.name is "s9"/) },
      {
        file: S,
        line: 10,
        column: 16,
        message: expect.stringMatching(/unknown variable "domian" — did you mean "domain"\?/),
      },
    ]);
    expect(run.stderr).toBe('');
  });

  test('graph --json with bad config prints only the failure document on stdout and exits 2', async () => {
    const root = await writeRepo(baseRepo(), { [S]: SITE.replace('#{domain}', '#{domian}') });
    const run = await runCli(['graph', '--root', root, '--site', 's1', '--env', 'dev', '--json']);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      command: 'graph',
      status: 'invalid',
      exit_code: 2,
      errors: [
        { file: 'sites/s1/site.yaml', line: 10, message: expect.stringMatching(/unknown variable "domian"/) },
      ],
    });
    expect(problemLines(run.stderr).map((p) => p.message)).toEqual([
      expect.stringMatching(/unknown variable "domian"/),
    ]);
  });
});

describe('command line', () => {
  test.each([
    ['unknown command', ['valdate'], /unknown command "valdate" — did you mean "validate"\?/],
    ['unknown flag', ['validate', '--roots', '.'], /unknown option "--roots" — did you mean "--root"\?/],
    ['flag without its value', ['graph', '--site'], /--site needs a value/],
    ['graph without --env', ['graph', '--site', 's1'], /graph needs --env/],
    ['bool flag with a value', ['validate', '--json=yes'], /--json takes no value/],
    ['stray positional argument', ['validate', 'extra'], /unexpected argument "extra"/],
    [
      '--config-root outside the root',
      ['validate', '--config-root', '../x'],
      /--config-root must be a path inside --root/,
    ],
  ])('%s: exit 2 with a usage hint', async (_n, args, message) => {
    const run = await runCli(args);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Run "site-deploy (\S+ )?--help" for usage/);
  });

  test.each([
    ['validate', ['validate', '--site', 's2'], /no site "s2" under sites\/ — did you mean "s1"\?/],
    [
      'graph',
      ['graph', '--site', 's11', '--env', 'dev'],
      /no site "s11" under sites\/ — did you mean "s1"\?/,
    ],
  ])('%s --site that does not exist: exit 2 with a suggestion, no position', async (_n, args, message) => {
    const root = await writeRepo(baseRepo(), {});
    const [command = 'validate', ...rest] = args;
    const run = await runCli([command, '--root', root, ...rest]);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.split('\n')[0]).toMatch(/^error: no site/);
  });

  test('a --root that does not exist is bad input naming the config root', async () => {
    const run = await runCli(['validate', '--root', '/nonexistent/sd-root', '--json']);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      errors: [
        {
          file: 'sites',
          line: 1,
          column: 1,
          message: expect.stringMatching(/config root "sites" does not exist/),
        },
      ],
    });
  });
});

describe('robustness: odd but valid-looking input never crashes', () => {
  test('UriEscape of a value holding a lone surrogate is not an internal error', async () => {
    const root = await writeRepo(baseRepo(), {
      [S]: SITE.replace('"#{domain}"', '"#{domain | UriEscape}"'),
      [E]: DEV.replace('domain: dev.example.com', 'domain: "a\\ud800b"'),
    });
    const run = await runCli(['validate', '--root', root]);
    expectNoCrash(run);
    expect([0, 2]).toContain(run.code);
  });

  test('deeply nested flow collections are a clear error, not a crash', async () => {
    const n = 100_000;
    const root = await writeRepo(baseRepo(), {
      [E]: `environment: dev\nvariables:\n  x: ${'['.repeat(n)}${']'.repeat(n)}\n`,
    });
    const run = await runCli(['validate', '--root', root]);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(problemLines(run.stderr).some((p) => p.file.endsWith(E) && p.line === 3)).toBe(true);
  });

  test('a collection used as a map key is a clear error without Node warnings', async () => {
    const root = await writeRepo(baseRepo(), {
      [E]: 'environment: dev\nvariables:\n  vpc_cidr: x\n  domain: y\n  ? [a, b]\n  : 1\n',
    });
    const run = await runCli(['validate', '--root', root]);
    expectNoCrash(run);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/\(node:\d+\) Warning/);
    expect(problemLines(run.stderr).filter((p) => p.severity === 'error' && p.file.endsWith(E))).toHaveLength(
      1,
    );
  });
});
