import { describe, expect, test } from '@jest/globals';
import { EVIDENCE_SCHEMA } from '../src/core/evidence/schema.js';
import {
  checkConclusion,
  deploymentState,
  EVIDENCE_STATUSES,
  NODE_STATUSES,
  previousApplyStatus,
  RUN_STATUSES,
} from '../src/core/status.js';

describe('the status vocabulary', () => {
  test('the evidence schema allows exactly the run and module statuses', () => {
    const props = EVIDENCE_SCHEMA.properties;
    expect([...props.status.enum].sort()).toEqual([...EVIDENCE_STATUSES].sort());
    expect([...props.modules.items.properties.status.enum].sort()).toEqual([...NODE_STATUSES].sort());
  });

  test.each([
    ['succeeded', 'success', 'success'],
    ['no-op', 'success', 'success'],
    ['failed', 'failure', 'failure'],
    ['cancelled', 'cancelled', 'error'],
  ] as const)('a run that %s: check run %s, deployment %s', (status, conclusion, state) => {
    expect(checkConclusion(status)).toBe(conclusion);
    expect(deploymentState(status)).toBe(state);
  });

  test('every run status has its GitHub words', () => {
    for (const s of RUN_STATUSES) {
      expect(checkConclusion(s)).toMatch(/^(success|failure|cancelled)$/);
      expect(deploymentState(s)).toMatch(/^(success|failure|error)$/);
    }
  });

  test.each([
    [['success'], 'succeeded'],
    [['failure', 'in_progress'], 'failed'],
    [['error'], 'error'],
    [['in_progress'], 'in-progress'],
    [['queued'], 'pending'],
    [['pending'], 'pending'],
    [[], 'pending'],
    [['something-new'], 'pending'],
    [['inactive', 'success', 'in_progress'], 'succeeded'],
    [['inactive', 'in_progress'], 'inactive'],
  ])('deployment statuses %j (newest first) read back as %s', (states, status) => {
    expect(previousApplyStatus(states)).toBe(status);
  });
});
