/** Builders of congestion-control events for unit tests: every field with a neutral default. */
import type { AckEvent, DuplicateAckEvent } from '../../../src/tcp/congestion/congestion-control.js';

export function ackEvent(e: Partial<AckEvent> & { bytesAcked: number }): AckEvent {
  return {
    delivered: e.bytesAcked,
    flightSizeBefore: 0,
    pipe: 0,
    ack: 0,
    sndMax: 0,
    sentTotal: 0,
    cwndLimited: true,
    abcLimit: 2 * 1000,
    rttMs: -1,
    ece: false,
    rate: undefined,
    now: 0,
    ...e,
  };
}

export function dupAckEvent(e: Partial<DuplicateAckEvent> & { count: number }): DuplicateAckEvent {
  return {
    flightSize: 10_000,
    pipe: 10_000,
    sndUna: 0,
    sndMax: 10_000,
    sentTotal: 10_000,
    now: 0,
    ...e,
  };
}
