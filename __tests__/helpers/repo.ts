// A fixture builder: a minimal, valid site-deploy repository described in TypeScript, written to a
// temp folder (for the bundled CLI) or served from memory (for core tests through ConfigReader),
// with per-test overrides. Files given as objects are written as YAML; strings and bytes are
// written verbatim, so tests that assert line numbers spell the file out themselves.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { testDist } from './dist.js';
import { joinInside, type ConfigReader } from '../../src/core/config/load.js';

/** A file's content: YAML text, raw bytes, a value to serialize as YAML, a symlink, or null to delete it. */
export type FileContent =
  string | Uint8Array | Record<string, unknown> | { symlink: string } | { script: string } | null;

/** Repository files by path relative to the root ("/" separators). */
export type Files = Record<string, FileContent>;

/** A compact description of one site. */
export interface SiteDesc {
  /** site.name; default: the folder name. */
  name?: string;
  /** Other keys of `site:` (owner, ordering, promotion, state...). */
  extra?: Record<string, unknown>;
  /** Module entries of `site.modules`. */
  modules: Record<string, unknown>[];
  /** Environment name -> the rest of its file (variables, lifecycle...); `environment:` is added. */
  envs: Record<string, Record<string, unknown>>;
  /** Whether site.yaml lists `environments:` explicitly (default true). */
  listEnvironments?: boolean;
  /** credentials.yaml entries by environment; null: no credentials.yaml. */
  credentials?: Record<string, Record<string, unknown>> | null;
  /** Module config files, by path relative to the site folder. */
  configs?: Record<string, Record<string, unknown>>;
}

/** A compact description of a repository: sites, the catalog, and raw file overrides. */
export interface RepoDesc {
  sites: Record<string, SiteDesc>;
  /** Catalog manifests by module type. */
  catalog: Record<string, Record<string, unknown>>;
  /** Raw files applied last (they win over generated ones); null deletes. */
  files?: Files;
}

/** Default credentials for an environment: account derived from its index, us-east-1. */
export function creds(
  account: string,
  env: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    aws_account: account,
    role: `arn:aws:iam::${account}:role/deploy-${env}`,
    region: 'us-east-1',
    ...extra,
  };
}

/** The catalog most tests use. */
export function baseCatalog(): Record<string, Record<string, unknown>> {
  return {
    'aws-vpc': {
      engine: 'terraform',
      services: ['ec2'],
      inputs: {
        cidr: { type: 'string', required: true },
        replicas: { type: 'number' },
        tags: { type: 'map' },
      },
      outputs: ['vpc_id', 'subnet_ids'],
      mock_outputs: { vpc_id: 'vpc-00000000' },
    },
    app: {
      engine: 'command',
      services: ['ecs'],
      inputs: {
        vpc_id: { type: 'string', required: true },
        domain: { type: 'string' },
        replicas: { type: 'number' },
        db_password: { type: 'string' },
        license: { type: 'string', sensitive: true },
        labels: { type: 'string' },
        zones: { type: 'list' },
      },
      outputs: ['url', 'service_name'],
    },
    dns: { engine: 'command', services: ['route53'], outputs: ['fqdn'] },
    free: { engine: 'command', services: [] },
  };
}

/** A valid repository: site s1 with networking -> app, environments dev and prod, credentials for both. */
export function baseRepo(): RepoDesc {
  return {
    sites: {
      s1: {
        extra: { owner: 'platform' },
        modules: [
          { type: 'aws-vpc', name: 'networking', cidr: '#{vpc_cidr}' },
          { type: 'app', vpc_id: '#{networking.vpc_id}', domain: '#{domain}' },
        ],
        envs: {
          dev: { variables: { vpc_cidr: '10.0.0.0/16', domain: 'dev.example.com', replicas: 2 } },
          prod: { variables: { vpc_cidr: '10.1.0.0/16', domain: 'example.com', replicas: 3 } },
        },
        credentials: { dev: creds('111111111111', 'dev'), prod: creds('222222222222', 'prod') },
      },
    },
    catalog: baseCatalog(),
  };
}

/** Turns a description into files. */
export function repoFiles(desc: RepoDesc): Files {
  const files: Files = {};
  for (const [type, manifest] of Object.entries(desc.catalog)) {
    files[`modules/${type}/module.yaml`] = manifest;
    files[`modules/${type}/main.tf`] = '# fixture\n';
    // A command module needs executable plan and apply files (validate checks them).
    if (manifest.engine === 'command')
      for (const exe of ['plan', 'apply'])
        files[`modules/${type}/${exe}`] = { script: '#!/bin/sh\nexit 0\n' };
  }
  for (const [folder, s] of Object.entries(desc.sites)) {
    const dir = `sites/${folder}`;
    const envNames = Object.keys(s.envs);
    const site: Record<string, unknown> = { name: s.name ?? folder, ...(s.extra ?? {}), modules: s.modules };
    if (s.listEnvironments !== false)
      site.environments = envNames.map((e) => ({ path: `environments/${e}.yaml` }));
    files[`${dir}/site.yaml`] = { site };
    for (const [env, body] of Object.entries(s.envs))
      files[`${dir}/environments/${env}.yaml`] = { environment: env, ...body };
    if (s.credentials !== null) files[`${dir}/credentials.yaml`] = { credentials: s.credentials ?? {} };
    for (const [p, v] of Object.entries(s.configs ?? {})) files[`${dir}/${p}`] = v;
  }
  return { ...files, ...(desc.files ?? {}) };
}

function isSymlink(c: FileContent): c is { symlink: string } {
  return (
    c !== null &&
    typeof c === 'object' &&
    !(c instanceof Uint8Array) &&
    typeof (c as { symlink?: unknown }).symlink === 'string' &&
    Object.keys(c).length === 1
  );
}

function isScript(c: FileContent): c is { script: string } {
  return (
    c !== null &&
    typeof c === 'object' &&
    !(c instanceof Uint8Array) &&
    typeof (c as { script?: unknown }).script === 'string' &&
    Object.keys(c).length === 1
  );
}

/** The bytes of one file. */
export function fileBytes(content: Exclude<FileContent, null | { symlink: string }>): Uint8Array {
  if (content instanceof Uint8Array) return content;
  if (isScript(content)) return new TextEncoder().encode(content.script);
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return new TextEncoder().encode(stringify(content, { lineWidth: 0 }));
}

/** Temp folders created by writeRepo, removed by cleanupRepos. */
const created: string[] = [];

/** Writes a repository (a description or plain files) into a fresh temp folder and returns its path. */
export async function writeRepo(repo: RepoDesc | Files = baseRepo(), overrides: Files = {}): Promise<string> {
  const files = { ...(isDesc(repo) ? repoFiles(repo) : repo), ...overrides };
  const root = await mkdtemp(join(tmpdir(), 'sd-repo-'));
  created.push(root);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) continue;
    const abs = join(root, ...path.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    if (isSymlink(content)) await symlink(content.symlink, abs);
    else await writeFile(abs, fileBytes(content), { mode: isScript(content) ? 0o755 : 0o644 });
  }
  return root;
}

/** Removes every temp repository written so far. */
export async function cleanupRepos(): Promise<void> {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

function isDesc(x: RepoDesc | Files): x is RepoDesc {
  const d = x as Partial<RepoDesc>;
  return (
    typeof d.sites === 'object' &&
    d.sites !== null &&
    typeof d.catalog === 'object' &&
    d.catalog !== null &&
    !(d.sites instanceof Uint8Array)
  );
}

/** A ConfigReader over files in memory (no symlinks; `..` never stays inside). */
export function memoryReader(
  repo: RepoDesc | Files,
  overrides: Files = {},
): ConfigReader & { reads: string[] } {
  const all = { ...(isDesc(repo) ? repoFiles(repo) : repo), ...overrides };
  const files = new Map<string, Uint8Array>();
  for (const [p, c] of Object.entries(all)) if (c !== null && !isSymlink(c)) files.set(p, fileBytes(c));
  const reads: string[] = [];
  return {
    reads,
    read(path) {
      reads.push(path);
      return files.get(path);
    },
    list(path) {
      const prefix = `${path}/`;
      const out = new Map<string, boolean>();
      for (const p of files.keys()) {
        if (!p.startsWith(prefix)) continue;
        const rest = p.slice(prefix.length);
        const slash = rest.indexOf('/');
        out.set(slash < 0 ? rest : rest.slice(0, slash), slash >= 0);
      }
      return out.size === 0 ? undefined : [...out].map(([name, dir]) => ({ name, dir }));
    },
    staysInside(path) {
      return joinInside('.', path) !== undefined;
    },
    size(path) {
      return files.get(path)?.length;
    },
  };
}

/** Strips the common indentation of a template literal and its first empty line: readable YAML in tests. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw
    .replace(/^\n/, '')
    .replace(/\n[ \t]*$/, '\n')
    .split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

/** The bundled CLI under test (built from the sources for this run; SD_TEST_CLI names another). */
export const CLI = resolve(process.env.SD_TEST_CLI ?? join(testDist(), 'cli.js'));

/** Fails clearly when the test bundle is missing (run the tests through `npm test`). */
export async function ensureBundle(): Promise<void> {
  if (!existsSync(CLI))
    throw new Error(`${CLI} is missing: run the tests with \`npm test\`, which bundles the sources first`);
  return Promise.resolve();
}

/** The result of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a user's shell would give the CLI: none of Jest's Node flags or warning switches. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GITHUB_ACTIONS: '', ...extra };
  delete env.NODE_OPTIONS;
  delete env.NODE_NO_WARNINGS;
  return env;
}

function runOnce(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: opts.cwd ?? tmpdir(),
        env: childEnv(opts.env),
        timeout: 30_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        ok({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `node <bundled CLI> ...args` asynchronously (never throws on a non-zero exit). */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  return runOnce(args, opts);
}

/** One `file:line:column: severity: message` line of the CLI's stderr. */
export interface ProblemLine {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
}

/** Parses the problem lines of a CLI's stderr. */
export function problemLines(stderr: string): ProblemLine[] {
  const out: ProblemLine[] = [];
  for (const l of stderr.split('\n')) {
    const m = /^(.+?):(\d+):(\d+): (error|warning): (.*)$/.exec(l);
    if (m)
      out.push({
        file: m[1] as string,
        line: Number(m[2]),
        column: Number(m[3]),
        severity: m[4] as 'error' | 'warning',
        message: m[5] as string,
      });
  }
  return out;
}
