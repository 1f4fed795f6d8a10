import { SiteDeployError } from '../errors.js';

// Reads the output of `terraform show -json PLANFILE` (format_version 1.x) in one pass.
//
// That JSON holds sensitive values in plaintext (change.before/after, planned_values,
// prior_state, variables, output_changes): only the *_sensitive trees say what to hide. So
// this module never reads a value out of the plan. It keeps addresses, resource types,
// action lists, output names and Terraform's action_reason enum, nothing else.

/** A plan that cannot be read: truncated or invalid JSON, a state file, an unknown format. Exit code 2. */
export class PlanFormatError extends SiteDeployError {
  /** 0-based character offset of a JSON syntax error, when there is one. */
  readonly position: number | undefined;

  constructor(message: string, options: { position?: number; cause?: unknown } = {}) {
    super('bad-input', message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'PlanFormatError';
    this.position = options.position;
  }
}

/** One changed resource instance: its address and Terraform's action list, verbatim. */
export interface ResourceEntry {
  address: string;
  /** As in the plan: `["create"]`, `["delete","create"]`, `["forget"]`, `["no-op"]` (importing only)… */
  actions: string[];
  /** Resource type, e.g. `aws_db_instance`. */
  type: string;
  /** The object is imported by this plan (`change.importing`). */
  importing?: true;
  /** Key of a deposed object (left over from a create_before_destroy replacement). */
  deposed?: string;
  /** Terraform's `action_reason`, e.g. `replace_because_cannot_update`. */
  reason?: string;
}

/** A resource whose address changes (a `moved` block or an implicit move). */
export interface MovedEntry {
  from: string;
  to: string;
}

/** A change Terraform found outside of Terraform since the last apply (`resource_drift`). */
export interface DriftEntry {
  address: string;
  actions: string[];
}

/** A root output whose value changes; never its value. */
export interface OutputChangeEntry {
  name: string;
  actions: string[];
  sensitive: boolean;
}

/** What makes a change risky: any destroy, or destroying/replacing a high-risk type. */
export type RiskKind = 'destructive' | 'high-risk-destroy' | 'high-risk-replace';

/** One risk flag on a resource change. */
export interface RiskEntry {
  address: string;
  type: string;
  kind: RiskKind;
  actions: string[];
  /** Terraform's `action_reason`, when it gave one. */
  reason?: string;
}

/** The counts of a plan, equal to Terraform's own `Plan:` line plus forget and replace. */
export interface PlanCounts {
  add: number;
  change: number;
  destroy: number;
  import: number;
  forget: number;
  replace: number;
}

/** What a plan will do, without a single value from it. */
export interface PlanSummary extends PlanCounts {
  /** True exactly when Terraform would print "No changes." for this plan. */
  no_changes: boolean;
  /** Changed resource instances (no-ops only when importing), in the plan's order: Terraform's, by module then address. */
  resources: ResourceEntry[];
  moved: MovedEntry[];
  drift: DriftEntry[];
  outputChanges: OutputChangeEntry[];
  /** Most severe first (high-risk replace, high-risk destroy, destructive), then in the plan's order. */
  risks: RiskEntry[];
}

/** Options for summarizePlan. */
export interface SummarizeOptions {
  /** Resource types whose destroy or replacement is flagged high-risk; `aws_db_*` style prefixes allowed. Replaces the default list. */
  highRiskTypes?: readonly string[];
}

/** Resource types whose replacement loses data, keys, identity or names: flagged unless overridden. */
export const DEFAULT_HIGH_RISK_TYPES: readonly string[] = [
  'aws_db_instance',
  'aws_db_cluster_snapshot',
  'aws_db_snapshot',
  'aws_rds_cluster',
  'aws_rds_cluster_instance',
  'aws_rds_global_cluster',
  'aws_docdb_cluster',
  'aws_neptune_cluster',
  'aws_redshift_cluster',
  'aws_dynamodb_table',
  'aws_dynamodb_global_table',
  'aws_elasticache_cluster',
  'aws_elasticache_replication_group',
  'aws_memorydb_cluster',
  'aws_opensearch_domain',
  'aws_elasticsearch_domain',
  'aws_efs_file_system',
  'aws_fsx_*',
  'aws_ebs_volume',
  'aws_backup_vault',
  'aws_s3_bucket',
  'aws_kms_key',
  'aws_kms_replica_key',
  'aws_secretsmanager_secret',
  'aws_route53_zone',
  'aws_route53_record',
  'aws_acm_certificate',
  'aws_cloudfront_distribution',
  'aws_iam_role',
  'aws_iam_policy',
  'aws_iam_role_policy',
  'aws_iam_role_policy_attachment',
  'aws_iam_user',
  'aws_iam_openid_connect_provider',
  'aws_kinesis_stream',
  'aws_msk_cluster',
  'aws_eks_cluster',
  'aws_vpc',
  'aws_cognito_user_pool',
];

/** Parses `terraform show -json` text; errors name the position and never quote the content (plans hold secrets). */
export function parsePlanJson(text: string, source = 'plan JSON'): unknown {
  // A UTF-8 BOM (PowerShell redirection) is not JSON.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') {
    throw new PlanFormatError(
      `${source} is empty; write it with \`terraform show -json PLANFILE > plan.json\``,
    );
  }
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed;
  } catch (e) {
    throw jsonSyntaxError(e, body, source, text.length - body.length);
  }
}

function jsonSyntaxError(e: unknown, body: string, source: string, offset: number): PlanFormatError {
  // V8's messages quote the text around the error and sometimes give no position: find it
  // ourselves, and never quote the input (nor keep V8's error as cause): plans hold secrets.
  const found = locateJsonError(body);
  if (found === undefined) {
    // JSON.parse refused what the locator accepts (e.g. nesting too deep for the parser).
    const native = e instanceof Error && !e.message.includes('"') ? `: ${e.message.slice(0, 120)}` : '';
    return new PlanFormatError(`${source} could not be parsed as JSON${native}`);
  }
  const at = found.at;
  const { line, column } = lineColumn(body, at);
  const where = `position ${at + offset} (line ${line}, column ${column})`;
  if (at >= body.trimEnd().length) {
    return new PlanFormatError(
      `${source} is truncated: the JSON ends at ${where} before the document is complete; ` +
        'write it again with `terraform show -json PLANFILE > plan.json` and check the disk or the upload',
      { position: at + offset },
    );
  }
  return new PlanFormatError(`${source} is not valid JSON at ${where}: ${found.what}`, {
    position: at + offset,
  });
}

const WS = new Set([' ', '\t', '\n', '\r']);

/** A JSON syntax error: its offset and what is wrong there. */
interface JsonError {
  at: number;
  what: string;
}

/** The offset and kind of the first JSON syntax error; runs only after JSON.parse failed. */
function locateJsonError(text: string): JsonError | undefined {
  return new JsonLocator(text).locate();
}

/**
 * Walks JSON text with its own stack of open containers (JSON.parse accepts nesting deeper than
 * the call stack), one value at a time, until the first error.
 */
class JsonLocator {
  private i = 0;
  private readonly stack: ('{' | '[')[] = [];

  constructor(private readonly text: string) {}

  locate(): JsonError | undefined {
    for (;;) {
      const v = this.value();
      if (v === 'opened') continue;
      if (v !== 'done') return v;
      const next = this.afterValue();
      if (next === 'end') return undefined;
      if (next !== 'next') return next;
    }
  }

  private ws(): void {
    while (this.i < this.text.length && WS.has(this.text.charAt(this.i))) this.i++;
  }

  private fail(what: string): JsonError {
    return { at: this.i, what };
  }

  private atEnd(): boolean {
    return this.i >= this.text.length;
  }

  /** A value; `opened` when it opened a container whose first element comes next. */
  private value(): JsonError | 'opened' | 'done' {
    this.ws();
    if (this.atEnd()) return this.fail('unexpected end');
    const c = this.text.charAt(this.i);
    if (c === '{' || c === '[') return this.open(c);
    if (c === '"') return this.string() ?? 'done';
    if (c === '-' || (c >= '0' && c <= '9')) return this.number() ?? 'done';
    return this.literal(c) ?? 'done';
  }

  private open(c: '{' | '['): JsonError | 'opened' | 'done' {
    this.stack.push(c);
    this.i++;
    this.ws();
    if (c === '{' && this.text[this.i] !== '}') return this.key() ?? 'opened';
    if (c === '[' && this.text[this.i] !== ']') return 'opened';
    this.i++;
    this.stack.pop();
    return 'done';
  }

  /** A property name and its colon. */
  private key(): JsonError | undefined {
    if (this.text[this.i] !== '"')
      return this.fail(this.atEnd() ? 'unexpected end' : 'expected a property name');
    const err = this.string();
    if (err) return err;
    this.ws();
    if (this.text[this.i] !== ':') return this.fail(this.atEnd() ? 'unexpected end' : "expected ':'");
    this.i++;
    return undefined;
  }

  /** After a value: close containers, or move to the next element (`next`); `end` after the document. */
  private afterValue(): JsonError | 'next' | 'end' {
    for (;;) {
      this.ws();
      const top = this.stack.at(-1);
      if (top === undefined)
        return this.atEnd() ? 'end' : this.fail('unexpected data after the JSON document');
      if (this.atEnd()) return this.fail('unexpected end');
      const d = this.text[this.i];
      if (d === ',') {
        this.i++;
        if (top === '{') {
          this.ws();
          const err = this.key();
          if (err) return err;
        }
        return 'next';
      }
      if ((top === '{' && d === '}') || (top === '[' && d === ']')) {
        this.i++;
        this.stack.pop();
        continue;
      }
      return this.fail(top === '{' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  private string(): JsonError | undefined {
    const { text } = this;
    this.i++; // opening quote
    for (;;) {
      if (this.atEnd()) return this.fail('unterminated string');
      const c = text.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return undefined;
      }
      if (c < 0x20) return this.fail('control character in a string');
      if (c === 0x5c) {
        const err = this.escape();
        if (err) return err;
      } else {
        this.i++;
      }
    }
  }

  /** A backslash escape inside a string. */
  private escape(): JsonError | undefined {
    const { text } = this;
    const n = text[this.i + 1];
    // Cut right after a backslash, or inside a \u escape: the file ends there, so it is truncated.
    if (n === undefined) {
      this.i = text.length;
      return this.fail('unterminated string');
    }
    if (n === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) {
        this.i += 2;
        if (this.i + 4 > text.length && /^[0-9a-fA-F]*$/.test(text.slice(this.i))) {
          this.i = text.length;
          return this.fail('unterminated string');
        }
        return this.fail('bad \\u escape');
      }
      this.i += 6;
    } else if ('"\\/bfnrt'.includes(n)) {
      this.i += 2;
    } else {
      this.i++;
      return this.fail('bad escape in a string');
    }
    return undefined;
  }

  private digits(): boolean {
    const from = this.i;
    while (!this.atEnd() && this.text.charCodeAt(this.i) >= 0x30 && this.text.charCodeAt(this.i) <= 0x39)
      this.i++;
    return this.i > from;
  }

  private number(): JsonError | undefined {
    const { text } = this;
    const bad = (): JsonError => this.fail(this.atEnd() ? 'unexpected end' : 'bad number');
    if (text[this.i] === '-') this.i++;
    if (text[this.i] === '0') this.i++;
    else if (!this.digits()) return bad();
    if (text[this.i] === '.') {
      this.i++;
      if (!this.digits()) return bad();
    }
    if (text[this.i] === 'e' || text[this.i] === 'E') {
      this.i++;
      if (text[this.i] === '+' || text[this.i] === '-') this.i++;
      if (!this.digits()) return bad();
    }
    return undefined;
  }

  /** `true`, `false` or `null`. */
  private literal(c: string): JsonError | undefined {
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (word === undefined) return this.fail('unexpected character');
    for (let k = 0; k < word.length; k++, this.i++) {
      if (this.atEnd()) return this.fail('unexpected end');
      if (this.text[this.i] !== word[k]) return this.fail('unexpected character');
    }
    return undefined;
  }
}

function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: at - lineStart + 1 };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFormat(plan: unknown): Record<string, unknown> {
  if (!isObject(plan)) {
    throw new PlanFormatError(
      `expected the JSON object printed by \`terraform show -json PLANFILE\`, got ${Array.isArray(plan) ? 'an array' : typeof plan}`,
    );
  }
  const fv = plan['format_version'];
  if (fv === undefined) {
    if ('lineage' in plan || 'serial' in plan || ('version' in plan && 'resources' in plan)) {
      throw new PlanFormatError(
        'this is a Terraform state file (it has version/serial/lineage), not a plan; ' +
          'run `terraform plan -out=tfplan` then `terraform show -json tfplan`',
      );
    }
    throw new PlanFormatError('not `terraform show -json` output: it has no format_version');
  }
  if (typeof fv !== 'string' || !/^1\.\d+(\.\d+)?$/.test(fv)) {
    // Never String() a list or map: a deeply nested one overflows the stack in Array#join.
    const shown =
      fv !== null && typeof fv === 'object'
        ? Array.isArray(fv)
          ? 'a list'
          : 'an object'
        : JSON.stringify(String(fv).slice(0, 20));
    throw new PlanFormatError(
      `unsupported plan format_version ${shown}: site-deploy reads 1.x (Terraform 1.x and OpenTofu 1.x)`,
    );
  }
  const isPlan =
    'resource_changes' in plan ||
    'planned_values' in plan ||
    'output_changes' in plan ||
    'resource_drift' in plan;
  if (!isPlan) {
    if ('values' in plan) {
      throw new PlanFormatError(
        'this is `terraform show -json` of a state, not of a plan (it has values but no resource_changes or ' +
          'planned_values); pass the plan file: `terraform show -json tfplan`',
      );
    }
    throw new PlanFormatError('not a Terraform plan: no resource_changes, planned_values or output_changes');
  }
  return plan;
}

function stringList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new PlanFormatError(`${where}: expected a non-empty list of actions`);
  if (!v.every((a): a is string => typeof a === 'string'))
    throw new PlanFormatError(`${where}: actions must be strings`);
  return v;
}

function array(plan: Record<string, unknown>, key: string): unknown[] {
  const v = plan[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PlanFormatError(`${key}: expected a list`);
  return v;
}

// Whether a *_sensitive tree marks anything sensitive; it holds only booleans, never values.
// JSON.parse accepts nesting far deeper than the call stack, so this walks with its own stack.
function anySensitive(tree: unknown): boolean {
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const t = stack.pop();
    if (t === true) return true;
    // One by one: spreading a list of a million entries into push() would overflow the stack too.
    if (Array.isArray(t)) for (const x of t) stack.push(x);
    else if (isObject(t)) for (const x of Object.values(t)) stack.push(x);
  }
  return false;
}

function highRiskMatcher(types: readonly string[]): (type: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const t of types) {
    if (t.endsWith('*')) prefixes.push(t.slice(0, -1));
    else exact.add(t);
  }
  const cache = new Map<string, boolean>();
  return (type) => {
    let hit = cache.get(type);
    if (hit === undefined) {
      hit = exact.has(type) || prefixes.some((p) => type.startsWith(p));
      cache.set(type, hit);
    }
    return hit;
  };
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Risk entries by severity, each in plan order: high-risk replaces, high-risk destroys, destructive. */
interface RiskGroups {
  highReplace: RiskEntry[];
  highDestroy: RiskEntry[];
  destructive: RiskEntry[];
}

/**
 * Summarizes a parsed `terraform show -json` plan: counts equal to Terraform's `Plan:` line
 * (a replace is 1 add + 1 destroy; `["create","forget"]` is 1 add + 1 forget), plus forget,
 * replace, moves, drift, output names and risk flags. Throws PlanFormatError on anything else.
 */
export function summarizePlan(plan: unknown, options: SummarizeOptions = {}): PlanSummary {
  const p = checkFormat(plan);
  const isHighRisk = highRiskMatcher(options.highRiskTypes ?? DEFAULT_HIGH_RISK_TYPES);
  const s: PlanSummary = {
    add: 0,
    change: 0,
    destroy: 0,
    import: 0,
    forget: 0,
    replace: 0,
    no_changes: true,
    resources: [],
    moved: [],
    drift: [],
    outputChanges: [],
    risks: [],
  };
  const risks: RiskGroups = { highReplace: [], highDestroy: [], destructive: [] };
  const changes = array(p, 'resource_changes');
  for (let i = 0; i < changes.length; i++) addResourceChange(s, risks, changes[i], i, isHighRisk);
  addDrift(s, array(p, 'resource_drift'));
  addOutputChanges(s, p['output_changes']);
  // Resources, moves and drift keep the plan's order: Terraform sorts them (module path, then
  // address), the order of its own plan text. Sorting 50,000 entries again would cost more
  // than the whole pass. Risks are grouped by severity without reordering within a group.
  s.outputChanges.sort((a, b) => byString(a.name, b.name));
  s.risks = [...risks.highReplace, ...risks.highDestroy, ...risks.destructive];
  return s;
}

/** One entry of `resource_changes`: counted, listed, and flagged when it destroys or replaces. */
function addResourceChange(
  s: PlanSummary,
  risks: RiskGroups,
  rc: unknown,
  i: number,
  isHighRisk: (type: string) => boolean,
): void {
  const where = `resource_changes[${i}]`;
  if (!isObject(rc) || typeof rc['address'] !== 'string' || !isObject(rc['change'])) {
    throw new PlanFormatError(`${where}: expected an object with address and change`);
  }
  const address = rc['address'];
  const change = rc['change'];
  const actions = stringList(change['actions'], `${where} (${address})`);
  const key = actions.length === 1 ? actions[0] : actions.join(',');
  const managed = rc['mode'] !== 'data';
  // Terraform neither renders nor counts a data source leaving the state.
  if (key === 'delete' && !managed) return;
  const importing = change['importing'] !== undefined && change['importing'] !== null;
  const prev = rc['previous_address'];
  const moved = typeof prev === 'string' && prev !== address;
  if (moved) s.moved.push({ from: prev, to: address });
  if (key === 'no-op' && !importing) {
    // A move alone still makes a plan with changes ("Plan: 0 to add, 0 to change, 0 to destroy.").
    if (moved) s.no_changes = false;
    return;
  }
  s.no_changes = false;
  if (importing) s.import++;
  const { destroys, replaces } = count(s, key);
  const type = typeof rc['type'] === 'string' ? rc['type'] : '';
  const entry: ResourceEntry = { address, actions, type };
  if (importing) entry.importing = true;
  if (typeof rc['deposed'] === 'string') entry.deposed = rc['deposed'];
  const reason = rc['action_reason'];
  if (typeof reason === 'string') entry.reason = reason;
  s.resources.push(entry);
  if (!managed || !(destroys || replaces)) return;
  const high = isHighRisk(type);
  if (!high && !destroys) return;
  const risk: RiskEntry = {
    address,
    type,
    kind: high ? (replaces ? 'high-risk-replace' : 'high-risk-destroy') : 'destructive',
    actions,
  };
  if (typeof reason === 'string') risk.reason = reason;
  (high ? (replaces ? risks.highReplace : risks.highDestroy) : risks.destructive).push(risk);
}

/** Counts one change's actions as Terraform's `Plan:` line does; whether it destroys or replaces. */
function count(s: PlanCounts, key: string | undefined): { destroys: boolean; replaces: boolean } {
  switch (key) {
    case 'create':
      s.add++;
      return { destroys: false, replaces: false };
    case 'update':
      s.change++;
      return { destroys: false, replaces: false };
    case 'delete':
      s.destroy++;
      return { destroys: true, replaces: false };
    case 'delete,create':
    case 'create,delete':
      s.add++;
      s.destroy++;
      s.replace++;
      return { destroys: true, replaces: true };
    case 'create,forget': // Terraform >= 1.14: replaced, old object kept (lifecycle destroy = false)
      s.add++;
      s.forget++;
      s.replace++;
      return { destroys: false, replaces: true };
    case 'forget':
      s.forget++;
      return { destroys: false, replaces: false };
    default: // read, no-op (importing) and actions newer than this code: listed, not counted
      return { destroys: false, replaces: false };
  }
}

/** `resource_drift`: what changed outside Terraform since the last apply. */
function addDrift(s: PlanSummary, drift: unknown[]): void {
  for (let i = 0; i < drift.length; i++) {
    const rd = drift[i];
    if (!isObject(rd) || typeof rd['address'] !== 'string' || !isObject(rd['change'])) {
      throw new PlanFormatError(`resource_drift[${i}]: expected an object with address and change`);
    }
    const actions = stringList(rd['change']['actions'], `resource_drift[${i}] (${rd['address']})`);
    if (actions.length === 1 && actions[0] === 'no-op') continue;
    s.drift.push({ address: rd['address'], actions });
  }
}

/** `output_changes`: names and actions, and whether a value is sensitive (never the values). */
function addOutputChanges(s: PlanSummary, outputs: unknown): void {
  if (outputs === undefined || outputs === null) return;
  if (!isObject(outputs)) throw new PlanFormatError('output_changes: expected an object');
  for (const name of Object.keys(outputs)) {
    const oc = outputs[name];
    if (!isObject(oc)) throw new PlanFormatError(`output_changes.${name}: expected an object`);
    const actions = stringList(oc['actions'], `output_changes.${name}`);
    if (actions.length === 1 && actions[0] === 'no-op') continue;
    s.no_changes = false;
    s.outputChanges.push({
      name,
      actions,
      sensitive: anySensitive(oc['before_sensitive']) || anySensitive(oc['after_sensitive']),
    });
  }
}

/** The JSON shape of `summarize --json`, documented in SPEC §9. */
export interface SummaryJson extends PlanCounts {
  no_changes: boolean;
  resources: { address: string; actions: string[] }[];
  importing: string[];
  moved: MovedEntry[];
  drift: DriftEntry[];
  output_changes: OutputChangeEntry[];
  risks: RiskEntry[];
}

/** `summarize --json`: the SPEC keys first, in order, then importing, moved, drift, output_changes and risks. */
export function toSummaryJson(s: PlanSummary): SummaryJson {
  return {
    add: s.add,
    change: s.change,
    destroy: s.destroy,
    import: s.import,
    forget: s.forget,
    replace: s.replace,
    no_changes: s.no_changes,
    resources: s.resources.map((r) => ({ address: r.address, actions: r.actions })),
    importing: s.resources.filter((r) => r.importing).map((r) => r.address),
    moved: s.moved,
    drift: s.drift,
    output_changes: s.outputChanges,
    risks: s.risks,
  };
}
