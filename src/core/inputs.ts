/**
 * One module step's inputs, bound in one place: the module entry's values (site.yaml and its
 * `config:` file) resolved against the environment's variables and the upstream outputs known at
 * this point of a run (this run's upstream steps, then — at plan time — their state, then their
 * `mock_outputs`, else pending: SPEC §4), type-checked against the catalog manifest, with every
 * problem at its file, line and column. Validation binds with no outputs known; the runner binds
 * each step once, right before its engine runs.
 */
import type { Workspace } from './config/load.js';
import type { Environment, InputEntry, InputSpec, Manifest, ModuleEntry, Site } from './config/model.js';
import { reportPathErrors, type Variables } from './config/scope.js';
import { Problems, type Problem, type SourcePos } from './errors.js';
import {
  collectReferences,
  fillValue,
  openReferences,
  resolveValue,
  type Checkpoint,
  type OutputState,
  type PathError,
  type ResolveScope,
} from './placeholders/resolve.js';
import { closest, didYouMean } from './suggest.js';

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
    // A module named by a type the catalog lacks is reported there, with the catalog's folders to
    // choose from; suggesting its (wrong) name here would tell the user to rename the reference to
    // the typo. Fixing the type fixes the name.
    const mistyped = site.modules.filter((m) => ws.manifests.has(m.type) && !ws.manifests.get(m.type));
    if (
      closest(
        module,
        mistyped.map((m) => m.name),
      ).length > 0
    )
      return undefined;
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

/** One input bound with no output known yet. */
interface InputBinding {
  name: string;
  entry: InputEntry;
  spec?: InputSpec;
  value: unknown;
  /** `module.output` references not known (all of them, before a run). */
  pending: string[];
  /** Where outputs fill the value in (none with an open string: it reads no output). */
  checkpoints: Checkpoint[];
  problems: Problem[];
  /** Its placeholders failed: the value holds their text, and its type says nothing more. */
  failed: boolean;
}

/**
 * One module's inputs, bound once per run when its graph is built: variables, filters, built-ins
 * and declared types settled, the places upstream outputs go left open. `unresolved` is the
 * binding with no output known (what validation reports and `graph` shows); withOutputs finishes
 * it with the outputs a run knows.
 */
export interface ModuleBinding {
  owner: InputOwner;
  inputs: InputBinding[];
  /** Required inputs the module does not set. */
  missing: Problem[];
  unresolved: BoundInputs;
}

function at(ws: Workspace, file: string, path: readonly (string | number)[]): SourcePos {
  return ws.files.get(file)?.locate(path) ?? { file, line: 1, column: 1 };
}

/** A variable other environments define is missing from this one: its file is where to fix it. */
function reportMissingHere(ws: Workspace, scope: InputScope, names: string[], problems: Problems): void {
  const { site, environment } = scope;
  for (const v of names) {
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
}

/** Reports an input's value that does not fit its declared type. */
function checkType(
  ws: Workspace,
  owner: InputOwner,
  input: InputBinding,
  value: unknown,
  secret: boolean,
  problems: Problems,
): void {
  if (!input.spec) return;
  const bad = typeProblem(
    input.spec,
    value,
    wholeReference(input.entry.value),
    secret || input.spec.sensitive,
  );
  if (bad)
    problems.error(
      at(ws, input.entry.origin.file, input.entry.origin.path),
      `input "${input.name}" of module "${owner.name}" ${bad}`,
    );
}

/** Binds one input with no output known (outputs are pending), recording where they go. */
function bindInput(
  ws: Workspace,
  scope: InputScope,
  owner: InputOwner,
  [name, entry]: [string, InputEntry],
  resolveScope: ResolveScope,
): InputBinding {
  const problems = new Problems();
  const errors: PathError[] = [];
  const checkpoints: Checkpoint[] = [];
  const r = resolveValue(entry.value, resolveScope, errors, [], checkpoints);
  const elsewhere = missingHere(scope, entry.value);
  const own = errors.filter(
    (e) => !elsewhere.some((v) => e.error.message.startsWith(`unknown variable "${v}"`)),
  );
  reportMissingHere(ws, scope, elsewhere, problems);
  // Output-reference problems are also found with the graph's edges, at the same place:
  // sortProblems drops the twin.
  reportPathErrors(ws, entry.origin, own, problems);
  const declared = owner.manifest?.inputs;
  const spec = declared && Object.hasOwn(declared, name) ? declared[name] : undefined;
  const input: InputBinding = {
    name,
    entry,
    spec,
    value: r.value,
    pending: r.pending,
    checkpoints: checkpoints.some((c) => c.open) ? checkpoints : [],
    problems: problems.list,
    failed: errors.length > 0,
  };
  // An input whose placeholders failed holds their text: its type says nothing more.
  if (r.pending.length === 0 && !input.failed) checkType(ws, owner, input, r.value, false, problems);
  return input;
}

/** Required inputs a module does not set. */
function missingRequired(ws: Workspace, owner: InputOwner): Problem[] {
  const problems = new Problems();
  for (const [name, spec] of Object.entries(owner.manifest?.inputs ?? {})) {
    if (spec.required && !spec.hasDefault && !owner.module.inputs.has(name)) {
      problems.error(
        at(ws, owner.module.origin.file, owner.module.origin.path),
        `module "${owner.name}" (${owner.type}) is missing required input "${name}"`,
      );
    }
  }
  return problems.list;
}

/** The bound inputs of a module from its inputs as bound (the lists sorted). */
function boundInputs(
  inputs: { name: string; value: unknown; problems: Problem[]; sensitive: boolean }[],
  missing: Problem[],
  refs: { pending: Iterable<string>; mocked: Iterable<string>; fromState: Iterable<string> },
): BoundInputs {
  return {
    inputs: Object.fromEntries(inputs.map((i) => [i.name, i.value])),
    pending: [...new Set(refs.pending)].sort(),
    mocked: [...new Set(refs.mocked)].sort(),
    fromState: [...new Set(refs.fromState)].sort(),
    sensitive: inputs.filter((i) => i.sensitive).map((i) => i.name),
    problems: [...inputs.flatMap((i) => i.problems), ...missing],
  };
}

/** Binds one module's inputs, once per run (see ModuleBinding and the file's comment). */
export function bindInputs(ws: Workspace, scope: InputScope, owner: InputOwner): ModuleBinding {
  const { site, environment } = scope;
  const resolveScope = scope.variables.withOutputs(
    (m, o) => outputProblem(ws, site, environment.name, m, o, owner.name) ?? { state: 'unknown' },
    new Map<string, unknown>([
      ['Module', owner.name],
      ['ModuleType', owner.type],
    ]),
  );
  const inputs = [...owner.module.inputs].map((e) => bindInput(ws, scope, owner, e, resolveScope));
  const missing = missingRequired(ws, owner);
  const unresolved = boundInputs(
    inputs.map((i) => ({ ...i, sensitive: i.spec?.sensitive === true })),
    missing,
    { pending: inputs.flatMap((i) => i.pending), mocked: [], fromState: [] },
  );
  return { owner, inputs, missing, unresolved };
}

/** The upstream outputs a module's inputs read, in the order they are written. */
export function upstreamReads(binding: ModuleBinding): { module: string; output: string }[] {
  return binding.inputs.flatMap((i) => openReferences(i.checkpoints));
}

/** Upstream outputs as one module's binding reads them: where each came from, and whether it was sensitive. */
class OutputReader {
  /** Set while one input is filled: a sensitive output read makes the whole input sensitive. */
  tainted = false;
  readonly fromState = new Set<string>();

  constructor(
    private readonly ws: Workspace,
    private readonly site: Site,
    private readonly sources: OutputSources,
  ) {}

  private sensitive(m: string, o: string, v: OutputValue): boolean {
    return (
      v.sensitive ||
      this.site.modules.some(
        (x) => x.name === m && this.ws.manifests.get(x.type)?.sensitiveOutputs.includes(o),
      )
    );
  }

  read(m: string, o: string): OutputState {
    const run = this.sources.fromRun(m, o);
    const known = run ?? this.sources.fromState?.(m, o);
    if (known && !run) this.fromState.add(`${m}.${o}`);
    if (known) {
      if (this.sensitive(m, o, known)) this.tainted = true;
      return { state: 'known', value: known.value };
    }
    if (this.sources.mocks) {
      const up = this.site.modules.find((x) => x.name === m);
      const mocks = (up && this.ws.manifests.get(up.type)?.mockOutputs) ?? {};
      if (Object.hasOwn(mocks, o)) return { state: 'mocked', value: mocks[o] };
    }
    return { state: 'unknown' };
  }
}

/**
 * A module's inputs finished with the upstream outputs known at this point of a run (SPEC §4):
 * only the strings that read outputs are resolved again; every input is type-checked once its
 * value is known. A binding that reads no output is returned as it is.
 */
export function withOutputs(
  ws: Workspace,
  scope: InputScope,
  binding: ModuleBinding,
  sources: OutputSources,
): BoundInputs {
  if (binding.inputs.every((i) => i.checkpoints.length === 0)) return binding.unresolved;
  const reader = new OutputReader(ws, scope.site, sources);
  const resolveScope = scope.variables.withOutputs((m, o) => reader.read(m, o));
  const pending: string[] = [];
  const mocked: string[] = [];
  const filled = binding.inputs.map((input) => {
    if (input.checkpoints.length === 0) {
      pending.push(...input.pending);
      return { ...input, sensitive: input.spec?.sensitive === true };
    }
    reader.tainted = false;
    const errors: PathError[] = [];
    const r = fillValue(input.value, input.checkpoints, resolveScope, errors);
    const problems = new Problems();
    problems.list.push(...input.problems);
    reportPathErrors(ws, input.entry.origin, errors, problems);
    pending.push(...r.pending);
    mocked.push(...r.mocked);
    if (r.pending.length === 0 && !input.failed && errors.length === 0)
      checkType(ws, binding.owner, input, r.value, reader.tainted, problems);
    const sensitive = reader.tainted || input.spec?.sensitive === true;
    return { name: input.name, value: r.value, problems: problems.list, sensitive };
  });
  return boundInputs(filled, binding.missing, { pending, mocked, fromState: reader.fromState });
}
