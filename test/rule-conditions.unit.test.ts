import type { AlertCondition } from '../src/commands/alert-rules/alert-rule.decider';
import { evaluateReading, freshState, type EvaluatedRule, type Transition } from '../src/ingest/alerts/rule-conditions';

const MIN = 60_000;
const rule = (conditions: AlertCondition[], extra: Partial<EvaluatedRule> = {}): EvaluatedRule => ({ operator: 'AND', conditions, forSeconds: 0, hysteresis: 0, ...extra });

/** Feeds readings [minute, value] and lists the transitions. */
function run(r: EvaluatedRule, readings: [number, number][]): Transition[] {
  const state = freshState();
  return readings.map(([minute, value]) => evaluateReading(r, state, minute * MIN, value));
}

describe('rule conditions', () => {
  it('ABOVE raises above the threshold and clears at or below threshold − hysteresis', () => {
    expect(run(rule([{ type: 'ABOVE', threshold: 8 }], { hysteresis: 1 }), [[0, 7], [1, 8], [2, 8.1], [3, 9], [4, 7.5], [5, 7], [6, 9]])).toEqual([
      null, null, 'RAISE', null, null, 'RESOLVE', 'RAISE',
    ]);
  });

  it('BELOW raises below the threshold and clears at or above threshold + hysteresis', () => {
    expect(run(rule([{ type: 'BELOW', threshold: 0 }], { hysteresis: 2 }), [[0, 1], [1, -1], [2, 1], [3, 2]])).toEqual([null, 'RAISE', null, 'RESOLVE']);
  });

  it('OUTSIDE_RANGE raises outside [min, max] and clears inside it shrunk by the hysteresis', () => {
    const r = rule([{ type: 'OUTSIDE_RANGE', min: 10, max: 20 }], { hysteresis: 1 });
    expect(run(r, [[0, 15], [1, 21], [2, 19.5], [3, 19], [4, 9], [5, 10.5], [6, 11]])).toEqual([null, 'RAISE', null, 'RESOLVE', 'RAISE', null, 'RESOLVE']);
  });

  it('RATE_OF_CHANGE compares consecutive readings per minute', () => {
    const r = rule([{ type: 'RATE_OF_CHANGE', perMinute: 5 }]);
    // 0→3 in 1 min (3/min), 3→15 in 2 min (6/min), 15→16 in 1 min (1/min)
    expect(run(r, [[0, 0], [1, 3], [3, 15], [4, 16]])).toEqual([null, null, 'RAISE', 'RESOLVE']);
  });

  it('opens only after the conditions held for forSeconds of reading time, and a break starts the wait again', () => {
    const r = rule([{ type: 'ABOVE', threshold: 8 }], { forSeconds: 120 });
    expect(run(r, [[0, 9], [1, 9], [2, 7], [3, 9], [4, 9], [5, 9]])).toEqual([null, null, null, null, null, 'RAISE']);
  });

  it('AND needs every condition to fire and clears when any clears; OR the other way round', () => {
    const conditions: AlertCondition[] = [{ type: 'ABOVE', threshold: 8 }, { type: 'BELOW', threshold: 10 }];
    expect(run(rule(conditions), [[0, 11], [1, 9], [2, 12]])).toEqual([null, 'RAISE', 'RESOLVE']);
    const either: AlertCondition[] = [{ type: 'ABOVE', threshold: 20 }, { type: 'BELOW', threshold: 0 }];
    expect(run(rule(either, { operator: 'OR' }), [[0, 5], [1, 25], [2, -1], [3, 5]])).toEqual([null, 'RAISE', null, 'RESOLVE']);
  });

  it('ignores a reading not newer than the last one (resends, back-fill)', () => {
    const r = rule([{ type: 'ABOVE', threshold: 8 }]);
    expect(run(r, [[5, 7], [4, 9], [5, 9], [6, 9]])).toEqual([null, null, null, 'RAISE']);
  });
});
