import { readFileSync } from 'node:fs';

/** The parts of the workflow's event payload site-deploy reads. */
export interface EventPayload {
  pull_request?: { number: number; head?: { sha?: string }; base?: { sha?: string; ref?: string } };
  merge_group?: { base_sha?: string; head_sha?: string };
  /** push: the commit the branch pointed at before. */
  before?: string;
}

/** A field of a parsed JSON object: an object, a string or a number, else undefined. */
const objectAt = (v: unknown, k: string): object | undefined => {
  const x: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
  return typeof x === 'object' && x !== null ? x : undefined;
};
const stringAt = (v: unknown, k: string): string | undefined => {
  const x: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
  return typeof x === 'string' ? x : undefined;
};
const numberAt = (v: unknown, k: string): number | undefined => {
  const x: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
  return typeof x === 'number' ? x : undefined;
};

/** The parts of a parsed payload site-deploy reads, each only when it has the right type. */
function eventPayload(doc: unknown): EventPayload {
  const out: EventPayload = {};
  const pr = objectAt(doc, 'pull_request');
  const number = numberAt(pr, 'number');
  if (pr && number !== undefined) {
    const head = objectAt(pr, 'head');
    const base = objectAt(pr, 'base');
    out.pull_request = {
      number,
      ...(head ? { head: { sha: stringAt(head, 'sha') } } : {}),
      ...(base ? { base: { sha: stringAt(base, 'sha'), ref: stringAt(base, 'ref') } } : {}),
    };
  }
  const mg = objectAt(doc, 'merge_group');
  if (mg) out.merge_group = { base_sha: stringAt(mg, 'base_sha'), head_sha: stringAt(mg, 'head_sha') };
  const before = stringAt(doc, 'before');
  if (before !== undefined) out.before = before;
  return out;
}

/** The event payload (GITHUB_EVENT_PATH), or {} when there is none or it does not parse. */
export function readEvent(path = process.env.GITHUB_EVENT_PATH): EventPayload {
  if (!path) return {};
  try {
    return eventPayload(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return {};
  }
}

/**
 * What `matrix` compares against when the `changed-from` input is empty: on a pull request its
 * base, in a merge queue the queue's base, on a push the commit before it; otherwise nothing (every
 * site × environment — a dispatch, a schedule, or the first push of a branch).
 */
export function defaultChangedFrom(eventName: string | undefined, event: EventPayload): string | undefined {
  if ((eventName === 'pull_request' || eventName === 'pull_request_target') && event.pull_request?.base?.sha)
    return event.pull_request.base.sha;
  if (eventName === 'merge_group' && event.merge_group?.base_sha) return event.merge_group.base_sha;
  if (eventName === 'push' && event.before && !/^0+$/.test(event.before)) return event.before;
  return undefined;
}
