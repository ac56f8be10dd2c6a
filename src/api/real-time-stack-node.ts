/**
 * A stack that runs in real time inside a Node process, the way to run an application over tcpts for
 * real: timers on the host's clock, and a process that lives exactly as long as Node's would.
 *
 *   import { createRealTimeStack } from 'tcpts/node';
 *   const stack = createRealTimeStack();            // loopback (127.0.0.0/8) only
 *   stack.net.createServer((s) => s.pipe(s)).listen(7, '127.0.0.1');
 *
 * Any link can be added as on any stack (`stack.addInterface(device, { address: '10.0.0.2/24' })`, a
 * TAP device from `tcpts/tap`, a MemoryLink to another real-time stack ...).
 *
 * Its RealClock is unref'd: TCP's own timers (retransmission, TIME-WAIT, keepalive) never hold the
 * process, as the kernel's do not hold a Node process. What does hold it is what holds Node's: servers
 * listening, sockets open or connecting, dgram sockets bound — each until it is closed or unref'd (see
 * event-loop-hold.ts).
 */
import { Stack, type StackOptions } from '../stack.js';
import { RealClock } from '../time/real-clock.js';

export interface RealTimeStackOptions extends Omit<StackOptions, 'clock' | 'name'> {
  /** Host name in traces. Default 'tcpts'. */
  name?: string;
  /**
   * The clock, to share one between stacks joined by an in-process link (a MemoryLink runs on one
   * clock). It should be made with `unref: true`. Default: a new unref'd RealClock.
   */
  clock?: RealClock;
}

/** A Stack on an unref'd RealClock, with only its loopback interface until links are added. */
export function createRealTimeStack(options: RealTimeStackOptions = {}): Stack {
  const { clock, name, ...rest } = options;
  return new Stack({ ...rest, name: name ?? 'tcpts', clock: clock ?? new RealClock({ unref: true }) });
}
