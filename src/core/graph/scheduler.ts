// A generic, deterministic scheduler for weighted dependency graphs (SPEC §4, STYLE §4).
// It knows nothing about Terraform: the caller hands it one `run` function and reads back one
// result per node, in a stable order that does not depend on which step happened to finish first.
import { SiteDeployError } from '../errors.js';
import type { NodeStatus, StepOutcome } from '../status.js';

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

const OUTCOMES: ReadonlySet<string> = new Set<StepOutcome>([
  'succeeded',
  'no-op',
  'failed',
  'blocked',
  'cancelled',
]);

// `blocked` counts as settled-ok: its dependents still run and the step function decides whether
// they are blocked themselves (a missing upstream output blocks, it does not fail).
const OK: ReadonlySet<NodeStatus> = new Set<NodeStatus>(['succeeded', 'no-op', 'blocked']);

interface Indexed {
  byId: Map<string, ScheduleNode>;
  /** Nodes sorted by weight, then position, then id: the start priority among ready nodes. */
  sorted: ScheduleNode[];
  /** Distinct dependencies of each node. */
  deps: Map<string, string[]>;
  /** Distinct dependents of each node, in priority order. */
  dependents: Map<string, string[]>;
}

function internal(message: string): SiteDeployError {
  return new SiteDeployError('internal', message);
}

function byPriority(a: ScheduleNode, b: ScheduleNode): number {
  return a.weight - b.weight || a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Validates ids, weights and dependency ids (programming errors: config validation happens earlier). */
function index(nodes: readonly ScheduleNode[]): Indexed {
  const byId = new Map<string, ScheduleNode>();
  for (const n of nodes) {
    if (byId.has(n.id)) throw internal(`scheduler: node "${n.id}" is listed twice`);
    if (!Number.isFinite(n.weight))
      throw internal(`scheduler: node "${n.id}" has a non-finite weight (${n.weight})`);
    byId.set(n.id, n);
  }
  const sorted = [...nodes].sort(byPriority);
  const deps = new Map<string, string[]>();
  const dependents = new Map<string, string[]>(sorted.map((n) => [n.id, []]));
  for (const n of sorted) {
    const distinct = [...new Set(n.dependsOn)];
    for (const d of distinct) {
      const list = dependents.get(d);
      if (list === undefined) throw internal(`scheduler: node "${n.id}" depends on unknown node "${d}"`);
      list.push(n.id);
    }
    deps.set(n.id, distinct);
  }
  return { byId, sorted, deps, dependents };
}

/**
 * A dependency cycle as a path that ends where it starts (['a', 'b', 'a'] reads "a depends on b
 * depends on a"), or undefined. Searches in declaration order; unknown ids are ignored.
 */
export function findCycle(nodes: readonly ScheduleNode[]): string[] | undefined {
  const byId = new Map(nodes.map((n) => [n.id, n] as const));
  const ordered = [...nodes].sort(
    (a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  // 0/undefined = unvisited, 1 = on the current path, 2 = finished (no cycle through it).
  const mark = new Map<string, 1 | 2>();
  for (const root of ordered) {
    if (mark.has(root.id)) continue;
    // Iterative DFS so a long chain cannot overflow the stack.
    const path: string[] = [root.id];
    const cursor: number[] = [0];
    mark.set(root.id, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top] as string;
      const deps = byId.get(id)?.dependsOn ?? [];
      const i = cursor[top] as number;
      if (i >= deps.length) {
        mark.set(id, 2);
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[top] = i + 1;
      const next = deps[i] as string;
      if (!byId.has(next)) continue;
      const m = mark.get(next);
      if (m === 1) return [...path.slice(path.indexOf(next)), next];
      if (m === undefined) {
        mark.set(next, 1);
        path.push(next);
        cursor.push(0);
      }
    }
  }
  return undefined;
}

function layout(
  g: Indexed,
  ordering: ScheduleOptions['ordering'],
  nodes: readonly ScheduleNode[],
): string[][] {
  const result: string[][] = [];
  if (ordering === 'weights') {
    for (const n of g.sorted) {
      for (const d of g.deps.get(n.id) ?? []) {
        const dw = (g.byId.get(d) as ScheduleNode).weight;
        // Waves are the only barrier in this ordering, so an edge to an equal or heavier node
        // could run a node before its upstream (validation rejects it, SPEC §4).
        if (dw >= n.weight) {
          throw internal(
            `scheduler: "${n.id}" (weight ${n.weight}) depends on "${d}" (weight ${dw}); ordering 'weights' needs a strictly lower weight`,
          );
        }
      }
      const last = result[result.length - 1];
      const lastWeight =
        last === undefined ? undefined : (g.byId.get(last[0] as string) as ScheduleNode).weight;
      if (last !== undefined && lastWeight === n.weight) last.push(n.id);
      else result.push([n.id]);
    }
    return result;
  }
  // Longest-path depth, computed in topological order (Kahn) so deep chains need no recursion.
  const remaining = new Map<string, number>();
  for (const n of g.sorted) remaining.set(n.id, (g.deps.get(n.id) as string[]).length);
  const depth = new Map<string, number>();
  const queue = g.sorted.filter((n) => remaining.get(n.id) === 0).map((n) => n.id);
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q] as string;
    const level = Math.max(-1, ...(g.deps.get(id) as string[]).map((d) => depth.get(d) as number)) + 1;
    depth.set(id, level);
    for (const dep of g.dependents.get(id) as string[]) {
      const left = (remaining.get(dep) as number) - 1;
      remaining.set(dep, left);
      if (left === 0) queue.push(dep);
    }
  }
  if (queue.length < g.sorted.length) {
    const cycle = findCycle(nodes) ?? [];
    throw internal(`scheduler: dependency cycle: ${cycle.join(' -> ')}`);
  }
  for (const n of g.sorted) {
    const level = depth.get(n.id) as number;
    (result[level] ??= []).push(n.id);
  }
  return result;
}

/**
 * The static wave layout `schedule` follows, also its result order. `weights`: one wave per
 * distinct weight, ascending, members by position. `dependencies`: topological levels by
 * longest-path depth, members by weight then position. Throws on unknown ids or a cycle.
 */
export function waves(nodes: readonly ScheduleNode[], ordering: ScheduleOptions['ordering']): string[][] {
  return layout(index(nodes), ordering, nodes);
}

/** A binary min-heap of node ranks; ready nodes start in rank (weight, position) order. */
class RankHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(rank: number): void {
    const a = this.items;
    a.push(rank);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as number) <= rank) break;
      a[i] = a[parent] as number;
      i = parent;
    }
    a[i] = rank;
  }

  pop(): number | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const child = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
      if ((a[child] as number) >= last) break;
      a[i] = a[child] as number;
      i = child;
    }
    a[i] = last;
    return top;
  }
}

interface Slot {
  node: ScheduleNode;
  rank: number;
  wave: number;
  /** Unsettled dependencies (ordering 'dependencies' only). */
  waiting: number;
  state: 'pending' | 'running' | 'done' | 'skipped';
  status?: StepOutcome;
  startedAt?: number;
  finishedAt?: number;
  reason?: string;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : String(e);
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
  const { maxParallel, haltOnFailure, ordering, signal, onEvent } = options;
  const now = options.now ?? Date.now;
  if (!(maxParallel === Infinity || (Number.isInteger(maxParallel) && maxParallel >= 1))) {
    throw internal(`scheduler: maxParallel must be a positive integer or Infinity, got ${maxParallel}`);
  }
  const g = index(nodes);
  const layers = layout(g, ordering, nodes);

  const slots = new Map<string, Slot>();
  const byRank: Slot[] = [];
  g.sorted.forEach((node, rank) => {
    const slot: Slot = {
      node,
      rank,
      wave: 0,
      waiting: (g.deps.get(node.id) as string[]).length,
      state: 'pending',
    };
    slots.set(node.id, slot);
    byRank.push(slot);
  });
  layers.forEach((ids, w) => ids.forEach((id) => ((slots.get(id) as Slot).wave = w)));
  /** Nodes of each wave not yet done or skipped (ordering 'weights' only). */
  const waveLeft = layers.map((ids) => ids.length);
  let opened = 0;

  const ready = new RankHeap();
  if (ordering === 'dependencies') for (const slot of byRank) if (slot.waiting === 0) ready.push(slot.rank);
  const controllers = new Map<string, AbortController>();
  let running = 0;
  // Why nothing new may start; the first cause wins (a halt stays a halt if a cancel follows).
  let stop: 'halt' | 'abort' | undefined;

  const emit = (e: ScheduleEvent): void => {
    try {
      onEvent?.(e);
    } catch {
      // Progress reporting must not strand running deployments; see ScheduleOptions.onEvent.
    }
  };

  const onAbort = (): void => {
    stop ??= 'abort';
    for (const c of controllers.values()) c.abort(signal?.reason);
  };

  return new Promise<NodeResult[]>((resolve) => {
    let finished = false;

    const skip = (id: string): void => {
      // Iterative cascade: everything downstream of a failed, cancelled or skipped node is skipped.
      const stack = [id];
      while (stack.length > 0) {
        const slot = slots.get(stack.pop() as string) as Slot;
        if (slot.state !== 'pending') continue;
        slot.state = 'skipped';
        waveLeft[slot.wave] = (waveLeft[slot.wave] as number) - 1;
        stack.push(...(g.dependents.get(slot.node.id) as string[]));
      }
    };

    const settle = (slot: Slot, outcome: StepOutcome, reason: string | undefined): void => {
      const id = slot.node.id;
      slot.state = 'done';
      slot.status = outcome;
      slot.finishedAt = now();
      if (reason !== undefined) slot.reason = reason;
      running--;
      controllers.delete(id);
      waveLeft[slot.wave] = (waveLeft[slot.wave] as number) - 1;
      if (outcome === 'failed' && haltOnFailure) stop ??= 'halt';
      for (const dep of g.dependents.get(id) as string[]) {
        if (!OK.has(outcome)) {
          skip(dep);
          continue;
        }
        const d = slots.get(dep) as Slot;
        d.waiting--;
        if (ordering === 'dependencies' && d.waiting === 0 && d.state === 'pending') ready.push(d.rank);
      }
      emit({ type: 'finish', id, status: outcome });
      pump();
    };

    const start = (slot: Slot): void => {
      const id = slot.node.id;
      const controller = new AbortController();
      slot.state = 'running';
      slot.startedAt = now();
      running++;
      controllers.set(id, controller);
      emit({ type: 'start', id });
      // The start event may have aborted the run; the step still starts and sees an aborted signal.
      let promise: Promise<StepOutcome>;
      try {
        promise = Promise.resolve(run(id, controller.signal));
      } catch (e) {
        promise = Promise.reject(e);
      }
      promise.then(
        (outcome) => {
          if (OUTCOMES.has(outcome)) settle(slot, outcome, undefined);
          else settle(slot, 'failed', `run returned an unknown outcome: ${String(outcome)}`);
        },
        (e: unknown) => settle(slot, 'failed', messageOf(e)),
      );
    };

    const openWaves = (): void => {
      while (opened < layers.length && (opened === 0 || waveLeft[opened - 1] === 0)) {
        for (const id of layers[opened] as string[]) {
          const slot = slots.get(id) as Slot;
          if (slot.state === 'pending') ready.push(slot.rank);
        }
        opened++;
      }
    };

    const pump = (): void => {
      if (finished) return;
      if (ordering === 'weights') openWaves();
      while (stop === undefined && running < maxParallel && ready.size > 0) {
        const slot = byRank[ready.pop() as number] as Slot;
        if (slot.state !== 'pending') continue;
        start(slot);
      }
      if (running === 0) {
        finished = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(results());
      }
    };

    const results = (): NodeResult[] => {
      const order = layers.flat().map((id) => slots.get(id) as Slot);
      const place = new Map(order.map((s, i) => [s.node.id, i] as const));
      const failed = order.filter((s) => s.status === 'failed').map((s) => s.node.id);
      const rootsMemo = new Map<string, string[]>();
      // The failed or cancelled steps a skipped node is (transitively) waiting on, in result order.
      const roots = (id: string): string[] => {
        const memo = rootsMemo.get(id);
        if (memo !== undefined) return memo;
        const found = new Set<string>();
        for (const d of g.deps.get(id) as string[]) {
          const ds = slots.get(d) as Slot;
          if (ds.state === 'done' && !OK.has(ds.status as StepOutcome)) found.add(d);
          else if (ds.state === 'skipped') for (const r of roots(d)) found.add(r);
        }
        const list = [...found].sort((a, b) => (place.get(a) as number) - (place.get(b) as number));
        rootsMemo.set(id, list);
        return list;
      };
      return order.map((slot): NodeResult => {
        const id = slot.node.id;
        if (slot.state === 'done') {
          const r: NodeResult = { id, status: slot.status as StepOutcome };
          if (slot.startedAt !== undefined) r.startedAt = slot.startedAt;
          if (slot.finishedAt !== undefined) r.finishedAt = slot.finishedAt;
          if (slot.startedAt !== undefined && slot.finishedAt !== undefined) {
            r.durationMs = slot.finishedAt - slot.startedAt;
          }
          if (slot.reason !== undefined) r.reason = slot.reason;
          return r;
        }
        if (stop === 'halt') return { id, status: 'halted', reason: `halted: ${failed.join(', ')} failed` };
        if (slot.state === 'skipped') {
          // Waiting only on steps a cancellation stopped: the run was cancelled, not this module's line.
          if (stop === 'abort' && roots(id).every((r) => (slots.get(r) as Slot).status === 'cancelled')) {
            return { id, status: 'cancelled', reason: 'cancelled: the run was cancelled before it started' };
          }
          const causes = roots(id).map((r) => `${r} (${(slots.get(r) as Slot).status as string})`);
          return { id, status: 'skipped', reason: `skipped: depends on ${causes.join(', ')}` };
        }
        if (stop === 'abort')
          return { id, status: 'cancelled', reason: 'cancelled: the run was cancelled before it started' };
        return { id, status: 'pending', reason: 'pending: never became ready (scheduler bug)' };
      });
    };

    if (signal?.aborted) stop = 'abort';
    else signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}
