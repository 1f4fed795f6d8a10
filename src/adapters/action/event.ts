import { readFileSync } from 'node:fs';

/** The parts of the workflow's event payload site-deploy reads. */
export interface EventPayload {
  pull_request?: { number: number; head?: { sha?: string }; base?: { sha?: string; ref?: string } };
  merge_group?: { base_sha?: string; head_sha?: string };
  /** push: the commit the branch pointed at before. */
  before?: string;
}

/** The event payload (GITHUB_EVENT_PATH), or {} when there is none or it does not parse. */
export function readEvent(path = process.env.GITHUB_EVENT_PATH): EventPayload {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload;
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
