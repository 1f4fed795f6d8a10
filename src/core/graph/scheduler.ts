// A generic, deterministic scheduler for weighted dependency graphs (SPEC §4, STYLE §4).
// It knows nothing about Terraform: the caller hands it one `run` function and reads back one
// result per node, in a stable order that does not depend on which step happened to finish first.
import { SiteDeployError } from '../errors.js';
import { isStatusIn, STEP_OUTCOMES, type NodeStatus, type StepOutcome } from '../status.js';

/** One unit of work: its weight, its declaration order (the last tie-break) and what it waits for. */
export interface ScheduleNode {
  id: string;
  weight: number;
  /** Declaration order; breaks ties between nodes of equal weight. */
  position: number;
  dependsOn: readonly string[];
}

export type { NodeStatus, StepOutcome } from '../status.js';

/** One node's result; times are only present for nodes that started. */
export interface NodeResult {
  id: string;
  status: NodeStatus;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  /** Why, e.g. 'halted: sql failed', 'skipped: depends on sql (failed)', or a thrown error's message. */
  reason?: string;
}

/** A step starting or finishing (nodes that never start produce no events). */
export interface ScheduleEvent {
  type: 'start' | 'finish';
  id: string;
  status?: NodeStatus;
}

/** How to schedule: parallelism, halting, wave or dependency ordering, cancellation, clock and progress. */
export interface ScheduleOptions {
  /** At most this many steps at once: a positive integer, or Infinity. */
  maxParallel: number;
  haltOnFailure: boolean;
  ordering: 'weights' | 'dependencies';
  signal?: AbortSignal;
  now?: () => number;
  /** Progress callback; an exception thrown here is ignored so a bad logger cannot strand running steps. */
  onEvent?: (e: ScheduleEvent) => void;
}

/** The step function: runs one node and reports its outcome; it should honour `signal`. */
export type RunStep = (id: string, signal: AbortSignal) => Promise<StepOutcome>;

// `blocked` counts as settled-ok: its dependents still run and the step function decides whether
// they are blocked themselves (a missing upstream output blocks, it does not fail).
const OK: ReadonlySet<NodeStatus> = new Set<NodeStatus>(['succeeded', 'no-op', 'blocked']);

/** A node with its distinct links; `rank` is its start priority among ready nodes. */
interface Entry {
  node: ScheduleNode;
  rank: number;
  /** Distinct dependencies. */
  deps: Entry[];
  /** Distinct dependents, in priority order. */
  dependents: Entry[];
}

function internal(message: string): SiteDeployError {
  return new SiteDeployError('internal', message);
}

function byId(a: ScheduleNode, b: ScheduleNode): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function byPriority(a: ScheduleNode, b: ScheduleNode): number {
  return a.weight - b.weight || a.position - b.position || byId(a, b);
}

/**
 * The nodes sorted by weight, then position, then id, with their links. Validates ids, weights
 * and dependency ids (programming errors: config validation happens earlier).
 */
function index(nodes: readonly ScheduleNode[]): Entry[] {
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.id)) throw internal(`scheduler: node "${n.id}" is listed twice`);
    if (!Number.isFinite(n.weight))
      throw internal(`scheduler: node "${n.id}" has a non-finite weight (${n.weight})`);
    ids.add(n.id);
  }
  const sorted = [...nodes]
    .sort(byPriority)
    .map((node, rank): Entry => ({ node, rank, deps: [], dependents: [] }));
  const entries = new Map(sorted.map((e) => [e.node.id, e]));
  for (const e of sorted) {
    for (const d of new Set(e.node.dependsOn)) {
      const up = entries.get(d);
      if (up === undefined) throw internal(`scheduler: node "${e.node.id}" depends on unknown node "${d}"`);
      up.dependents.push(e);
      e.deps.push(up);
    }
  }
  return sorted;
}

/** One node on the depth-first path of findCycle: the next dependency to look at. */
interface Frame {
  id: string;
  deps: readonly string[];
  next: number;
}

/**
 * A dependency cycle as a path that ends where it starts (['a', 'b', 'a'] reads "a depends on b
 * depends on a"), or undefined. Searches in declaration order; unknown ids are ignored.
 */
export function findCycle(nodes: readonly ScheduleNode[]): string[] | undefined {
  const deps = new Map(nodes.map((n) => [n.id, n.dependsOn] as const));
  const ordered = [...nodes].sort((a, b) => a.position - b.position || byId(a, b));
  // Absent = unvisited, 1 = on the current path, 2 = finished (no cycle through it).
  const mark = new Map<string, 1 | 2>();
  for (const root of ordered) {
    if (mark.has(root.id)) continue;
    // Iterative DFS so a long chain cannot overflow the stack.
    const path: Frame[] = [{ id: root.id, deps: deps.get(root.id) ?? root.dependsOn, next: 0 }];
    mark.set(root.id, 1);
    for (let top = path.at(-1); top; top = path.at(-1)) {
      const next = top.deps[top.next++];
      if (next === undefined) {
        mark.set(top.id, 2);
        path.pop();
        continue;
      }
      const nextDeps = deps.get(next);
      if (nextDeps === undefined) continue;
      const m = mark.get(next);
      if (m === 1) return [...path.slice(path.findIndex((f) => f.id === next)).map((f) => f.id), next];
      if (m === undefined) {
        mark.set(next, 1);
        path.push({ id: next, deps: nextDeps, next: 0 });
      }
    }
  }
  return undefined;
}

/** One wave per distinct weight, ascending; each edge must point to a strictly lighter node. */
function weightWaves(sorted: readonly Entry[]): Entry[][] {
  const result: Entry[][] = [];
  let last: { weight: number; wave: Entry[] } | undefined;
  for (const e of sorted) {
    for (const d of e.deps) {
      // Waves are the only barrier in this ordering, so an edge to an equal or heavier node
      // could run a node before its upstream (validation rejects it, SPEC §4).
      if (d.node.weight >= e.node.weight) {
        throw internal(
          `scheduler: "${e.node.id}" (weight ${e.node.weight}) depends on "${d.node.id}" (weight ${d.node.weight}); ordering 'weights' needs a strictly lower weight`,
        );
      }
    }
    if (last?.weight === e.node.weight) last.wave.push(e);
    else {
      last = { weight: e.node.weight, wave: [e] };
      result.push(last.wave);
    }
  }
  return result;
}

/** Topological levels by longest-path depth, computed in order (Kahn) so deep chains need no recursion. */
function dependencyLevels(sorted: readonly Entry[], nodes: readonly ScheduleNode[]): Entry[][] {
  const remaining = new Map<Entry, number>();
  // A node's depth is known once every dependency is; a root's is 0.
  const depth = new Map<Entry, number>();
  const queue = sorted.filter((e) => e.deps.length === 0);
  for (const e of queue) {
    const level = depth.get(e) ?? 0;
    for (const dep of e.dependents) {
      depth.set(dep, Math.max(depth.get(dep) ?? 0, level + 1));
      const left = (remaining.get(dep) ?? dep.deps.length) - 1;
      remaining.set(dep, left);
      if (left === 0) queue.push(dep);
    }
  }
  if (queue.length < sorted.length) {
    const cycle = findCycle(nodes) ?? [];
    throw internal(`scheduler: dependency cycle: ${cycle.join(' -> ')}`);
  }
  const result: Entry[][] = [];
  for (const e of sorted) (result[depth.get(e) ?? 0] ??= []).push(e);
  return result;
}

function layout(
  sorted: readonly Entry[],
  ordering: ScheduleOptions['ordering'],
  nodes: readonly ScheduleNode[],
): Entry[][] {
  return ordering === 'weights' ? weightWaves(sorted) : dependencyLevels(sorted, nodes);
}

/**
 * The static wave layout `schedule` follows, also its result order. `weights`: one wave per
 * distinct weight, ascending, members by position. `dependencies`: topological levels by
 * longest-path depth, members by weight then position. Throws on unknown ids or a cycle.
 */
export function waves(nodes: readonly ScheduleNode[], ordering: ScheduleOptions['ordering']): string[][] {
  return layout(index(nodes), ordering, nodes).map((w) => w.map((e) => e.node.id));
}

/** A binary min-heap by rank; ready nodes start in rank (weight, position) order. */
class RankHeap<T extends { rank: number }> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = a[parent];
      if (above === undefined || above.rank <= item.rank) break;
      a[i] = above;
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const left = a[l];
      if (left === undefined) break;
      const right = a[l + 1];
      const [child, at] = right !== undefined && right.rank < left.rank ? [right, l + 1] : [left, l];
      if (child.rank >= last.rank) break;
      a[i] = child;
      i = at;
    }
    a[i] = last;
    return top;
  }
}

/** A wave of the layout and how many of its nodes are not yet settled or skipped. */
interface Wave {
  slots: Slot[];
  left: number;
}

/** One node's state during a run. */
interface Slot {
  node: ScheduleNode;
  rank: number;
  /** Its place in the results (the layout order). */
  place: number;
  wave: Wave;
  deps: Slot[];
  dependents: Slot[];
  /** Unsettled dependencies (ordering 'dependencies' only). */
  waiting: number;
  state: 'pending' | 'running' | 'settled' | 'skipped';
  /** What the step reported: set once it settled. */
  outcome?: StepOutcome;
  startedAt?: number;
  finishedAt?: number;
  reason?: string;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : String(e);
}

function isOutcome(x: unknown): x is StepOutcome {
  return isStatusIn(STEP_OUTCOMES, x);
}

const NOT_STARTED = 'cancelled: the run was cancelled before it started';

/** The slots of a layout, linked like their entries, each in its wave and with its result place. */
function slotsOf(layers: readonly Entry[][]): { slots: Slot[]; waves: Wave[] } {
  const bySlot = new Map<Entry, Slot>();
  const waves = layers.map((entries): Wave => {
    const wave: Wave = { slots: [], left: entries.length };
    for (const e of entries) {
      const slot: Slot = {
        node: e.node,
        rank: e.rank,
        place: bySlot.size,
        wave,
        deps: [],
        dependents: [],
        waiting: e.deps.length,
        state: 'pending',
      };
      bySlot.set(e, slot);
      wave.slots.push(slot);
    }
    return wave;
  });
  const linked = (list: Entry[]): Slot[] =>
    list.flatMap((e) => {
      const s = bySlot.get(e);
      return s ? [s] : [];
    });
  for (const [e, slot] of bySlot) {
    slot.deps = linked(e.deps);
    slot.dependents = linked(e.dependents);
  }
  return { slots: [...bySlot.values()], waves };
}

/** One scheduling of a graph: what is running, what is ready, and why nothing new may start. */
class ScheduleRun {
  private readonly slots: Slot[];
  private readonly waves: Wave[];
  /** Waves whose nodes were made ready (ordering 'weights' only). */
  private opened = 0;
  private readonly ready = new RankHeap<Slot>();
  private readonly controllers = new Map<Slot, AbortController>();
  private running = 0;
  // Why nothing new may start; the first cause wins (a halt stays a halt if a cancel follows).
  private stop: 'halt' | 'abort' | undefined;
  private finished = false;
  private resolve: (results: NodeResult[]) => void = () => undefined;
  private readonly now: () => number;

  constructor(
    layers: readonly Entry[][],
    private readonly run: RunStep,
    private readonly options: ScheduleOptions,
  ) {
    ({ slots: this.slots, waves: this.waves } = slotsOf(layers));
    this.now = options.now ?? Date.now;
    if (options.ordering === 'dependencies')
      for (const slot of this.slots) if (slot.waiting === 0) this.ready.push(slot);
  }

  /** Runs every node; resolves once nothing runs and nothing more may start. */
  results(): Promise<NodeResult[]> {
    const { signal } = this.options;
    return new Promise<NodeResult[]>((resolve) => {
      this.resolve = resolve;
      if (signal?.aborted) this.stop = 'abort';
      else signal?.addEventListener('abort', this.onAbort, { once: true });
      this.pump();
    });
  }

  private readonly onAbort = (): void => {
    this.stop ??= 'abort';
    for (const c of this.controllers.values()) c.abort(this.options.signal?.reason);
  };

  private emit(e: ScheduleEvent): void {
    try {
      this.options.onEvent?.(e);
    } catch {
      // Progress reporting must not strand running deployments; see ScheduleOptions.onEvent.
    }
  }

  /** Starts what may start; resolves the run when nothing is running any more. */
  private pump(): void {
    if (this.finished) return;
    if (this.options.ordering === 'weights') this.openWaves();
    while (this.stop === undefined && this.running < this.options.maxParallel) {
      const slot = this.ready.pop();
      if (slot === undefined) break;
      if (slot.state === 'pending') this.start(slot);
    }
    if (this.running === 0) {
      this.finished = true;
      this.options.signal?.removeEventListener('abort', this.onAbort);
      this.resolve(resultsOf(this.slots, this.stop));
    }
  }

  /** Makes the next waves ready, each once the one before has entirely settled. */
  private openWaves(): void {
    for (let wave = this.waves[this.opened]; wave; wave = this.waves[this.opened]) {
      const before = this.waves[this.opened - 1];
      if (before !== undefined && before.left !== 0) return;
      for (const slot of wave.slots) if (slot.state === 'pending') this.ready.push(slot);
      this.opened++;
    }
  }

  private start(slot: Slot): void {
    const controller = new AbortController();
    slot.state = 'running';
    slot.startedAt = this.now();
    this.running++;
    this.controllers.set(slot, controller);
    this.emit({ type: 'start', id: slot.node.id });
    // The start event may have aborted the run; the step still starts and sees an aborted signal.
    let promise: Promise<StepOutcome>;
    try {
      promise = Promise.resolve(this.run(slot.node.id, controller.signal));
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.then(
      (outcome: unknown) => {
        if (isOutcome(outcome)) this.settle(slot, outcome, undefined);
        else this.settle(slot, 'failed', `run returned an unknown outcome: ${String(outcome)}`);
      },
      (e: unknown) => this.settle(slot, 'failed', messageOf(e)),
    );
  }

  private settle(slot: Slot, outcome: StepOutcome, reason: string | undefined): void {
    slot.state = 'settled';
    slot.outcome = outcome;
    slot.finishedAt = this.now();
    if (reason !== undefined) slot.reason = reason;
    this.running--;
    this.controllers.delete(slot);
    slot.wave.left--;
    if (outcome === 'failed' && this.options.haltOnFailure) this.stop ??= 'halt';
    for (const dep of slot.dependents) {
      if (!OK.has(outcome)) {
        skip(dep);
        continue;
      }
      dep.waiting--;
      if (this.options.ordering === 'dependencies' && dep.waiting === 0 && dep.state === 'pending')
        this.ready.push(dep);
    }
    this.emit({ type: 'finish', id: slot.node.id, status: outcome });
    this.pump();
  }
}

/** Skips a node and, iteratively, everything downstream of it still pending. */
function skip(first: Slot): void {
  const stack = [first];
  for (let slot = stack.pop(); slot; slot = stack.pop()) {
    if (slot.state !== 'pending') continue;
    slot.state = 'skipped';
    slot.wave.left--;
    stack.push(...slot.dependents);
  }
}

/** One result per node, in layout order, saying why a node that did not run did not. */
function resultsOf(slots: readonly Slot[], stop: 'halt' | 'abort' | undefined): NodeResult[] {
  const failed = slots.filter((s) => s.outcome === 'failed').map((s) => s.node.id);
  const roots = new Roots();
  return slots.map((slot): NodeResult => {
    const id = slot.node.id;
    if (slot.outcome !== undefined) return settledResult(slot, slot.outcome);
    if (stop === 'halt') return { id, status: 'halted', reason: `halted: ${failed.join(', ')} failed` };
    if (slot.state === 'skipped') {
      const causes = roots.of(slot);
      // Waiting only on steps a cancellation stopped: the run was cancelled, not this module's line.
      if (stop === 'abort' && causes.every((r) => r.outcome === 'cancelled'))
        return { id, status: 'cancelled', reason: NOT_STARTED };
      const named = causes.map((r) => `${r.id} (${r.outcome})`);
      return { id, status: 'skipped', reason: `skipped: depends on ${named.join(', ')}` };
    }
    if (stop === 'abort') return { id, status: 'cancelled', reason: NOT_STARTED };
    return { id, status: 'pending', reason: 'pending: never became ready (scheduler bug)' };
  });
}

function settledResult(slot: Slot, status: StepOutcome): NodeResult {
  const r: NodeResult = { id: slot.node.id, status };
  if (slot.startedAt !== undefined) r.startedAt = slot.startedAt;
  if (slot.finishedAt !== undefined) r.finishedAt = slot.finishedAt;
  if (slot.startedAt !== undefined && slot.finishedAt !== undefined) {
    r.durationMs = slot.finishedAt - slot.startedAt;
  }
  if (slot.reason !== undefined) r.reason = slot.reason;
  return r;
}

/** A failed or cancelled step a skipped node waits on. */
interface Root {
  id: string;
  place: number;
  outcome: StepOutcome;
}

/** The failed or cancelled steps each skipped node is (transitively) waiting on, in result order. */
class Roots {
  private readonly memo = new Map<Slot, Root[]>();

  of(slot: Slot): Root[] {
    const known = this.memo.get(slot);
    if (known !== undefined) return known;
    const found = new Map<string, Root>();
    for (const d of slot.deps) {
      if (d.outcome !== undefined && !OK.has(d.outcome))
        found.set(d.node.id, { id: d.node.id, place: d.place, outcome: d.outcome });
      else if (d.state === 'skipped') for (const r of this.of(d)) found.set(r.id, r);
    }
    const list = [...found.values()].sort((a, b) => a.place - b.place);
    this.memo.set(slot, list);
    return list;
  }
}

/**
 * Runs every node through `run` in wave or dependency order (SPEC §4) and resolves with one result
 * per node in the `waves` layout order. Never rejects because of `run`: a throw is a `failed` step.
 */
export async function schedule(
  nodes: readonly ScheduleNode[],
  run: RunStep,
  options: ScheduleOptions,
): Promise<NodeResult[]> {
  const { maxParallel } = options;
  if (!(maxParallel === Infinity || (Number.isInteger(maxParallel) && maxParallel >= 1))) {
    throw internal(`scheduler: maxParallel must be a positive integer or Infinity, got ${maxParallel}`);
  }
  const layers = layout(index(nodes), options.ordering, nodes);
  return new ScheduleRun(layers, run, options).results();
}
