import { describe, expect, it } from 'vitest';
import {
  assertTransition,
  canTransition,
  InvalidTransitionError,
  TASK_STATUSES,
  TRANSITIONS,
  transitionTableMarkdown,
  type TransitionName,
} from '@tasklock/core';

const EXPECTED: Record<TransitionName, string[]> = {
  enqueue: [],
  claim: ['pending'],
  heartbeat: ['running'],
  complete: ['running'],
  fail: ['running'],
  reclaim: ['running'],
  release: ['running'],
  cancel: ['pending', 'running'],
  retry: ['failed', 'cancelled'],
  purge: ['succeeded', 'failed', 'cancelled'],
};

describe('task state machine table', () => {
  it('allows exactly the documented moves from every status', () => {
    for (const transition of Object.keys(TRANSITIONS) as TransitionName[]) {
      for (const status of TASK_STATUSES) {
        const allowed = EXPECTED[transition].includes(status);
        expect(canTransition(transition, status), `${transition} from ${status}`).toBe(allowed);
        if (allowed) expect(() => assertTransition(7, transition, status)).not.toThrow();
        else {
          const error = (() => {
            try {
              assertTransition(7, transition, status);
            } catch (caught) {
              return caught;
            }
            return null;
          })();
          expect(error).toBeInstanceOf(InvalidTransitionError);
          expect(error).toMatchObject({ code: 'invalid-transition', taskId: 7 });
        }
      }
    }
    expect(canTransition('enqueue', null)).toBe(true);
  });

  it('renders the README table from the one source', () => {
    const table = transitionTableMarkdown();
    for (const name of Object.keys(TRANSITIONS)) expect(table).toContain(`| ${name} |`);
    expect(table.split('\n')).toHaveLength(Object.keys(TRANSITIONS).length + 2);
  });
});
