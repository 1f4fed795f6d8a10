// The smaller outcomes of issue 18, each as a user meets it through the CLI: a command module's
// undeclared output, `graph`'s resolved inputs, `matrix --changed-from` on a working tree, the
// messages after a missing catalog type or environment, a cycle's fix hint, and the README's
// command-module contract run as written.
import { afterAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { runMain } from './helpers/cli-in-process.js';
import { cleanupSites, TF_MODULES, writeSite, type SiteRepo } from './helpers/site.js';

afterAll(cleanupSites);

const where = (repo: SiteRepo): string[] => ['--root', repo.root, '--site', repo.site, '--env', repo.env];

describe('a command module writing an output its manifest does not declare', () => {
  const writes = (doc: string) => `printf '%s' '${doc}' > "$SITE_DEPLOY_OUTPUTS"`;

  test('apply: the step fails naming the output and the manifest line of outputs:, and downstream never runs', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'svc', name: 'api', weight: 10 },
        { type: 'svc', name: 'web', weight: 20, upstream: '#{api.url}' },
      ],
      catalog: {
        svc: {
          engine: 'command',
          inputs: { upstream: { type: 'string' } },
          outputs: ['url'],
          apply: writes('{"url":"https://api","ulr":"typo"}'),
        },
      },
    });
    const manifest = await readFile(join(repo.root, 'modules/svc/module.yaml'), 'utf8');
    const line = manifest.split('\n').findIndex((l) => l.startsWith('outputs:')) + 1;
    expect(line).toBeGreaterThan(0);

    const r = await runMain(['apply', ...where(repo), '--credentials', 'none', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { modules: { name: string; status: string }[] };
    expect(doc.modules.map((m) => [m.name, m.status])).toEqual([
      ['api', 'failed'],
      ['web', 'halted'],
    ]);
    expect(r.stderr).toContain(
      `the script wrote an output its manifest does not declare: "ulr" — did you mean "url"? — modules/svc/module.yaml:${line}: outputs: [url]`,
    );
  }, 60_000);

  test('plan: an undeclared output the plan script writes fails the plan, before anything is applied', async () => {
    const repo = await writeSite({
      modules: [{ type: 'svc', name: 'api' }],
      catalog: {
        svc: {
          engine: 'command',
          outputs: ['url'],
          plan: writes('{"endpoint":"x"}'),
          apply: 'touch ../../APPLIED', // run from the module folder: the marker lands at the root
        },
      },
    });
    const r = await runMain(['apply', ...where(repo), '--credentials', 'none']);
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(/SITE_DEPLOY_OUTPUTS \(plan\): .*"endpoint"/);
    expect(existsSync(join(repo.root, 'APPLIED'))).toBe(false);
  }, 60_000);

  test('a manifest without outputs: keeps them open: whatever the script writes is accepted', async () => {
    const repo = await writeSite({
      modules: [{ type: 'svc', name: 'api' }],
      catalog: { svc: { engine: 'command', apply: writes('{"anything":"goes"}') } },
    });
    const r = await runMain(['apply', ...where(repo), '--credentials', 'none', '--json']);
    expect(r.stderr).not.toContain('does not declare');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs).toEqual({ api: { anything: 'goes' } });
  }, 60_000);

  test('the message names the output, never its value (a secret written there stays out)', async () => {
    const SECRET = 'S3CR3T-undeclared-output-77';
    const repo = await writeSite({
      modules: [{ type: 'svc', name: 'api' }],
      catalog: { svc: { engine: 'command', outputs: ['url'], apply: writes(`{"token":"${SECRET}"}`) } },
    });
    const r = await runMain(['apply', ...where(repo), '--credentials', 'none', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"token"');
    expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET);
  }, 60_000);
});

describe('graph shows the inputs a run would resolve', () => {
  test('before the first apply an upstream output is its placeholder; after it, the value in the upstream state', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'src', name: 'api', weight: 10, label: 'api-#{Environment}' },
        { type: 'echo', name: 'web', weight: 20, value: 'calls #{api.label}' },
      ],
      catalog: { src: TF_MODULES.src!, echo: TF_MODULES.echo! },
    });
    const before = await runMain(['graph', ...where(repo)]);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('  api.label = "api-dev"');
    expect(before.stdout).toContain('  web.value = "calls #{api.label}"');

    const apply = await runMain(['apply', ...where(repo), '--credentials', 'none']);
    expect(apply.code).toBe(0);
    const after = await runMain(['graph', ...where(repo), '--json']);
    expect(after.code).toBe(0);
    const doc = JSON.parse(after.stdout) as { waves: { name: string; inputs: Record<string, unknown> }[][] };
    expect(doc.waves.flat().find((n) => n.name === 'web')?.inputs).toEqual({ value: 'calls api-dev' });
  }, 120_000);
});

describe("the README's command-module contract", () => {
  /** The `plan` and `apply` scripts the README's "Command modules" section shows, as written there. */
  async function readmeScripts(): Promise<{ plan: string; apply: string }> {
    const readme = await readFile('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### Command modules'), readme.indexOf('### Placeholders'));
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const plan = blocks.find((b) => b.includes('/plan\n'));
    const apply = blocks.find((b) => b.includes('/apply\n'));
    if (!plan || !apply) throw new Error('the README shows no plan and apply scripts');
    return { plan, apply };
  }

  test('its example scripts run as written: inputs read, changes reported, outputs passed downstream', async () => {
    const { plan, apply } = await readmeScripts();
    const repo = await writeSite({
      modules: [
        // `name` is the module's own key: the input of that name goes under `inputs:`.
        { type: 'dns-record', name: 'rec', weight: 10, inputs: { name: 'portal' } },
        { type: 'echo', name: 'web', weight: 20, value: 'at #{rec.fqdn}' },
      ],
      catalog: {
        'dns-record': {
          engine: 'command',
          inputs: { name: { type: 'string' } },
          outputs: ['fqdn'],
          plan,
          apply,
        },
        echo: TF_MODULES.echo!,
      },
    });
    const r = await runMain(['apply', ...where(repo), '--credentials', 'none', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      modules: { name: string; status: string; add: number }[];
      outputs: Record<string, Record<string, unknown>>;
    };
    expect(doc.modules.map((m) => [m.name, m.status, m.add])).toEqual([
      ['rec', 'succeeded', 1],
      ['web', 'succeeded', 1],
    ]);
    expect(doc.outputs.rec).toEqual({ fqdn: 'portal.example.com' });
    expect(doc.outputs.web).toEqual({ value: 'at portal.example.com' });
  }, 120_000);
});

describe('a dependency cycle', () => {
  test('one error at its first module, naming each edge with where it is written and how to break it', async () => {
    const repo = await writeSite({
      settings: { ordering: 'dependencies' },
      modules: [
        { type: 'svc', name: 'api', upstream: '#{web.url}' },
        { type: 'svc', name: 'web', depends_on: ['api'] },
      ],
      catalog: { svc: { engine: 'command', inputs: { upstream: { type: 'string' } }, outputs: ['url'] } },
    });
    const site = await readFile(join(repo.root, 'sites/s/site.yaml'), 'utf8');
    const lineOf = (text: string) => site.split('\n').findIndex((l) => l.includes(text)) + 1;
    const r = await runMain(['validate', ...where(repo)]);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.includes(': error: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('dependency cycle: api -> web -> api');
    expect(errors[0]).toContain(
      `"api" reads #{web.url} from "web" (sites/s/site.yaml:${lineOf('#{web.url}')})`,
    );
    expect(errors[0]).toContain(`"web" depends_on "api" (sites/s/site.yaml:${lineOf('- api')})`);
    expect(errors[0]).toMatch(/remove one of these edges .* or drop `ordering: dependencies`/);
  });
});

describe('a module whose type the catalog lacks', () => {
  test('one error, with a did-you-mean over the catalog folders, and no follow-on suggesting the typo', async () => {
    // The first module has no name: it is named by its (mistyped) type, which the second one reads.
    const repo = await writeSite({
      modules: [{ type: 'aws-vpcc' }, { type: 'app', vpc: '#{aws-vpc.vpc_id}' }],
      catalog: {
        'aws-vpc': { engine: 'command', outputs: ['vpc_id'] },
        app: { engine: 'command', inputs: { vpc: { type: 'string' } } },
      },
    });
    const r = await runMain(['validate', ...where(repo)]);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.includes(': error: '));
    expect(errors).toEqual([
      expect.stringMatching(
        /site\.yaml:\d+:\d+: error: unknown module type "aws-vpcc": the catalog modules\/ has no folder "aws-vpcc" — did you mean "aws-vpc"\?$/,
      ),
    ]);
  });

  test('a reference to a module that does not exist at all still gets its own error', async () => {
    const repo = await writeSite({
      modules: [
        { type: 'aws-vpc', name: 'net' },
        { type: 'app', vpc: '#{nte.vpc_id}' },
      ],
      catalog: {
        'aws-vpc': { engine: 'command', outputs: ['vpc_id'] },
        app: { engine: 'command', inputs: { vpc: { type: 'string' } } },
      },
    });
    const r = await runMain(['validate', ...where(repo)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown module "nte" in #{nte.vpc_id} — did you mean "net"?');
  });
});

describe('a renamed environment file', () => {
  test('the missing file the site lists gets a did-you-mean over the files beside it', async () => {
    const repo = await writeSite({
      env: 'staging',
      modules: [{ type: 'a' }],
      catalog: { a: { engine: 'command' } },
    });
    const envs = join(repo.root, 'sites/s/environments');
    await rename(join(envs, 'staging.yaml'), join(envs, 'stage.yaml'));
    const r = await runMain(['validate', ...where(repo)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: environment file sites/s/environments/staging.yaml does not exist — did you mean "sites/s/environments/stage.yaml"?',
    );
  });
});
