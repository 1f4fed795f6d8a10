import fc from 'fast-check';
import {
  findCycle,
  schedule,
  waves,
  type NodeResult,
  type ScheduleNode,
  type ScheduleOptions,
  type StepOutcome,
} from '../src/core/graph/scheduler.js';

// ---------------------------------------------------------------------------------------------
// Helpers: graphs written as tables, and a runner whose steps the test settles by hand.

type Spec = [id: string, weight: number, dependsOn?: string[]];

/** Nodes from [id, weight, deps] rows; position is the row index. */
function graph(rows: Spec[]): ScheduleNode[] {
  return rows.map(([id, weight, dependsOn = []], position) => ({ id, weight, position, dependsOn }));
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run (no timers involved in ordering). */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A fake step function: every step waits until the test settles it. */
class Steps {
  readonly started: string[] = [];
  readonly running = new Set<string>();
  maxRunning = 0;
  readonly signals = new Map<string, AbortSignal>();
  private readonly waits = new Map<string, Deferred<StepOutcome>>();

  /** When true, a step answers an abort with 'cancelled' (what the Terraform adapter does). */
  constructor(private readonly honourAbort = true) {}

  readonly run = (id: string, signal: AbortSignal): Promise<StepOutcome> => {
    this.started.push(id);
    this.running.add(id);
    this.maxRunning = Math.max(this.maxRunning, this.running.size);
    this.signals.set(id, signal);
    const d = deferred<StepOutcome>();
    this.waits.set(id, d);
    if (this.honourAbort) {
      if (signal.aborted) d.resolve('cancelled');
      else signal.addEventListener('abort', () => d.resolve('cancelled'));
    }
    return d.promise.finally(() => this.running.delete(id));
  };

  /** Settles one running step and lets the scheduler react. */
  async settle(id: string, outcome: StepOutcome = 'succeeded'): Promise<void> {
    const d = this.waits.get(id);
    if (d === undefined) throw new Error(`test bug: ${id} has not started`);
    d.resolve(outcome);
    await flush();
  }

  async fail(id: string, error: unknown): Promise<void> {
    this.waits.get(id)?.reject(error);
    await flush();
  }
}

const base: ScheduleOptions = { maxParallel: 4, haltOnFailure: true, ordering: 'weights' };

/** Results without clock fields, for comparing outcomes. */
function statuses(results: NodeResult[]): Array<Pick<NodeResult, 'id' | 'status' | 'reason'>> {
  return results.map(({ id, status, reason }) =>
    reason === undefined ? { id, status } : { id, status, reason },
  );
}

/** A step function that answers each id from a table right away (default 'succeeded'). */
function answers(table: Record<string, StepOutcome> = {}): (id: string) => Promise<StepOutcome> {
  return async (id) => table[id] ?? 'succeeded';
}

// ---------------------------------------------------------------------------------------------
// Static layout

describe('waves', () => {
  test.each<[string, Spec[], ScheduleOptions['ordering'], string[][]]>([
    [
      'a1, b2, c1 -> [a, c], [b]',
      [
        ['a', 1],
        ['b', 2],
        ['c', 1],
      ],
      'weights',
      [['a', 'c'], ['b']],
    ],
    [
      'weights ascending, negative first',
      [
        ['x', 10],
        ['y', -1],
        ['z', 0],
      ],
      'weights',
      [['y'], ['z'], ['x']],
    ],
    [
      'c -> b -> a in three levels',
      [
        ['c', 1, ['b']],
        ['b', 1, ['a']],
        ['a', 1],
      ],
      'dependencies',
      [['a'], ['b'], ['c']],
    ],
    [
      'diamond: d -> b, c; b, c -> a',
      [
        ['a', 1],
        ['b', 2, ['a']],
        ['c', 1, ['a']],
        ['d', 3, ['b', 'c']],
      ],
      'dependencies',
      [['a'], ['c', 'b'], ['d']],
    ],
    [
      'longest path: d -> a, c; c -> b -> a puts d at depth 3',
      [
        ['a', 1],
        ['b', 1, ['a']],
        ['c', 1, ['b']],
        ['d', 1, ['a', 'c']],
      ],
      'dependencies',
      [['a'], ['b'], ['c'], ['d']],
    ],
    [
      'roots sorted by weight then position',
      [
        ['p', 5],
        ['q', 1],
        ['r', 1],
      ],
      'dependencies',
      [['q', 'r', 'p']],
    ],
  ])('%s', (_name, rows, ordering, expected) => {
    expect(waves(graph(rows), ordering)).toEqual(expected);
  });

  test('position, not array order, breaks ties', () => {
    const nodes: ScheduleNode[] = [
      { id: 'late', weight: 1, position: 2, dependsOn: [] },
      { id: 'early', weight: 1, position: 0, dependsOn: [] },
    ];
    expect(waves(nodes, 'weights')).toEqual([['early', 'late']]);
  });

  test.each<[string, Spec[], ScheduleOptions['ordering'], RegExp]>([
    ['unknown dependency', [['a', 1, ['nope']]], 'weights', /"a" depends on unknown node "nope"/],
    [
      'cycle a -> b -> a',
      [
        ['a', 1, ['b']],
        ['b', 2, ['a']],
      ],
      'dependencies',
      /dependency cycle: a -> b -> a/,
    ],
    [
      'weights: edge to an equal weight',
      [
        ['a', 1],
        ['b', 1, ['a']],
      ],
      'weights',
      /strictly lower weight/,
    ],
    [
      'duplicate id',
      [
        ['a', 1],
        ['a', 2],
      ],
      'weights',
      /listed twice/,
    ],
  ])('throws on %s', (_name, rows, ordering, message) => {
    expect(() => waves(graph(rows), ordering)).toThrow(message);
  });
});

describe('findCycle', () => {
  test.each<[string, Spec[], string[] | undefined]>([
    [
      'a -> b -> a',
      [
        ['a', 1, ['b']],
        ['b', 1, ['a']],
      ],
      ['a', 'b', 'a'],
    ],
    ['a -> a', [['a', 1, ['a']]], ['a', 'a']],
    [
      'x -> b -> c -> b (the cycle only)',
      [
        ['x', 1, ['b']],
        ['b', 1, ['c']],
        ['c', 1, ['b']],
      ],
      ['b', 'c', 'b'],
    ],
    [
      'diamond has none',
      [
        ['a', 1],
        ['b', 1, ['a']],
        ['c', 1, ['a']],
        ['d', 1, ['b', 'c']],
      ],
      undefined,
    ],
    ['unknown ids are ignored', [['a', 1, ['ghost']]], undefined],
  ])('%s', (_name, rows, expected) => {
    expect(findCycle(graph(rows))).toEqual(expected);
  });

  test('a 10,000-long chain does not overflow the stack', () => {
    const rows: Spec[] = Array.from({ length: 10_000 }, (_, i) => [
      `n${i}`,
      1,
      i === 0 ? ['n9999'] : [`n${i - 1}`],
    ]);
    expect(findCycle(graph(rows))).toHaveLength(10_001);
  });
});

// ---------------------------------------------------------------------------------------------
// Ordering

describe('weights ordering', () => {
  test('a wave starts only when the previous wave has entirely settled', async () => {
    const steps = new Steps();
    const done = schedule(
      graph([
        ['c', 2],
        ['a', 1],
        ['b', 1],
        ['d', 3],
      ]),
      steps.run,
      base,
    );
    await flush();
    expect(steps.started).toEqual(['a', 'b']);
    await steps.settle('a');
    expect(steps.started).toEqual(['a', 'b']);
    await steps.settle('b', 'no-op');
    expect(steps.started).toEqual(['a', 'b', 'c']);
    await steps.settle('c', 'blocked');
    expect(steps.started).toEqual(['a', 'b', 'c', 'd']);
    await steps.settle('d');
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'succeeded' },
      { id: 'b', status: 'no-op' },
      { id: 'c', status: 'blocked' },
      { id: 'd', status: 'succeeded' },
    ]);
  });

  test.each([
    [1, 1],
    [2, 2],
    [3, 3],
    [Infinity, 5],
  ])('maxParallel %p: at most %p at once, started in position order', async (maxParallel, expected) => {
    const steps = new Steps();
    const rows: Spec[] = ['a', 'b', 'c', 'd', 'e'].map((id) => [id, 1]);
    const done = schedule(graph(rows), steps.run, { ...base, maxParallel });
    await flush();
    // Settle the most recently started step first, so a wrong pick would show in the order.
    while (steps.running.size > 0) await steps.settle([...steps.running].at(-1) as string);
    await done;
    expect(steps.maxRunning).toBe(expected);
    expect(steps.started).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('a failure lets running peers finish and halts not-started peers and heavier waves', async () => {
    const steps = new Steps();
    const rows: Spec[] = [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', 2],
      ['e', 3, ['d']],
    ];
    const done = schedule(graph(rows), steps.run, { ...base, maxParallel: 2 });
    await flush();
    await steps.settle('a', 'failed');
    expect(steps.started).toEqual(['a', 'b']);
    expect(steps.signals.get('b')?.aborted).toBe(false);
    await steps.settle('b');
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'failed' },
      { id: 'b', status: 'succeeded' },
      { id: 'c', status: 'halted', reason: 'halted: a failed' },
      { id: 'd', status: 'halted', reason: 'halted: a failed' },
      { id: 'e', status: 'halted', reason: 'halted: a failed' },
    ]);
    expect(steps.started).toEqual(['a', 'b']);
  });

  test('every failure of the wave is named together', async () => {
    const steps = new Steps();
    const done = schedule(
      graph([
        ['a', 1],
        ['b', 1],
        ['c', 2],
      ]),
      steps.run,
      base,
    );
    await flush();
    await steps.settle('b', 'failed');
    await steps.settle('a', 'failed');
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'failed' },
      { id: 'b', status: 'failed' },
      { id: 'c', status: 'halted', reason: 'halted: a, b failed' },
    ]);
  });
});

describe('dependencies ordering', () => {
  // The same graph under both orderings: which steps have started, and which still run, after
  // the test settles each step in turn (`slow` and `sql` start at once, `app` needs `sql`).
  test.each<[string, ScheduleOptions['ordering'], [settle: string, started: string[], running: string[]][]]>([
    [
      'dependencies: app starts as soon as sql finishes, before the unrelated slow lighter node',
      'dependencies',
      [
        ['sql', ['slow', 'sql', 'app'], ['slow', 'app']],
        ['app', ['slow', 'sql', 'app'], ['slow']],
        ['slow', ['slow', 'sql', 'app'], []],
      ],
    ],
    [
      'weights: app waits for the whole lighter wave, the slow node included',
      'weights',
      [
        ['sql', ['slow', 'sql'], ['slow']],
        ['slow', ['slow', 'sql', 'app'], ['app']],
        ['app', ['slow', 'sql', 'app'], []],
      ],
    ],
  ])('%s', async (_name, ordering, script) => {
    const steps = new Steps();
    const rows: Spec[] = [
      ['slow', 1],
      ['sql', 1],
      ['app', 5, ['sql']],
    ];
    const done = schedule(graph(rows), steps.run, { ...base, ordering });
    await flush();
    expect(steps.started).toEqual(['slow', 'sql']);
    for (const [id, started, running] of script) {
      await steps.settle(id);
      expect({ settled: id, started: steps.started, running: steps.running }).toEqual({
        settled: id,
        started,
        running: new Set(running),
      });
    }
    expect(statuses(await done).map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  test('ready nodes start lowest weight first, then position', async () => {
    const steps = new Steps();
    const rows: Spec[] = [
      ['heavy', 3],
      ['x', 1],
      ['y', 1],
      ['mid', 2],
    ];
    const done = schedule(graph(rows), steps.run, { ...base, ordering: 'dependencies', maxParallel: 1 });
    await flush();
    while (steps.running.size > 0) await steps.settle([...steps.running][0] as string);
    await done;
    expect(steps.started).toEqual(['x', 'y', 'mid', 'heavy']);
  });

  test('a blocked dependency still lets its dependents run', async () => {
    const results = await schedule(
      graph([
        ['net', 1],
        ['sql', 2, ['net']],
        ['app', 3, ['sql']],
      ]),
      answers({ sql: 'blocked', app: 'blocked' }),
      { ...base, ordering: 'dependencies' },
    );
    expect(statuses(results)).toEqual([
      { id: 'net', status: 'succeeded' },
      { id: 'sql', status: 'blocked' },
      { id: 'app', status: 'blocked' },
    ]);
  });

  test('maxParallel holds while ready nodes keep appearing', async () => {
    const steps = new Steps();
    const rows: Spec[] = [
      ['a', 1],
      ['b', 1],
      ['c', 2, ['a']],
      ['d', 2, ['a']],
      ['e', 2, ['b']],
      ['f', 3, ['c', 'd', 'e']],
    ];
    const done = schedule(graph(rows), steps.run, { ...base, ordering: 'dependencies', maxParallel: 2 });
    await flush();
    while (steps.running.size > 0) await steps.settle([...steps.running][0] as string);
    await done;
    expect(steps.maxRunning).toBe(2);
    expect(steps.started).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  test('halting: a failure starts nothing new, even nodes whose dependencies succeeded later', async () => {
    const steps = new Steps();
    const rows: Spec[] = [
      ['a', 1],
      ['b', 1],
      ['c', 2, ['b']],
      ['d', 3],
    ];
    const done = schedule(graph(rows), steps.run, { ...base, ordering: 'dependencies', maxParallel: 3 });
    await flush();
    expect(steps.started).toEqual(['a', 'b', 'd']);
    await steps.settle('a', 'failed');
    await steps.settle('b');
    await steps.settle('d');
    expect(steps.started).toEqual(['a', 'b', 'd']);
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'failed' },
      { id: 'b', status: 'succeeded' },
      { id: 'd', status: 'succeeded' },
      { id: 'c', status: 'halted', reason: 'halted: a failed' },
    ]);
  });

  test('throws on a cycle, printing its path', async () => {
    const nodes = graph([
      ['a', 1, ['c']],
      ['b', 1, ['a']],
      ['c', 1, ['b']],
    ]);
    await expect(schedule(nodes, answers(), { ...base, ordering: 'dependencies' })).rejects.toThrow(
      'dependency cycle: a -> c -> b -> a',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// haltOnFailure: false

describe('haltOnFailure false skips only transitive dependents', () => {
  const sql = (s: string): string => `skipped: depends on ${s}`;
  test.each<[string, Spec[], Record<string, StepOutcome>, Record<string, [string, string?]>]>([
    [
      'a fails; b -> a; c -> b; d on its own',
      [
        ['a', 1],
        ['d', 1],
        ['b', 2, ['a']],
        ['c', 3, ['b']],
      ],
      { a: 'failed' },
      {
        a: ['failed'],
        d: ['succeeded'],
        b: ['skipped', sql('a (failed)')],
        c: ['skipped', sql('a (failed)')],
      },
    ],
    [
      'a, b fail; c -> a, b; e -> c, d',
      [
        ['a', 1],
        ['b', 1],
        ['d', 1],
        ['c', 2, ['a', 'b']],
        ['e', 3, ['c', 'd']],
      ],
      { a: 'failed', b: 'failed' },
      {
        a: ['failed'],
        b: ['failed'],
        d: ['succeeded'],
        c: ['skipped', sql('a (failed), b (failed)')],
        e: ['skipped', sql('a (failed), b (failed)')],
      },
    ],
    [
      'later waves still run: a fails, x at weight 5 is independent',
      [
        ['a', 1],
        ['x', 5],
      ],
      { a: 'failed' },
      { a: ['failed'], x: ['succeeded'] },
    ],
    [
      'a step that reports cancelled on its own skips its dependents',
      [
        ['a', 1],
        ['b', 2, ['a']],
      ],
      { a: 'cancelled' },
      { a: ['cancelled'], b: ['skipped', sql('a (cancelled)')] },
    ],
  ])('%s', async (_name, rows, outcomes, expected) => {
    for (const ordering of ['weights', 'dependencies'] as const) {
      const results = await schedule(graph(rows), answers(outcomes), {
        ...base,
        haltOnFailure: false,
        ordering,
      });
      const got = Object.fromEntries(
        results.map((r) => [r.id, r.reason === undefined ? [r.status] : [r.status, r.reason]]),
      );
      expect(got).toEqual(expected);
    }
  });

  test('a skipped node never reaches the step function', async () => {
    const ran: string[] = [];
    await schedule(
      graph([
        ['a', 1],
        ['b', 2, ['a']],
        ['c', 2],
      ]),
      async (id) => {
        ran.push(id);
        return id === 'a' ? 'failed' : 'succeeded';
      },
      { ...base, haltOnFailure: false },
    );
    expect(ran).toEqual(['a', 'c']);
  });
});

// ---------------------------------------------------------------------------------------------
// Errors, cancellation, clock, events

describe('a throwing step function is a failed step', () => {
  test.each<[string, (id: string) => Promise<StepOutcome>, string]>([
    [
      'synchronous throw',
      (id) => {
        if (id === 'a') throw new Error('boom');
        return Promise.resolve('succeeded');
      },
      'boom',
    ],
    [
      'rejected promise',
      async (id) => (id === 'a' ? Promise.reject(new Error('state locked')) : 'succeeded'),
      'state locked',
    ],
    [
      'a thrown string',
      async (id) => (id === 'a' ? Promise.reject('plain text') : 'succeeded'),
      'plain text',
    ],
    [
      'an unknown outcome',
      async (id) => (id === 'a' ? ('weird' as StepOutcome) : 'succeeded'),
      'run returned an unknown outcome: weird',
    ],
  ])('%s', async (_name, run, reason) => {
    const results = await schedule(
      graph([
        ['a', 1],
        ['b', 1],
        ['c', 2, ['a']],
        ['d', 2],
      ]),
      run,
      {
        ...base,
        haltOnFailure: false,
      },
    );
    expect(statuses(results)).toEqual([
      { id: 'a', status: 'failed', reason },
      { id: 'b', status: 'succeeded' },
      { id: 'c', status: 'skipped', reason: 'skipped: depends on a (failed)' },
      { id: 'd', status: 'succeeded' },
    ]);
  });
});

describe('cancellation', () => {
  test('running steps see the abort; nothing new starts; not-started nodes are cancelled', async () => {
    const steps = new Steps();
    const controller = new AbortController();
    const rows: Spec[] = [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', 2],
    ];
    const done = schedule(graph(rows), steps.run, { ...base, maxParallel: 2, signal: controller.signal });
    await flush();
    const [a, b] = [steps.signals.get('a'), steps.signals.get('b')];
    expect(a).not.toBe(b); // one controller per node
    controller.abort(new Error('workflow cancelled'));
    await flush();
    expect(a?.aborted).toBe(true);
    expect(b?.aborted).toBe(true);
    expect(steps.started).toEqual(['a', 'b']);
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'cancelled' },
      { id: 'b', status: 'cancelled' },
      { id: 'c', status: 'cancelled', reason: 'cancelled: the run was cancelled before it started' },
      { id: 'd', status: 'cancelled', reason: 'cancelled: the run was cancelled before it started' },
    ]);
  });

  test('with halting off, a module waiting on a cancelled step is cancelled too, not skipped', async () => {
    const steps = new Steps();
    const controller = new AbortController();
    const rows: Spec[] = [
      ['a', 1],
      ['b', 2, ['a']],
    ];
    const done = schedule(graph(rows), steps.run, {
      ...base,
      haltOnFailure: false,
      signal: controller.signal,
    });
    await flush();
    controller.abort();
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'cancelled' },
      { id: 'b', status: 'cancelled', reason: 'cancelled: the run was cancelled before it started' },
    ]);
  });

  test('a running step keeps whatever outcome it returns', async () => {
    const steps = new Steps(false);
    const controller = new AbortController();
    const done = schedule(
      graph([
        ['a', 1],
        ['b', 2],
      ]),
      steps.run,
      { ...base, signal: controller.signal },
    );
    await flush();
    controller.abort();
    await steps.settle('a', 'succeeded');
    expect(statuses(await done).map((r) => r.status)).toEqual(['succeeded', 'cancelled']);
  });

  test('an already-aborted signal runs nothing', async () => {
    const ran: string[] = [];
    const results = await schedule(
      graph([
        ['a', 1],
        ['b', 2],
      ]),
      async (id) => {
        ran.push(id);
        return 'succeeded';
      },
      { ...base, signal: AbortSignal.abort() },
    );
    expect(ran).toEqual([]);
    expect(results.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
  });

  test('cancelling after a halt keeps the rest halted', async () => {
    const steps = new Steps();
    const controller = new AbortController();
    const done = schedule(
      graph([
        ['a', 1],
        ['b', 1],
        ['c', 2],
      ]),
      steps.run,
      { ...base, signal: controller.signal },
    );
    await flush();
    await steps.settle('a', 'failed');
    controller.abort();
    await flush();
    expect(statuses(await done)).toEqual([
      { id: 'a', status: 'failed' },
      { id: 'b', status: 'cancelled' },
      { id: 'c', status: 'halted', reason: 'halted: a failed' },
    ]);
  });

  test('an abort from inside a start event reaches the step that is starting', async () => {
    const controller = new AbortController();
    const steps = new Steps();
    const done = schedule(
      graph([
        ['a', 1],
        ['b', 1],
      ]),
      steps.run,
      {
        ...base,
        maxParallel: 1,
        signal: controller.signal,
        onEvent: (e) => e.type === 'start' && controller.abort(),
      },
    );
    expect(statuses(await done).map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    expect(steps.started).toEqual(['a']);
    expect(steps.signals.get('a')?.aborted).toBe(true);
  });
});

describe('clock and events', () => {
  test('times come from now(); nodes that never ran have none', async () => {
    let t = 1000;
    const steps = new Steps();
    const done = schedule(
      graph([
        ['a', 1],
        ['b', 1],
        ['c', 2],
      ]),
      steps.run,
      { ...base, now: () => t },
    );
    await flush();
    t = 1250;
    await steps.settle('b');
    t = 1400;
    await steps.settle('a', 'failed');
    expect(await done).toEqual([
      { id: 'a', status: 'failed', startedAt: 1000, finishedAt: 1400, durationMs: 400 },
      { id: 'b', status: 'succeeded', startedAt: 1000, finishedAt: 1250, durationMs: 250 },
      { id: 'c', status: 'halted', reason: 'halted: a failed' },
    ]);
  });

  test('events: start and finish per step; a throwing listener changes nothing', async () => {
    const events: string[] = [];
    const results = await schedule(
      graph([
        ['a', 1],
        ['b', 2, ['a']],
      ]),
      answers({ b: 'no-op' }),
      {
        ...base,
        onEvent: (e) => {
          events.push(e.status === undefined ? `${e.type} ${e.id}` : `${e.type} ${e.id} ${e.status}`);
          throw new Error('listener bug');
        },
      },
    );
    expect(events).toEqual(['start a', 'finish a succeeded', 'start b', 'finish b no-op']);
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'no-op']);
  });

  test('no nodes: no steps, no results', async () => {
    expect(await schedule([], answers(), base)).toEqual([]);
  });

  test.each([0, -1, 1.5, NaN])('rejects maxParallel %p', async (maxParallel) => {
    await expect(schedule(graph([['a', 1]]), answers(), { ...base, maxParallel })).rejects.toThrow(
      /maxParallel/,
    );
  });

  test('an unknown dependency rejects before anything runs', async () => {
    const ran: string[] = [];
    const run = async (id: string): Promise<StepOutcome> => {
      ran.push(id);
      return 'succeeded';
    };
    await expect(
      schedule(
        graph([
          ['a', 1],
          ['b', 2, ['sqll']],
        ]),
        run,
        base,
      ),
    ).rejects.toThrow('node "b" depends on unknown node "sqll"');
    expect(ran).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Determinism

/** A small seeded PRNG (mulberry32) so "random" completion orders are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the schedule, settling a randomly chosen running step each time. */
async function runShuffled(
  nodes: ScheduleNode[],
  outcomes: Record<string, StepOutcome>,
  options: ScheduleOptions,
  seed: number,
): Promise<NodeResult[]> {
  const next = rng(seed);
  const steps = new Steps();
  const done = schedule(nodes, steps.run, options);
  await flush();
  while (steps.running.size > 0) {
    const list = [...steps.running];
    const id = list[Math.floor(next() * list.length)] as string;
    await steps.settle(id, outcomes[id] ?? 'succeeded');
  }
  return done;
}

describe('determinism', () => {
  const rows: Spec[] = [
    ['net', 1],
    ['dns', 1],
    ['sql', 2, ['net']],
    ['cache', 2, ['net']],
    ['app', 3, ['sql', 'cache']],
    ['cdn', 3, ['dns']],
    ['mon', 4, ['app', 'cdn']],
    ['docs', 4],
  ];
  const outcomes: Record<string, StepOutcome> = { cache: 'failed', cdn: 'no-op' };

  test.each<[string, ScheduleOptions]>([
    ['weights, halt false, parallel 3', { ...base, haltOnFailure: false, maxParallel: 3 }],
    [
      'dependencies, halt false, parallel 3',
      { ...base, ordering: 'dependencies', haltOnFailure: false, maxParallel: 3 },
    ],
    ['weights, halt true, unbounded', { ...base, maxParallel: Infinity }],
    [
      'dependencies, halt false, serial',
      { ...base, ordering: 'dependencies', haltOnFailure: false, maxParallel: 1 },
    ],
  ])('%s: same results for 25 completion orders', async (_name, options) => {
    const nodes = graph(rows);
    const first = statuses(await runShuffled(nodes, outcomes, options, 1));
    expect(first.map((r) => r.id)).toEqual(waves(nodes, options.ordering).flat());
    for (let seed = 2; seed <= 25; seed++) {
      expect(statuses(await runShuffled(nodes, outcomes, options, seed))).toEqual(first);
    }
  });

  test('property: without halting, each status follows from the outcomes alone', async () => {
    // Random DAGs (edges only to earlier, strictly lighter nodes), random outcomes, random completion order.
    const arb = fc
      .array(
        fc.record({
          weightStep: fc.integer({ min: 0, max: 2 }),
          deps: fc.array(fc.nat(), { maxLength: 3 }),
          outcome: fc.constantFrom<StepOutcome>('succeeded', 'no-op', 'blocked', 'failed', 'cancelled'),
        }),
        { minLength: 1, maxLength: 12 },
      )
      .chain((raw) => fc.tuple(fc.constant(raw), fc.integer({ min: 1, max: 4 }), fc.nat(), fc.boolean()));
    await fc.assert(
      fc.asyncProperty(arb, async ([raw, maxParallel, seed, byDeps]) => {
        let weight = 0;
        const nodes: ScheduleNode[] = [];
        const outcomes: Record<string, StepOutcome> = {};
        raw.forEach((r, i) => {
          weight += r.weightStep;
          const lighter = nodes.filter((n) => n.weight < weight).map((n) => n.id);
          const dependsOn =
            lighter.length === 0 ? [] : r.deps.map((d) => lighter[d % lighter.length] as string);
          nodes.push({ id: `n${i}`, weight, position: i, dependsOn });
          outcomes[`n${i}`] = r.outcome;
        });
        const options: ScheduleOptions = {
          ...base,
          haltOnFailure: false,
          maxParallel,
          ordering: byDeps ? 'dependencies' : 'weights',
        };
        const results = await runShuffled(nodes, outcomes, options, seed);
        const expected = new Map<string, string>();
        for (const n of nodes) {
          const upstreamBad = n.dependsOn.some((d) => {
            const s = expected.get(d) as string;
            return s === 'failed' || s === 'cancelled' || s === 'skipped';
          });
          expected.set(n.id, upstreamBad ? 'skipped' : (outcomes[n.id] as string));
        }
        expect(Object.fromEntries(results.map((r) => [r.id, r.status]))).toEqual(
          Object.fromEntries(expected),
        );
      }),
      { numRuns: 150 },
    );
  });
});
