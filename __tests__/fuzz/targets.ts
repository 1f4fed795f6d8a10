// Fuzz targets: hostile input must end in problems or the project's own bad-input error, never a
// JavaScript exception, a stack overflow or a hang (a case over CASE_LIMIT_MS fails). Each target
// is a fast-check property over generated input; `npm run fuzz` (scripts/fuzz.mjs) runs them with
// 10,000+ cases each, __tests__/fuzz.test.ts with a small budget. Paths are read from the current
// folder: run from the repository root.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Layout } from '../../src/core/config/load.js';
import { SCHEMAS } from '../../src/core/config/schemas.js';
import type { RunContext } from '../../src/core/config/scope.js';
import { validateAgainstSchema, type SchemaName } from '../../src/core/config/validate.js';
import {
  firstTooDeep,
  MAX_YAML_DEPTH,
  parseYaml,
  type YamlFile,
  type YamlPath,
} from '../../src/core/yaml.js';
import { Problems, SiteDeployError, type Problem } from '../../src/core/errors.js';
import { graphDocument } from '../../src/core/graph/build.js';
import { PlaceholderError } from '../../src/core/placeholders/parse.js';
import {
  collectReferences,
  nestingDepth,
  resolveTemplate,
  resolveValue,
  type OutputState,
  type PathError,
  type ResolveScope,
} from '../../src/core/placeholders/resolve.js';
import { renderReport, renderSummaryMarkdown, renderSummaryText } from '../../src/core/report/markdown.js';
import { parsePlanJson, summarizePlan, toSummaryJson } from '../../src/core/plan/summary.js';
import { loadProject, validateProject } from '../../src/core/project.js';
import { baseCatalog, memoryReader, repoFiles, type Files } from '../helpers/repo.js';
import {
  applyFileChanges,
  editPlanText,
  examplesOnce,
  exampleYamlPaths,
  fileChanges,
  generatedPlan,
  jsonText,
  mutatePlan,
  outputState,
  planMutation,
  planTextEdit,
  plainValue,
  randomRepo,
  template,
  templateValue,
  yamlBytes,
  type PlanTextEdit,
} from './arbitraries.js';

/** A case slower than this fails: it is a hang as far as a user is concerned. */
export const CASE_LIMIT_MS = 2000;

/** How many cases, from which seed. */
export interface FuzzOptions {
  numRuns: number;
  seed: number;
  /** fast-check's path to one counterexample: replays it alone (with its seed). */
  path?: string;
  /** A case slower than this fails; CASE_LIMIT_MS unless given. */
  caseLimitMs?: number;
}

/** What every case of one run took. */
export interface Timing {
  cases: number;
  slowestMs: number;
  /** The slowest case's input. */
  slowest?: unknown;
}

/** One run of a target: the fast-check property, its parameters, and its timing as it runs. */
export interface FuzzRun {
  property: fc.IPropertyWithHooks<[unknown]>;
  parameters: fc.Parameters<[unknown]>;
  timing: Timing;
}

/** A fuzz target: a name, what it feeds where, and a factory of its property for a run. */
export interface FuzzTarget {
  readonly name: string;
  readonly about: string;
  property(options: FuzzOptions): FuzzRun;
}

/** The outcome of one run of a target. */
export interface FuzzResult {
  name: string;
  seed: number;
  cases: number;
  failures: number;
  slowestMs: number;
  /** The input of the slowest case, as fast-check prints it (clipped). */
  slowest?: string;
  /** On failure: the shrunk input, the error, and fast-check's path to replay it with the seed. */
  counterexample?: string;
  error?: string;
  path?: string;
}

/** The failure of a fuzz property: what was wrong with the outcome. */
class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

function fail(message: string): never {
  throw new FuzzFailure(message);
}

function defineTarget<T>(
  name: string,
  about: string,
  arbitrary: fc.Arbitrary<T>,
  check: (input: T) => void,
): FuzzTarget {
  return {
    name,
    about,
    property({ numRuns, seed, path, caseLimitMs = CASE_LIMIT_MS }) {
      const timing: Timing = { cases: 0, slowestMs: 0 };
      const property = fc.property(arbitrary as fc.Arbitrary<unknown>, (input) => {
        const start = performance.now();
        check(input as T);
        const ms = performance.now() - start;
        timing.cases++;
        if (ms > timing.slowestMs) {
          timing.slowestMs = ms;
          timing.slowest = input;
        }
        if (ms > caseLimitMs) fail(`the case took ${Math.round(ms)} ms (limit ${caseLimitMs} ms)`);
      });
      return { property, parameters: { numRuns, seed, path }, timing };
    },
  };
}

function clip(s: string, max = 2000): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}

/** The first and last frames of a stack: a stack overflow's cause is at the bottom. */
function stackEnds(stack: string): string {
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l));
  return frames.length <= 24
    ? frames.join('\n')
    : [...frames.slice(0, 6), '    ...', ...frames.slice(-18)].join('\n');
}

/** Runs one target and reports what it found; never throws for a failing property. */
export function runTarget(target: FuzzTarget, options: FuzzOptions): FuzzResult {
  const { property, parameters, timing } = target.property(options);
  const details = fc.check(property, parameters);
  const result: FuzzResult = {
    name: target.name,
    seed: details.seed,
    cases: details.numRuns,
    failures: details.failed ? 1 : 0,
    slowestMs: Math.round(timing.slowestMs),
    slowest: clip(fc.stringify(timing.slowest), 300),
  };
  if (details.failed) {
    result.counterexample = clip(fc.stringify(details.counterexample));
    const e = details.errorInstance;
    result.error =
      e instanceof Error ? `${e.name}: ${clip(e.message)}\n${stackEnds(e.stack ?? '')}` : clip(String(e));
    result.path = details.counterexamplePath ?? undefined;
  }
  return result;
}

// ---- what a good outcome looks like -------------------------------------------------------------

/** A problem the user can act on: a message, a file, a line and column inside it. */
function checkProblem(p: Problem, lines?: (file: string) => number | undefined): void {
  if (typeof p.message !== 'string' || p.message.trim() === '')
    fail(`a problem without a message: ${JSON.stringify(p)}`);
  if (/Maximum call stack|\[object Object\]/.test(p.message)) fail(`a problem says: ${p.message}`);
  if (typeof p.file !== 'string' || p.file === '') fail(`a problem without a file: ${JSON.stringify(p)}`);
  if (!Number.isInteger(p.line) || p.line < 1 || !Number.isInteger(p.column) || p.column < 1)
    fail(`a problem without a line and column: ${JSON.stringify(p)}`);
  if (p.severity !== 'error' && p.severity !== 'warning') fail(`a problem of severity ${String(p.severity)}`);
  const max = lines?.(p.file);
  if (max !== undefined && p.line > max)
    fail(`a problem at line ${p.line} of a ${max - 1}-line file: ${p.message}`);
}

/** The project's bad-input error, its problems well-formed (and at least one when `problems`). */
function checkBadInput(
  e: unknown,
  options: { problems: boolean; lines?: (file: string) => number | undefined },
): void {
  if (!(e instanceof SiteDeployError)) throw e;
  if (e.code !== 'bad-input') fail(`a ${e.code} error where bad input was expected: ${e.message}`);
  if (e.message.trim() === '') fail('a bad-input error without a message');
  if (options.problems && e.problems.length === 0) fail(`a bad-input error without problems: ${e.message}`);
  for (const p of e.problems) checkProblem(p, options.lines);
}

/** A PlaceholderError pointing inside the string it is about. */
function checkPlaceholderError(e: unknown, text: string | undefined): void {
  if (!(e instanceof PlaceholderError)) throw e;
  if (e.message.trim() === '') fail('a PlaceholderError without a message');
  if (/Maximum call stack/.test(e.message)) fail(`a PlaceholderError says: ${e.message}`);
  if (!Number.isInteger(e.offset) || e.offset < 0 || (text !== undefined && e.offset > text.length))
    fail(`a PlaceholderError at offset ${e.offset} of a ${text?.length}-character string: ${e.message}`);
}

/** Lines a position may point at in each file: its line count, plus one for the end. */
function lineCounts(files: Files): (file: string) => number | undefined {
  const known = new Map<string, number | undefined>();
  return (file) => {
    if (!known.has(file)) {
      const c = files[file];
      const bytes =
        typeof c === 'string' ? new TextEncoder().encode(c) : c instanceof Uint8Array ? c : undefined;
      known.set(file, bytes && bytes.reduce((n, b) => (b === 0x0a ? n + 1 : n), 1) + 1);
    }
    return known.get(file);
  };
}

/** Up to `max` paths into a value, in document order (map keys and list indexes). */
function pathsOf(value: unknown, max: number): YamlPath[] {
  const out: YamlPath[] = [];
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0 && out.length < max) {
    const { v, path } = stack.pop() as { v: unknown; path: (string | number)[] };
    out.push(path);
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v).reverse()) stack.push({ v: x, path: [...path, k] });
  }
  return out;
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value;
  for (const seg of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

const LAYOUT: Layout = { configRoot: 'sites', catalog: 'modules' };
const CTX: RunContext = {
  repository: 'org/repo',
  sha: '0123456789abcdef0123456789abcdef01234567',
  ref: 'refs/heads/main',
  runId: '1',
  actor: 'fuzz',
};

// ---- a. YAML and config loading -----------------------------------------------------------------

const FILE = 'sites/s/environments/fuzz.yaml';
const SCHEMA_NAMES = Object.keys(SCHEMAS) as SchemaName[];

function checkYamlFile(file: YamlFile, lines: number): void {
  if (firstTooDeep(file.value) !== undefined)
    fail(`parseYaml returned a value nested deeper than ${MAX_YAML_DEPTH}`);
  // A list or map used as a key must be refused, not turned into the text of an object.
  const stack: unknown[] = [file.value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v) && Object.hasOwn(v, '[object Object]')) fail('a map key became "[object Object]"');
    for (const x of Object.values(v)) stack.push(x);
  }
  for (const path of pathsOf(file.value, 30)) {
    for (const pos of [file.locate(path), file.locate(path, true), file.locateInString(path, 1)]) {
      if (pos.file !== FILE || pos.line < 1 || pos.column < 1 || pos.line > lines)
        fail(`position ${JSON.stringify(pos)} of ${JSON.stringify(path)} is outside the file`);
    }
  }
}

const yamlTarget = defineTarget(
  'yaml',
  'random, mutated and generated YAML bytes through parseYaml and the schema check',
  fc.record({ bytes: yamlBytes, schema: fc.constantFrom(...SCHEMA_NAMES) }),
  ({ bytes, schema }) => {
    const lines = bytes.reduce((n, b) => (b === 0x0a ? n + 1 : n), 1) + 1;
    const problems = new Problems();
    const file = parseYaml(bytes, FILE, problems);
    for (const p of problems.list) checkProblem(p, () => lines);
    if (!file) {
      if (!problems.hasErrors) fail('parseYaml returned nothing and reported no error');
      return;
    }
    if (problems.list.length > 0) fail('parseYaml returned a value and reported problems');
    checkYamlFile(file, lines);
    const schemaProblems = new Problems();
    validateAgainstSchema(file, schema, schemaProblems);
    for (const p of schemaProblems.list) checkProblem(p, () => lines);
  },
);

const configTarget = defineTarget(
  'config',
  'the example repository with files edited, replaced or deleted, through validateProject and loadProject',
  fc.constant(null).chain(() =>
    fc.record({
      changes: fileChanges(exampleYamlPaths()),
      env: fc.constantFrom('dev', 'staging', 'production', 'nope'),
    }),
  ),
  ({ changes, env }) => {
    const files = applyFileChanges({ ...examplesOnce() }, changes);
    const lines = lineCounts(files);
    const reader = memoryReader(files);
    const v = validateProject(reader, LAYOUT, CTX);
    for (const p of v.problems) checkProblem(p, lines);
    if (v.ok === v.problems.some((p) => p.severity === 'error')) fail('ok disagrees with the problems');
    for (const g of v.graphs) JSON.stringify(graphDocument(v.workspace, g, new Problems()));
    // loadProject reads every file again: for the big ones (the yaml parser takes about a second
    // a MiB) validateProject alone, so one case stays one read of the repository.
    const size = Object.values(files).reduce((n, c) => n + (typeof c === 'string' ? c.length : 0), 0);
    if (size > 300_000) return;
    try {
      const { graph } = loadProject(reader, LAYOUT, CTX, 'client-portal', env);
      JSON.stringify(graphDocument(v.workspace, graph, new Problems()));
    } catch (e) {
      checkBadInput(e, { problems: true, lines });
    }
  },
);

// ---- b. placeholders ----------------------------------------------------------------------------

function scopeOf(vars: Record<string, unknown>, outputs: Record<string, OutputState>): ResolveScope {
  return {
    variable: (n) => (Object.hasOwn(vars, n) ? { value: vars[n] } : undefined),
    unknownVariable: (n) => `unknown variable "${n}"`,
    output: (m, o) => outputs[`${m}.${o}`] ?? `unknown output #{${m}.${o}}`,
  };
}

const placeholdersTarget = defineTarget(
  'placeholders',
  'random templates and values (nested up to and past the limit) through resolveTemplate, resolveValue and collectReferences',
  fc.record({
    text: template,
    value: templateValue,
    x: plainValue,
    list: plainValue,
    map: plainValue,
    deep: plainValue,
    vpc: outputState,
    endpoint: outputState,
    out: outputState,
  }),
  ({ text, value, x, list, map, deep, vpc, endpoint, out }) => {
    const scope = scopeOf(
      { x, list, map, deep },
      { 'net.vpc_id': vpc, 'db.endpoint': endpoint, 'deep.out': out },
    );
    try {
      const r = resolveTemplate(text, scope);
      if (nestingDepth(r.value) > MAX_YAML_DEPTH)
        fail('resolveTemplate returned a value deeper than the limit');
    } catch (e) {
      checkPlaceholderError(e, text);
    }
    const errors: PathError[] = [];
    const r = resolveValue(value, scope, errors);
    if (nestingDepth(value) <= MAX_YAML_DEPTH && nestingDepth(r.value) > MAX_YAML_DEPTH)
      fail('resolveValue nested a value within the limit deeper than the limit');
    for (const e of errors) {
      const at = valueAt(value, e.path);
      if (typeof at !== 'string') fail(`an error at ${JSON.stringify(e.path)}, which is not a string`);
      checkPlaceholderError(e.error, at);
    }
    const refErrors: PathError[] = [];
    for (const ref of collectReferences(value, [], [], refErrors)) {
      const at = valueAt(value, ref.path);
      if (typeof at !== 'string' || at.slice(ref.offset, ref.offset + ref.length) !== ref.source)
        fail(`reference ${ref.source} is not at ${JSON.stringify(ref.path)}:${ref.offset}`);
    }
    for (const e of refErrors) checkPlaceholderError(e.error, valueAt(value, e.path) as string);
  },
);

// ---- c. graph building --------------------------------------------------------------------------

const graphTarget = defineTarget(
  'graph',
  'random sites (weights, names, depends_on, placeholders between modules, environment filters, orderings, cycles, variable chains) through validateProject and loadProject',
  fc.record({ repo: randomRepo(baseCatalog()), env: fc.constantFrom('dev', 'prod', 'qa') }),
  ({ repo, env }) => {
    const files = repoFiles(repo);
    const lines = lineCounts(files);
    const reader = memoryReader(files);
    const v = validateProject(reader, LAYOUT, CTX);
    for (const p of v.problems) {
      checkProblem(p, lines);
      if (!(p.file in files))
        fail(`a problem in ${p.file}, which is not a file of the repository: ${p.message}`);
    }
    if (v.ok === v.problems.some((p) => p.severity === 'error')) fail('ok disagrees with the problems');
    if (v.ok) {
      for (const g of v.graphs) {
        const waveOf = new Map<string, number>();
        g.waves.forEach((wave, i) => wave.forEach((n) => waveOf.set(n.name, i)));
        if (waveOf.size !== g.nodes.length || g.waves.flat().length !== g.nodes.length)
          fail(`the waves of ${g.environment.name} do not hold every module exactly once`);
        for (const n of g.nodes)
          for (const d of n.dependsOn)
            if ((waveOf.get(d) ?? Infinity) >= (waveOf.get(n.name) ?? -1))
              fail(`${n.name} runs no later than its upstream ${d} in ${g.environment.name}`);
      }
    }
    for (const g of v.graphs) JSON.stringify(graphDocument(v.workspace, g, new Problems()));
    try {
      loadProject(reader, LAYOUT, CTX, 's1', env);
    } catch (e) {
      checkBadInput(e, { problems: true, lines });
    }
  },
);

// ---- d. plan summary ----------------------------------------------------------------------------

let realPlans: unknown[] | undefined;
/** Plans made by Terraform 1.11 (terraform_data, a sensitive variable and output), kept as JSON. */
function terraformPlans(): unknown[] {
  realPlans ??= Object.values(
    JSON.parse(readFileSync('__tests__/fuzz/terraform-plans.json', 'utf8')) as Record<string, unknown>,
  );
  return realPlans;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Strings of `value` where the `*_sensitive` tree says true; walks with its own stack. */
function sensitiveStrings(value: unknown, tree: unknown, out: Set<string>): void {
  const stack: [unknown, unknown][] = [[value, tree]];
  while (stack.length > 0) {
    const [v, t] = stack.pop() as [unknown, unknown];
    if (t === true) {
      const all: unknown[] = [v];
      while (all.length > 0) {
        const x = all.pop();
        if (typeof x === 'string') out.add(x);
        else if (Array.isArray(x)) for (const y of x) all.push(y);
        else if (isObj(x)) for (const y of Object.values(x)) all.push(y);
      }
    } else if (Array.isArray(t) && Array.isArray(v)) {
      t.forEach((tt, i) => stack.push([v[i], tt]));
    } else if (isObj(t) && isObj(v)) {
      for (const [k, tt] of Object.entries(t)) stack.push([v[k], tt]);
    }
  }
}

/** Every value a plan marks sensitive, and every string a report may show (names, addresses, actions). */
function planStrings(plan: unknown): { secrets: Set<string>; shown: string[] } {
  const secrets = new Set<string>();
  const shown: string[] = [];
  if (!isObj(plan)) return { secrets, shown };
  for (const key of ['resource_changes', 'resource_drift']) {
    const list = plan[key];
    if (!Array.isArray(list)) continue;
    for (const rc of list) {
      if (!isObj(rc)) continue;
      for (const k of [
        'address',
        'previous_address',
        'type',
        'name',
        'deposed',
        'action_reason',
        'module_address',
      ])
        if (typeof rc[k] === 'string') shown.push(rc[k]);
      const change = rc.change;
      if (!isObj(change)) continue;
      if (Array.isArray(change.actions))
        for (const a of change.actions) if (typeof a === 'string') shown.push(a);
      sensitiveStrings(change.before, change.before_sensitive, secrets);
      sensitiveStrings(change.after, change.after_sensitive, secrets);
    }
  }
  const outputs = plan.output_changes;
  if (isObj(outputs)) {
    for (const [name, oc] of Object.entries(outputs)) {
      shown.push(name);
      if (!isObj(oc)) continue;
      if (Array.isArray(oc.actions)) for (const a of oc.actions) if (typeof a === 'string') shown.push(a);
      sensitiveStrings(oc.before, oc.before_sensitive, secrets);
      sensitiveStrings(oc.after, oc.after_sensitive, secrets);
    }
  }
  // Resource values in planned_values and prior_state, module by module.
  const modules: unknown[] = [
    isObj(plan.planned_values) ? plan.planned_values.root_module : undefined,
    isObj(plan.prior_state) && isObj(plan.prior_state.values)
      ? plan.prior_state.values.root_module
      : undefined,
  ];
  while (modules.length > 0) {
    const m = modules.pop();
    if (!isObj(m)) continue;
    if (Array.isArray(m.resources))
      for (const r of m.resources) if (isObj(r)) sensitiveStrings(r.values, r.sensitive_values, secrets);
    if (Array.isArray(m.child_modules)) for (const c of m.child_modules) modules.push(c);
  }
  // Variables the configuration declares sensitive.
  const declared =
    isObj(plan.configuration) && isObj(plan.configuration.root_module)
      ? plan.configuration.root_module.variables
      : undefined;
  if (isObj(declared) && isObj(plan.variables)) {
    for (const [name, d] of Object.entries(declared)) {
      const v = plan.variables[name];
      if (isObj(d) && d.sensitive === true && isObj(v)) sensitiveStrings(v.value, true, secrets);
    }
  }
  return { secrets, shown };
}

const planTarget = defineTarget(
  'plan',
  'real and generated `terraform show -json` plans, mutated (types, deleted keys, nulls, deep nesting, cut text), through parsePlanJson, summarizePlan and every renderer; no sensitive value in any output',
  fc.record({
    base: fc.oneof(
      fc.constant(null).chain(() => fc.constantFrom(...terraformPlans())),
      generatedPlan,
    ),
    mutations: fc.array(planMutation, { maxLength: 4 }),
    textEdits: fc.oneof(
      { weight: 3, arbitrary: fc.constant<PlanTextEdit[]>([]) },
      { weight: 1, arbitrary: fc.array(planTextEdit, { minLength: 1, maxLength: 2 }) },
    ),
    highRisk: fc.option(fc.array(fc.constantFrom('aws_db_*', 'terraform_data', '*', 'x'), { maxLength: 3 })),
    maxLength: fc.constantFrom(undefined, 300, 2000, 20_000),
  }),
  ({ base, mutations, textEdits, highRisk, maxLength }) => {
    const doc = mutatePlan(base, mutations);
    const text = textEdits.reduce(editPlanText, jsonText(doc));
    const { secrets, shown } = planStrings(doc);
    let outputs: string[];
    try {
      const summary = summarizePlan(parsePlanJson(text, 'plan.json'), {
        highRiskTypes: highRisk ?? undefined,
      });
      outputs = [
        JSON.stringify(toSummaryJson(summary)),
        renderSummaryText(summary),
        renderSummaryMarkdown(summary),
        renderReport(
          {
            marker: '<!-- site-deploy:s:e -->',
            site: 's',
            environment: 'e',
            command: 'plan',
            status: 'succeeded',
            modules: [{ name: 'm', weight: 10, status: 'succeeded', summary }],
          },
          { maxLength },
        ),
      ];
      if (outputs[3] !== undefined && outputs[3].length >= (maxLength ?? 65_536))
        fail('the report is over its limit');
    } catch (e) {
      // A plan has no config file behind it: its error carries a message (and a position), not problems.
      checkBadInput(e, { problems: false });
      outputs = [(e as Error).message];
    }
    for (const s of secrets) {
      if (s.length < 8 || shown.some((x) => x.includes(s))) continue;
      for (const out of outputs)
        if (out.includes(s)) fail(`sensitive value ${JSON.stringify(s)} in the output`);
    }
  },
);

/** Every fuzz target, in the order they run. */
export const TARGETS: readonly FuzzTarget[] = [
  yamlTarget,
  configTarget,
  placeholdersTarget,
  graphTarget,
  planTarget,
];
