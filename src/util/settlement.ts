/**
 * Lets a loop that drives virtual time ask, between steps, whether a promise has settled yet.
 */
export interface Settlement<T> {
  /** True once the promise has resolved or rejected. */
  readonly settled: boolean;
  /** The promise's outcome. An early rejection is marked as handled: the caller observes it here. */
  readonly outcome: Promise<T>;
}

export function watchSettlement<T>(promise: Promise<T>): Settlement<T> {
  const settlement = { settled: false, outcome: promise };
  settlement.outcome = promise.then(
    (value) => {
      settlement.settled = true;
      return value;
    },
    (error: unknown) => {
      settlement.settled = true;
      throw error;
    },
  );
  settlement.outcome.catch(() => {});
  return settlement;
}
