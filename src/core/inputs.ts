/**
 * One module step's inputs, bound in one place: the module entry's values (site.yaml and its
 * `config:` file) resolved against the environment's variables and the upstream outputs known at
 * this point of a run (this run's upstream steps, then — at plan time — their state, then their
 * `mock_outputs`, else pending: SPEC §4), type-checked against the catalog manifest, with every
 * problem at its file, line and column. Validation binds with no outputs known; the runner binds
 * each step once, right before its engine runs.
 */
import type { Workspace } from './config/load.js';
import type { Environment, InputSpec, Manifest, ModuleEntry, Site } from './config/model.js';
import { reportPathErrors, type Variables } from './config/scope.js';
import { Problems, type Problem, type SourcePos } from './errors.js';
import { collectReferences, resolveValue, type OutputState, type PathError } from './placeholders/resolve.js';
import { didYouMean } from './suggest.js';

/** An output value and whether Terraform (or the manifest's `sensitive_outputs`) marks it sensitive. */
export interface OutputValue {
  value: unknown;
  sensitive: boolean;
}

/** The module whose inputs are bound (a graph node). */
export interface InputOwner {
  name: string;
  type: string;
  module: ModuleEntry;
  manifest?: Manifest;
}

/** The site × environment the inputs are bound in (a site graph). */
export interface InputScope {
  site: Site;
  environment: Environment;
  variables: Variables;
}

/** Where upstream outputs come from at this point of a run, in order. */
export interface OutputSources {
  /** The output as this run's step of the upstream reported it (undefined: not known). */
  fromRun(module: string, output: string): OutputValue | undefined;
  /** The output in the upstream's state before this run (plan only). */
  fromState?(module: string, output: string): OutputValue | undefined;
  /** Whether `mock_outputs` may answer (plan only: apply never uses a mock). */
  mocks: boolean;
}

/** No output known: what validation binds with. */
export const NO_OUTPUTS: OutputSources = { fromRun: () => undefined, mocks: false };

/** One module's bound inputs. */
export interface BoundInputs {
  inputs: Record<string, unknown>;
  /** `module.output` references not known yet (their placeholders stay as text). */
  pending: string[];
  /** `module.output` references answered with `mock_outputs`. */
  mocked: string[];
  /**
   * `module.output` references answered from the upstream's state at plan time (the run does not
   * know the output yet): the value the plan saw may not be the one apply will.
   */
  fromState: string[];
  /** Inputs whose values are secret: declared `sensitive: true`, or computed from a sensitive output. */
  sensitive: string[];
  /** Every problem, with its position. */
  problems: Problem[];
}

/** Whether a module deploys to an environment. */
export function deploysTo(m: ModuleEntry, env: string): boolean {
  return !m.environments || m.environments.includes(env);
}

/** Why `#{module.output}` cannot be read by module `reader` (or by verification) in this environment; undefined when it can. */
export function outputProblem(
  ws: Workspace,
  site: Site,
  env: string,
  module: string,
  output: string,
  reader?: string,
): string | undefined {
  const up = site.modules.find((m) => m.name === module);
  if (!up) {
    return `unknown module "${module}" in #{${module}.${output}}${
      didYouMean(
        module,
        site.modules.map((m) => m.name),
      ) || `; modules: ${site.modules.map((m) => m.name).join(', ')}`
    }`;
  }
  if (reader === module) return `module "${module}" reads its own output #{${module}.${output}}`;
  if (!deploysTo(up, env)) {
    return `${reader ? `module "${reader}"` : 'verification'} reads #{${module}.${output}}, but module "${module}" does not deploy to environment ${env} (its environments: ${up.environments?.join(', ')})`;
  }
  const manifest = ws.manifests.get(up.type);
  if (manifest?.outputs && !manifest.outputs.includes(output)) {
    return `module "${module}" (${up.type}) has no output "${output}"${didYouMean(output, manifest.outputs) || `; its outputs: ${manifest.outputs.join(', ') || '(none)'}`}`;
  }
  return undefined;
}

/** The input type a value has, in the manifest's words. */
function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'map';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/**
 * Why a value does not fit a declared input, or undefined. `from` names the one placeholder the
 * value came from whole (`net.subnet_ids`), which says more than the value; a sensitive input's
 * value is never quoted (messages reach logs and annotations).
 */
function typeProblem(
  spec: InputSpec,
  value: unknown,
  from: { name: string; output: boolean } | undefined,
  secret: boolean,
): string | undefined {
  const got = typeOf(value);
  if (spec.type === 'any' || got === spec.type) return undefined;
  if (value === null && !spec.required) return undefined;
  // An output's value can be long and is better named; a variable's is shown, unless secret.
  const shown = secret || from?.output ? '' : `: ${JSON.stringify(value)?.slice(0, 40)}`;
  return `must be a ${spec.type}, but ${from ? `${from.name} ` : ''}is a ${got}${shown}`;
}

/** The reference a string consists of exactly (`#{net.subnet_ids}` → `net.subnet_ids`), if it does. */
function wholeReference(value: unknown): { name: string; output: boolean } | undefined {
  if (typeof value !== 'string') return undefined;
  const refs = collectReferences(value);
  const [only] = refs;
  if (refs.length !== 1 || !only || only.source !== value || only.offset !== 0) return undefined;
  return only.ref.kind === 'variable'
    ? { name: only.ref.name, output: false }
    : { name: `${only.ref.module}.${only.ref.output}`, output: true };
}

/** Variables a value reads that this environment lacks but another environment of the site defines. */
function missingHere(scope: InputScope, value: unknown): string[] {
  const names = new Set<string>();
  for (const r of collectReferences(value)) {
    if (r.ref.kind !== 'variable' || scope.variables.get(r.ref.name)) continue;
    const name = r.ref.name;
    if ([...scope.site.environments.values()].some((e) => e.variables.has(name))) names.add(name);
  }
  return [...names];
}

/** Binds one module's inputs (see the file's comment). */
export function bindInputs(
  ws: Workspace,
  scope: InputScope,
  owner: InputOwner,
  sources: OutputSources,
): BoundInputs {
  const { site, environment } = scope;
  const problems = new Problems();
  const at = (file: string, path: readonly (string | number)[]): SourcePos =>
    ws.files.get(file)?.locate(path) ?? { file, line: 1, column: 1 };
  const sensitiveOutput = (m: string, o: string, v: OutputValue | undefined): boolean =>
    v?.sensitive === true ||
    site.modules.some((x) => x.name === m && ws.manifests.get(x.type)?.sensitiveOutputs.includes(o));
  // Set while one input resolves: a sensitive output read makes the whole input sensitive.
  let tainted = false;
  const stateRefs = new Set<string>();
  const lookup = (m: string, o: string): OutputState => {
    const run = sources.fromRun(m, o);
    const known = run ?? sources.fromState?.(m, o);
    if (known && !run) stateRefs.add(`${m}.${o}`);
    if (known) {
      if (sensitiveOutput(m, o, known)) tainted = true;
      return { state: 'known', value: known.value };
    }
    if (sources.mocks) {
      const up = site.modules.find((x) => x.name === m);
      const mocks = (up && ws.manifests.get(up.type)?.mockOutputs) ?? {};
      if (Object.hasOwn(mocks, o)) return { state: 'mocked', value: mocks[o] };
    }
    return { state: 'unknown' };
  };
  const resolveScope = scope.variables.withOutputs(
    (m, o) => outputProblem(ws, site, environment.name, m, o, owner.name) ?? lookup(m, o),
    new Map<string, unknown>([
      ['Module', owner.name],
      ['ModuleType', owner.type],
    ]),
  );

  const inputs: Record<string, unknown> = {};
  const pending = new Set<string>();
  const mocked = new Set<string>();
  const sensitive: string[] = [];
  const declared = owner.manifest?.inputs;
  for (const [name, entry] of owner.module.inputs) {
    const errors: PathError[] = [];
    tainted = false;
    const r = resolveValue(entry.value, resolveScope, errors);
    // A variable other environments define is missing from this one: its file is where to fix it.
    const elsewhere = missingHere(scope, entry.value);
    const own = errors.filter(
      (e) => !elsewhere.some((v) => e.error.message.startsWith(`unknown variable "${v}"`)),
    );
    for (const v of elsewhere) {
      const others = [...site.environments.values()].filter((e) => e.variables.has(v)).map((e) => e.name);
      problems.error(
        ws.files.get(environment.file)?.locate(['variables'], true) ?? {
          file: environment.file,
          line: 1,
          column: 1,
        },
        `environment "${environment.name}" has no variable "${v}", which #{${v}} in a module input reads (defined in ${others.join(', ')}): add it to variables:`,
      );
    }
    // Output-reference problems are also found with the graph's edges, at the same place:
    // sortProblems drops the twin.
    reportPathErrors(ws, entry.origin, own, problems);
    r.pending.forEach((p) => pending.add(p));
    r.mocked.forEach((p) => mocked.add(p));
    inputs[name] = r.value;
    const spec = declared && Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (tainted || spec?.sensitive) sensitive.push(name);
    // An input whose placeholders failed holds their text: its type says nothing more.
    if (spec && r.pending.length === 0 && errors.length === 0) {
      const bad = typeProblem(spec, r.value, wholeReference(entry.value), tainted || spec.sensitive);
      if (bad)
        problems.error(
          at(entry.origin.file, entry.origin.path),
          `input "${name}" of module "${owner.name}" ${bad}`,
        );
    }
  }
  for (const [name, spec] of Object.entries(declared ?? {})) {
    if (spec.required && !spec.hasDefault && !owner.module.inputs.has(name)) {
      problems.error(
        at(owner.module.origin.file, owner.module.origin.path),
        `module "${owner.name}" (${owner.type}) is missing required input "${name}"`,
      );
    }
  }
  return {
    inputs,
    pending: [...pending].sort(),
    mocked: [...mocked].sort(),
    fromState: [...stateRefs].sort(),
    sensitive,
    problems: problems.list,
  };
}
