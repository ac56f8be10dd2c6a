import type { TimeWaitFields } from '../../src/tcp/time-wait.js';

/** A TIME-WAIT record's fields for table tests: the 4-tuple given, plain values for the rest. */
export function timeWaitFields(
  fields: Pick<TimeWaitFields, 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'> &
    Partial<TimeWaitFields>,
): TimeWaitFields {
  return {
    sndNxt: 1,
    rcvNxt: 2,
    rcvWnd: 65535,
    windowField: 65535,
    maxSndWnd: 65535,
    tsEnabled: false,
    tsRecent: 0,
    tsRecentAt: 0,
    tsOffset: 0,
    lastInvalidAnswerTime: 0,
    mslMs: 30_000,
    invalidRateLimitMs: 500,
    ...fields,
  };
}
