import type { Decider, DomainEvent } from '../../src/commands/decider';

/**
 * Given/when/then for deciders:
 *   spec(decider).given([...events]).when(command).then([...events])
 *   spec(decider).given([...]).when(command).thenThrows(ErrorClass | { code })
 */
export function spec<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: readonly Event[]) {
      const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState);
      return {
        when(command: Command) {
          const run = (): Event[] => decider.decide(command, state);
          return {
            then(expected: readonly Event[]): void {
              expect(run()).toEqual(expected);
            },
            thenThrows(expected: (new (...args: never[]) => Error) | Record<string, unknown>): void {
              if (typeof expected === 'function') {
                expect(run).toThrow(expected);
              } else {
                let thrown: unknown;
                try {
                  run();
                } catch (error) {
                  thrown = error;
                }
                expect(thrown).toMatchObject(expected);
              }
            },
          };
        },
      };
    },
  };
}
