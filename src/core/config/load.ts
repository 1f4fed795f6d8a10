import { posix } from 'node:path';
import { Problems, type SourcePos } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type {
  CredentialEntry,
  Environment,
  FreezeWindow,
  InputEntry,
  InputSpec,
  Manifest,
  ModuleEntry,
  Site,
  StateConfig,
} from './model.js';
import type { CredentialDoc, Documents, FreezeDoc, InputDoc, ModuleDoc, SiteDoc } from './documents.js';
import { validateAgainstSchema, type SchemaName } from './validate.js';
import { MAX_CONFIG_BYTES, parseYaml, type YamlFile, type YamlPath } from '../yaml.js';

/** How the core reads the user's repository; paths are relative to the root, with "/" separators. */
export interface ConfigReader {
  /** A file's bytes, or undefined when it does not exist (or is not a regular file). */
  read(path: string): Uint8Array | undefined;
  /** A folder's entries, or undefined when it does not exist. `symlink`: the entry is a link (followed for `dir`). */
  list(path: string): { name: string; dir: boolean; symlink?: boolean }[] | undefined;
  /** Whether the path, symlinks followed, stays inside the root. */
  staysInside(path: string): boolean;
  /** A file's size in bytes without reading it, when cheap to know (guards against huge files). */
  size?(path: string): number | undefined;
  /**
   * What is at a path, without opening it: a FIFO or a device must never be read (a read blocks
   * or never ends). Undefined when the reader cannot tell.
   */
  kind?(path: string): FileKind | undefined;
  /** Whether a file can be executed (command modules' `plan` and `apply`). */
  executable?(path: string): boolean;
}

/** What a path is, as far as reading config goes. */
export type FileKind =
  'missing' | 'file' | 'directory' | 'FIFO' | 'socket' | 'character device' | 'block device';

/** How deep the catalog check walks a module folder, and how many entries it looks at. */
const CATALOG_WALK = { depth: 16, entries: 5000 };

/**
 * Catalog manifests parsed so far in this process, by path, with the bytes they were parsed from:
 * every site reads the same catalog, so each manifest is parsed once per process (a changed file
 * is parsed again). A parsed value is never changed by the loader.
 */
const parsedManifests = new Map<string, { bytes: Uint8Array; yaml: YamlFile }>();
const MAX_PARSED_MANIFESTS = 1000;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** parseYaml for a catalog manifest, from the process's cache when its bytes are unchanged. */
function parseManifest(bytes: Uint8Array, file: string, problems: Problems): YamlFile | undefined {
  const cached = parsedManifests.get(file);
  if (cached && sameBytes(cached.bytes, bytes)) return cached.yaml;
  const yaml = parseYaml(bytes, file, problems);
  if (yaml) {
    if (parsedManifests.size >= MAX_PARSED_MANIFESTS) parsedManifests.clear();
    parsedManifests.set(file, { bytes: bytes.slice(), yaml });
  }
  return yaml;
}

/** Where sites and the module catalog live, relative to the root. */
export interface Layout {
  configRoot: string;
  catalog: string;
}

/** Everything loaded from a repository: sites, catalog manifests, and every parsed file for positions. */
export interface Workspace {
  layout: Layout;
  sites: Map<string, Site>;
  /** Site folders found under the config root (loaded or not). */
  siteNames: string[];
  manifests: Map<string, Manifest | undefined>;
  files: Map<string, YamlFile>;
}

/** Keys of a module entry that are never inputs (SPEC §2). */
export const RESERVED_MODULE_KEYS = new Set([
  'type',
  'name',
  'weight',
  'config',
  'inputs',
  'depends_on',
  'environments',
  'outputs',
]);

/** Names a variable can never take: the built-ins (SPEC §3). */
export const BUILTINS = [
  'Environment',
  'Lifecycle',
  'Site',
  'SiteSlug',
  'Owner',
  'Repository',
  'GitSha',
  'GitShortSha',
  'Ref',
  'RunId',
  'Actor',
  'Module',
  'ModuleType',
  'Account',
  'Region',
] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Resolves `rel` against `base` and refuses results that leave the root. */
export function joinInside(base: string, rel: string): string | undefined {
  if (rel.startsWith('/') || /^[A-Za-z]:[\\/]/.test(rel) || rel.includes('\\')) return undefined;
  const joined = posix.normalize(posix.join(base, rel));
  if (joined === '..' || joined.startsWith('../') || joined.startsWith('/')) return undefined;
  return joined;
}

/**
 * Loads the repository's sites (one, a chosen few that exist, or all) and the catalog entries they
 * use, recording every problem.
 */
export function loadWorkspace(
  reader: ConfigReader,
  layout: Layout,
  problems: Problems,
  only?: string | ((site: string) => boolean),
): Workspace {
  const ws: Workspace = { layout, sites: new Map(), siteNames: [], manifests: new Map(), files: new Map() };
  const loader = new Loader(reader, ws, problems);
  const entries = reader.list(layout.configRoot);
  if (!entries) {
    problems.error(
      { file: layout.configRoot, line: 1, column: 1 },
      `config root "${layout.configRoot}" does not exist (set --config-root or the config-root input)`,
    );
    return ws;
  }
  ws.siteNames = entries
    .filter((e) => e.dir && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const names =
    only === undefined ? ws.siteNames : typeof only === 'string' ? [only] : ws.siteNames.filter(only);
  for (const name of names) {
    const site = loader.loadSite(name);
    if (site) ws.sites.set(name, site);
  }
  return ws;
}

class Loader {
  private catalogFolders: string[] | undefined;
  /** Whether a module config file of the site being loaded could not be read: its inputs are unknown. */
  private unreadModuleConfig = false;

  constructor(
    private readonly reader: ConfigReader,
    private readonly ws: Workspace,
    private readonly problems: Problems,
  ) {}

  private at(file: string, path: YamlPath = [], key = false): SourcePos {
    return this.ws.files.get(file)?.locate(path, key) ?? { file, line: 1, column: 1 };
  }

  /** Reads, parses and schema-checks one file: its document and positions; undefined when missing or unusable. */
  private readFile<S extends SchemaName>(
    file: string,
    schema: S,
    missing?: { pos: () => SourcePos; message: string },
  ): { yaml: YamlFile; doc: Documents[S] } | undefined {
    if (!this.reader.staysInside(file)) {
      this.problems.error(
        missing?.pos() ?? { file, line: 1, column: 1 },
        `${file} resolves outside the repository root (a symlink?): refusing to read it`,
      );
      return undefined;
    }
    const kind = this.reader.kind?.(file);
    if (kind !== undefined && kind !== 'file' && kind !== 'missing') {
      this.problems.error(
        missing?.pos() ?? { file, line: 1, column: 1 },
        `${file} is a ${kind}, not a regular file: refusing to read it`,
      );
      return undefined;
    }
    const size = this.reader.size?.(file);
    if (size !== undefined && size > MAX_CONFIG_BYTES) {
      this.problems.error(
        { file, line: 1, column: 1 },
        `file is ${size} bytes; config files may be at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
      );
      return undefined;
    }
    const bytes = this.reader.read(file);
    if (!bytes) {
      if (missing) this.problems.error(missing.pos(), missing.message);
      return undefined;
    }
    const yaml =
      schema === 'module.schema.json'
        ? parseManifest(bytes, file, this.problems)
        : parseYaml(bytes, file, this.problems);
    if (!yaml) return undefined;
    this.ws.files.set(file, yaml);
    const doc = validateAgainstSchema(yaml, schema, this.problems);
    return doc === undefined ? undefined : { yaml, doc };
  }

  loadSite(name: string): Site | undefined {
    const dir = posix.join(this.ws.layout.configRoot, name);
    const file = posix.join(dir, 'site.yaml');
    const available = this.ws.siteNames;
    if (!available.includes(name)) {
      this.problems.error(
        { file: '', line: 0, column: 0 },
        `no site "${name}" under ${this.ws.layout.configRoot}/${didYouMean(name, available) || (available.length ? `; sites: ${available.join(', ')}` : '')}`,
      );
      return undefined;
    }
    const read = this.readFile(file, 'site.schema.json', {
      pos: () => ({ file, line: 1, column: 1 }),
      message: `site folder ${dir} has no site.yaml`,
    });
    if (!read) {
      // Still check the files beside it, so one run shows every problem.
      this.loadEnvironments(dir, file, undefined);
      this.loadCredentials(dir);
      return undefined;
    }
    const { yaml } = read;
    const raw = read.doc.site;
    if (raw.name !== name) {
      this.problems.error(
        yaml.locate(['site', 'name']),
        `site.name is "${String(raw.name)}" but the site's folder is "${name}": they must be equal`,
      );
    }
    this.unreadModuleConfig = false;
    const environments = this.loadEnvironments(dir, file, raw.environments);
    const credentials = this.loadCredentials(dir);
    const site: Site = {
      name,
      slug: raw.slug ?? name,
      owner: raw.owner,
      dir,
      file,
      haltOnFailure: raw.halt_on_failure !== false,
      ordering: raw.ordering === 'dependencies' ? 'dependencies' : 'weights',
      promotion: raw.promotion,
      breakGlass: this.breakGlass(raw.break_glass, yaml),
      state: this.state(raw.state, file),
      modules: this.loadModules(raw.modules, dir, file),
      environments,
      credentials,
    };
    this.checkEnvironmentNames(site, yaml);
    // A module whose config file was not read has unknown inputs: checking the site further would
    // report what that file says (a required input, a reference) as missing.
    return this.unreadModuleConfig ? undefined : site;
  }

  /** `site.break_glass`: GitHub logins, checked one by one so a team or an e-mail is caught at its line. */
  private breakGlass(raw: { allowed: string[] } | undefined, yaml: YamlFile): Site['breakGlass'] {
    if (!raw) return undefined;
    const path = ['site', 'break_glass', 'allowed'];
    const allowed: string[] = [];
    const seen = new Map<string, number>();
    raw.allowed.forEach((login, i) => {
      const problem = loginProblem(login);
      if (problem) {
        this.problems.error(yaml.locate([...path, i]), `break_glass.allowed[${i}] "${login}" ${problem}`);
        return;
      }
      const first = seen.get(login.toLowerCase());
      if (first !== undefined) {
        this.problems.warn(
          yaml.locate([...path, i]),
          `break_glass.allowed lists "${login}" twice (also allowed[${first}]; GitHub logins ignore case): remove one`,
        );
        return;
      }
      seen.set(login.toLowerCase(), i);
      allowed.push(login);
    });
    return { allowed, origin: { file: yaml.file, path: ['site', 'break_glass'] } };
  }

  /** An environment's `freeze:` windows; a window with a problem is reported and left out. */
  private freeze(raw: FreezeDoc[] | undefined, yaml: YamlFile): FreezeWindow[] {
    const windows: FreezeWindow[] = [];
    (raw ?? []).forEach((entry, i) => {
      const at = (key: string): SourcePos => yaml.locate(['freeze', i, key]);
      const bound = (key: 'from' | 'to'): number | undefined => {
        const text = entry[key];
        const parsed = parseZonedDateTime(text);
        if ('ms' in parsed) return parsed.ms;
        this.problems.error(at(key), `freeze[${i}].${key} "${text}" ${parsed.problem}`);
        return undefined;
      };
      const from = bound('from');
      const to = bound('to');
      const reason = entry.reason.trim();
      if (!reason)
        this.problems.error(
          at('reason'),
          `freeze[${i}].reason is empty: say why the environment is frozen (whoever is refused reads it)`,
        );
      if (from === undefined || to === undefined) return;
      if (from >= to) {
        this.problems.error(
          at('to'),
          `freeze[${i}] ends (to: ${entry.to}) ${from === to ? 'when' : 'before'} it starts (from: ${entry.from}): \`to\` must be after \`from\``,
        );
        return;
      }
      if (reason) windows.push({ from, to, reason, origin: { file: yaml.file, path: ['freeze', i] } });
    });
    return windows;
  }

  private state(raw: SiteDoc['site']['state'], file: string): StateConfig {
    if (!raw) return { backend: 'local' };
    return {
      backend: raw.backend === 's3' ? 's3' : 'local',
      bucket: raw.bucket,
      region: raw.region,
      keyPrefix: raw.key_prefix,
      origin: { file, path: ['site', 'state'] },
    };
  }

  /** ` — did you mean "<path>"?` over the YAML files beside a missing one (a renamed file), or ''. */
  private nearbyFile(file: string): string {
    const folder = posix.dirname(file);
    const yamls = (this.reader.list(folder) ?? []).filter((e) => !e.dir && /\.ya?ml$/.test(e.name));
    return didYouMean(
      posix.basename(file),
      yamls.map((e) => e.name),
    ).replace(/"([^"]+)"/g, (_m, n: string) => `"${posix.join(folder, n)}"`);
  }

  private checkEnvironmentNames(site: Site, yaml: YamlFile): void {
    const envs = [...site.environments.keys()];
    const check = (names: string[] | undefined, path: YamlPath, what: string): void => {
      names?.forEach((n, i) => {
        if (!site.environments.has(n)) {
          this.problems.error(
            yaml.locate([...path, i]),
            `${what} names environment "${n}", which the site does not deploy to${didYouMean(n, envs) || (envs.length ? `; environments: ${envs.join(', ')}` : '')}`,
          );
        }
      });
    };
    check(site.promotion, ['site', 'promotion'], 'promotion');
    site.modules.forEach((m) =>
      check(m.environments, [...m.origin.path, 'environments'], `module "${m.name}"`),
    );
  }

  private loadModules(raw: ModuleDoc[], dir: string, file: string): ModuleEntry[] {
    const modules: ModuleEntry[] = [];
    const seen = new Map<string, number>();
    raw.forEach((entry, index) => {
      const path = ['site', 'modules', index];
      const type = entry.type;
      const name = typeof entry.name === 'string' ? entry.name : type;
      const first = seen.get(name);
      if (first !== undefined) {
        this.problems.error(
          this.at(file, [...path, typeof entry.name === 'string' ? 'name' : 'type']),
          `module name "${name}" is used twice (also modules[${first}]): give one a unique "name"`,
        );
      } else seen.set(name, index);
      const manifest = this.manifest(type, () => this.at(file, [...path, 'type']));
      if (typeof entry.weight === 'number' && !Number.isFinite(entry.weight)) {
        this.problems.error(
          this.at(file, [...path, 'weight']),
          `weight of module "${name}" must be a finite number, not ${String(entry.weight)}`,
        );
      }
      const inputs = this.moduleInputs(entry, name, dir, file, path);
      if (manifest?.inputs) this.checkDeclaredInputs(inputs, manifest.inputs, name, type);
      modules.push({
        name,
        type,
        weight:
          typeof entry.weight === 'number' && Number.isFinite(entry.weight) ? entry.weight : 10 * (index + 1),
        position: index + 1,
        dependsOn: (entry.depends_on ?? []).map((d, i) => ({
          name: d,
          origin: { file, path: [...path, 'depends_on', i] },
        })),
        environments: entry.environments,
        inputs,
        origin: { file, path },
      });
    });
    return modules;
  }

  /** A module's inputs: its config file's, then its entry's keys, then its `inputs:` (each wins over the one before). */
  private moduleInputs(
    entry: ModuleDoc,
    name: string,
    dir: string,
    file: string,
    path: YamlPath,
  ): Map<string, InputEntry> {
    const inputs = new Map<string, InputEntry>();
    if (typeof entry.config === 'string') {
      const cfgPath = joinInside(dir, entry.config);
      if (!cfgPath) {
        this.problems.error(
          this.at(file, [...path, 'config']),
          `config path "${entry.config}" escapes the repository root: use a path inside the site folder`,
        );
      } else {
        const cfg = this.readFile(cfgPath, 'module-config.schema.json', {
          pos: () => this.at(file, [...path, 'config']),
          message: `config file ${cfgPath} does not exist`,
        });
        if (!cfg) this.unreadModuleConfig = true;
        else
          for (const [k, v] of Object.entries(cfg.doc))
            inputs.set(k, { value: v, origin: { file: cfgPath, path: [k] } });
      }
    }
    const seed = new Set<string>();
    for (const [k, v] of Object.entries(entry)) {
      if (RESERVED_MODULE_KEYS.has(k)) continue;
      seed.add(k);
      inputs.set(k, { value: v, origin: { file, path: [...path, k] } });
    }
    if (isObj(entry.inputs)) {
      for (const [k, v] of Object.entries(entry.inputs)) {
        if (seed.has(k)) {
          this.problems.error(
            this.at(file, [...path, 'inputs', k], true),
            `input "${k}" of module "${name}" is given twice: as a key of the module entry and under inputs: — keep one`,
          );
        }
        inputs.set(k, { value: v, origin: { file, path: [...path, 'inputs', k] } });
      }
    }
    return inputs;
  }

  /** Reports each input the module's catalog manifest does not declare. */
  private checkDeclaredInputs(
    inputs: Map<string, InputEntry>,
    specs: Record<string, InputSpec>,
    name: string,
    type: string,
  ): void {
    const declared = Object.keys(specs);
    for (const [k, v] of inputs) {
      if (!Object.hasOwn(specs, k)) {
        this.problems.error(
          this.at(v.origin.file, v.origin.path, true),
          `module "${name}" (${type}) has no input "${k}"${didYouMean(k, [...declared, ...RESERVED_MODULE_KEYS]) || `; its inputs: ${declared.join(', ') || '(none)'}`}`,
        );
      }
    }
  }

  /** The catalog manifest of a module type, loaded once. */
  manifest(type: string, usedAt: () => SourcePos): Manifest | undefined {
    if (this.ws.manifests.has(type)) return this.ws.manifests.get(type);
    const catalog = this.ws.layout.catalog;
    const dir = posix.join(catalog, type);
    const file = posix.join(dir, 'module.yaml');
    let manifest: Manifest | undefined;
    this.catalogFolders ??= (this.reader.list(catalog) ?? []).filter((e) => e.dir).map((e) => e.name);
    const folders = this.catalogFolders;
    if (!folders.includes(type)) {
      this.problems.error(
        usedAt(),
        `unknown module type "${type}": the catalog ${catalog}/ has no folder "${type}"${didYouMean(type, folders)}`,
      );
    } else {
      const read = this.readFile(file, 'module.schema.json', {
        pos: usedAt,
        message: `catalog folder ${dir} has no module.yaml`,
      });
      if (read) {
        const { yaml, doc: raw } = read;
        const inputs = raw.inputs
          ? Object.fromEntries(Object.entries(raw.inputs).map(([k, v]) => [k, inputSpec(v)]))
          : undefined;
        manifest = {
          type,
          dir,
          file,
          engine: raw.engine === 'command' ? 'command' : 'terraform',
          services: raw.services ?? [],
          inputs,
          outputs: raw.outputs,
          sensitiveOutputs: raw.sensitive_outputs ?? [],
          mockOutputs: raw.mock_outputs ?? {},
        };
        this.checkCatalogFolder(manifest, yaml);
        if (manifest.outputs) {
          for (const k of Object.keys(manifest.mockOutputs)) {
            if (!manifest.outputs.includes(k))
              this.problems.error(
                yaml.locate(['mock_outputs', k], true),
                `mock_outputs names "${k}", which is not one of the module's outputs${didYouMean(k, manifest.outputs)}`,
              );
          }
        }
      }
    }
    this.ws.manifests.set(type, manifest);
    return manifest;
  }

  /**
   * The catalog folder is copied into every step's work folder: a symlink in it that leads outside
   * the repository would copy that outside into the work folder (and into Terraform's reach); a
   * command module needs executable `plan` and `apply` files.
   */
  private checkCatalogFolder(manifest: Manifest, yaml: YamlFile): void {
    let seen = 0;
    const walk = (dir: string, depth: number): void => {
      for (const e of this.reader.list(dir) ?? []) {
        if (++seen > CATALOG_WALK.entries || e.name === '.terraform') continue;
        const path = posix.join(dir, e.name);
        if (e.symlink && !this.reader.staysInside(path)) {
          this.problems.error(
            { file: path, line: 1, column: 1 },
            `${path} is a symlink that resolves outside the repository: refusing to copy it into work folders — ` +
              'replace it with the file itself, or link to a path inside the repository',
          );
          continue;
        }
        if (e.dir && depth < CATALOG_WALK.depth) walk(path, depth + 1);
      }
    };
    walk(manifest.dir, 1);
    if (manifest.engine !== 'command' || !this.reader.executable) return;
    for (const name of ['plan', 'apply']) {
      const path = posix.join(manifest.dir, name);
      const kind = this.reader.kind?.(path);
      const problem =
        kind === 'missing'
          ? `command module ${manifest.type} has no '${name}' file: a command module needs executable 'plan' and 'apply' files in ${manifest.dir}/`
          : kind !== undefined && kind !== 'file'
            ? `command module ${manifest.type}: ${path} is a ${kind}, not an executable file`
            : !this.reader.executable(path)
              ? `command module ${manifest.type}: ${path} is not executable — run \`chmod +x ${path}\` and commit the mode (\`git update-index --chmod=+x ${path}\`)`
              : undefined;
      if (problem) this.problems.error(yaml.locate(['engine']), problem);
    }
  }

  private loadEnvironments(
    dir: string,
    siteFile: string,
    listed: { path: string }[] | undefined,
  ): Map<string, Environment> {
    const envs = new Map<string, Environment>();
    let paths: { path: string; pos: () => SourcePos }[];
    if (listed) {
      paths = listed.map((e, i) => ({
        path: e.path,
        pos: () => this.at(siteFile, ['site', 'environments', i, 'path']),
      }));
    } else {
      const found = this.reader.list(posix.join(dir, 'environments')) ?? [];
      paths = found
        .filter((e) => !e.dir && /\.ya?ml$/.test(e.name))
        .map((e) => e.name)
        .sort()
        .map((n) => ({ path: `environments/${n}`, pos: () => ({ file: siteFile, line: 1, column: 1 }) }));
    }
    for (const { path, pos } of paths) {
      const file = joinInside(dir, path);
      if (!file) {
        this.problems.error(
          pos(),
          `environment path "${path}" escapes the repository root: use a path inside the site folder`,
        );
        continue;
      }
      const read = this.readFile(file, 'environment.schema.json', {
        pos,
        message: `environment file ${file} does not exist${this.nearbyFile(file)}`,
      });
      if (!read) continue;
      const { yaml, doc: raw } = read;
      const name = raw.environment;
      const base = posix.basename(file).replace(/\.ya?ml$/, '');
      if (name !== base) {
        this.problems.error(
          yaml.locate(['environment']),
          `environment is "${name}" but the file is ${posix.basename(file)}: the name must equal the file name without .yaml`,
        );
      }
      if (envs.has(name)) {
        this.problems.error(pos(), `environment "${name}" is listed twice`);
        continue;
      }
      const variables = new Map<string, InputEntry>();
      for (const [k, v] of Object.entries(raw.variables ?? {})) {
        if (isBuiltin(k)) {
          this.problems.error(
            yaml.locate(['variables', k], true),
            `variable "${k}" would shadow the built-in #{${k}}: rename it`,
          );
          continue;
        }
        variables.set(k, { value: v, origin: { file, path: ['variables', k] } });
      }
      envs.set(name, {
        name,
        file,
        lifecycle: raw.lifecycle === 'ephemeral' ? 'ephemeral' : 'long-lived',
        variables,
        verification:
          raw.verification === undefined
            ? undefined
            : { value: raw.verification, origin: { file, path: ['verification'] } },
        freeze: this.freeze(raw.freeze, yaml),
      });
    }
    return envs;
  }

  private loadCredentials(dir: string): Site['credentials'] {
    const file = posix.join(dir, 'credentials.yaml');
    const exists = this.reader.size?.(file) !== undefined || this.reader.read(file) !== undefined;
    const read = this.readFile(file, 'credentials.schema.json');
    // A credentials.yaml that exists but is broken was reported already: rules that need it stand down.
    if (!read) return exists ? { file, entries: new Map(), broken: true } : undefined;
    const entries = new Map<string, CredentialEntry>();
    for (const [env, e] of Object.entries(read.doc.credentials))
      entries.set(env, credentialEntry(env, e, file));
    return { file, entries };
  }
}

/** Whether a name is one of the built-in variables. */
function isBuiltin(name: string): boolean {
  return BUILTINS.some((b) => b === name);
}

/** A catalog manifest's input, with its defaults filled in. */
function inputSpec(spec: InputDoc): InputSpec {
  return {
    type: spec.type ?? 'any',
    required: spec.required === true,
    default: spec.default,
    hasDefault: 'default' in spec,
    sensitive: spec.sensitive === true,
  };
}

/** One environment's entry of credentials.yaml, with its defaults filled in. */
function credentialEntry(env: string, e: CredentialDoc, file: string): CredentialEntry {
  return {
    environment: env,
    account: e.aws_account,
    role: e.role,
    planRole: e.plan_role,
    via: e.via,
    region: e.region,
    sessionDuration: typeof e.session_duration === 'number' ? e.session_duration : 3600,
    boundaryPolicy: e.boundary_policy,
    allowedServices: e.allowed_services,
    requireMfa: e.require_mfa === true,
    externalId: e.external_id,
    origin: { file, path: ['credentials', env] },
  };
}

/** GitHub's rule for logins: letters, digits and hyphens, at most 39, not starting with a hyphen. */
const GITHUB_LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/;

/** Why a string is not a GitHub login (the rest of a sentence), or undefined when it is one. */
function loginProblem(login: string): string | undefined {
  if (GITHUB_LOGIN.test(login)) return undefined;
  if (login.startsWith('@') && GITHUB_LOGIN.test(login.slice(1)))
    return `is not a GitHub login: write it without the "@" (${login.slice(1)})`;
  if (/\[bot\]$/i.test(login))
    return "is a bot: breaking glass is a person's decision — list the people who may make it";
  if (/^@?[A-Za-z0-9-]+\/[A-Za-z0-9_.-]+$/.test(login))
    return "looks like a team: break_glass.allowed takes GitHub logins — list the team's members";
  if (login.includes('@')) return "looks like an e-mail address: give the person's GitHub login instead";
  return 'is not a GitHub login: letters, digits and hyphens, at most 39 characters, not starting with a hyphen';
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2}|[+-]\d{4}|[+-]\d{2})?$/i;

/**
 * Reads an ISO 8601 date-time that names its zone (`Z` or an offset such as `+01:00`):
 * `{ ms }` since the epoch, or `{ problem }`, the rest of a sentence about the value. A value
 * without a zone is refused: whose midnight it means would depend on the runner's clock.
 */
export function parseZonedDateTime(text: string): { ms: number } | { problem: string } {
  const m = DATE_TIME.exec(text.trim());
  const example = '2026-12-20T00:00:00Z';
  if (!m) {
    return /^\d{4}-\d{2}-\d{2}$/.test(text.trim())
      ? { problem: `is a date without a time: give a date-time with a zone, e.g. ${text.trim()}T00:00:00Z` }
      : { problem: `is not an ISO 8601 date-time: write it like ${example} (a zone is required)` };
  }
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  if (zone === undefined)
    return { problem: `has no zone: give a zone, e.g. ${text.trim()}Z (UTC) or ${text.trim()}+01:00` };
  const [year, month, day, hour, minute, second] = [
    Number(y),
    Number(mo),
    Number(d),
    Number(h),
    Number(mi),
    Number(sec ?? '0'),
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59)
    return { problem: `is not a real date and time: write it like ${example}` };
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59)
      return { problem: `has an offset out of range (${zone}): offsets run from -23:59 to +23:59` };
    offset = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = Number(((frac ?? '') + '000').slice(0, 3));
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  return { ms: utc.getTime() - offset };
}
