import type { Clock } from '../time/clock.js';
import type { StackCounters } from '../trace/counters.js';
import type { Tracer } from '../trace/events.js';
import type { Random } from '../util/random.js';
import type { StackSecret } from '../util/stack-secret.js';

/** What every layer of one stack shares: its name, time, randomness, tracing and counters. */
export interface StackContext {
  readonly name: string;
  readonly clock: Clock;
  readonly tracer: Tracer;
  readonly counters: StackCounters;
  /** The stack's seeded randomness: for choices nobody needs to keep secret. */
  readonly random: Random;
  /** Keys every number an outsider must not predict (IP IDs, ports, ISNs, cookies): see StackSecret. */
  readonly secret: StackSecret;
  /** Counts the drop under `layer:reason` and emits a 'drop' trace event. Never throws. */
  drop(layer: string, reason: string): void;
  /** Emits a 'note' trace event when tracing is on. */
  note(text: string): void;
}
