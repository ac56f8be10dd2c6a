/**
 * A two-port Ethernet bridge that applies the simulator's impairments to every frame it forwards: what
 * Linux's netem does on a qdisc, done in user space between two devices. Each direction is an
 * {@link ImpairedPath} (seeded loss, bursty loss, a rate-limited bottleneck with a drop-tail queue,
 * propagation delay, jitter, reordering, duplication, corruption), driven by the clock the bridge is given:
 * a RealClock when the ports are real devices (`tcpts bridge` between two TAP interfaces), a VirtualClock
 * in tests.
 *
 *   const bridge = new FrameBridge(tapA, tapB, { clock: new RealClock(), seed: 1,
 *     aToB: { delayMs: 25, rateBitsPerSecond: 100e6, queueLimitBytes: 625_000, loss: 0.001 },
 *     bToA: { delayMs: 25, rateBitsPerSecond: 100e6, queueLimitBytes: 625_000 } });
 *
 * The bridge forwards every frame whatever its addresses (a hub of two ports: there is nothing to learn
 * with one port on each side), so ARP, IPv4 and IPv6 cross it unchanged.
 *
 * Timing on a real clock: the rate limiter computes each frame's departure from the bottleneck's own
 * schedule (the time the previous frame's last bit left), never from when a timer happened to fire, so
 * late wake-ups do not lower the rate; the delivered rate stays the configured one as long as the host
 * keeps up on average. Frames are delivered in order from one queue per direction (`orderedDelivery`), so
 * timer slack can delay them but never reorder them. All frames due by the time a wake-up happens are delivered in that wake-up (the
 * clock runs every due timer in one pass, in deadline order), so 100 Mbit/s of 1514-byte frames (8,256 a
 * second) costs at most one host timer per millisecond. `lateness` measures how much later than their due
 * time frames actually reached the far device.
 */
import type { Clock } from '../time/clock.js';
import { NO_TRACE, type Tracer } from '../trace/events.js';
import { Random, type Seed } from '../util/random.js';
import type { NetworkDevice } from './device.js';
import {
  type DeliveryLateness,
  ImpairedPath,
  type LinkImpairments,
  validateImpairments,
} from './impairments.js';

export interface FrameBridgeOptions {
  clock: Clock;
  /** Impairments on frames from port a to port b. Default none. */
  aToB?: LinkImpairments;
  /** Impairments on frames from port b to port a. Default none. */
  bToA?: LinkImpairments;
  /** Seed of the fault pattern (each direction forks its own stream). Default 0. */
  seed?: Seed;
  /** Bridge name in trace events. Default 'a.name<->b.name'. */
  name?: string;
  tracer?: Tracer;
}

export class FrameBridge {
  /** Frames from port a towards port b; its counters say what happened to them. */
  readonly aToB: ImpairedPath;
  /** Frames from port b towards port a. */
  readonly bToA: ImpairedPath;
  private frameIds = 0;
  private closed = false;

  constructor(
    readonly a: NetworkDevice,
    readonly b: NetworkDevice,
    options: FrameBridgeOptions,
  ) {
    validateImpairments(options.aToB ?? {});
    validateImpairments(options.bToA ?? {});
    const random = new Random(options.seed ?? 0).fork('bridge');
    const tracer = options.tracer ?? NO_TRACE;
    const linkName = options.name ?? `${a.name}<->${b.name}`;
    const nextFrameId = (): number => ++this.frameIds;
    const path = (from: NetworkDevice, to: NetworkDevice, direction: string, impairments?: LinkImpairments) =>
      new ImpairedPath(
        options.clock,
        random.fork(direction),
        tracer,
        {
          linkName,
          from: from.name,
          to: to.name,
          get senderMtu() {
            return from.mtu;
          },
          get receiverMtu() {
            return to.mtu;
          },
          nextFrameId,
          orderedDelivery: true,
          deliver: (frame) => {
            if (this.closed) return false;
            to.send(frame);
            return true;
          },
        },
        impairments ?? {},
      );
    this.aToB = path(a, b, 'a->b', options.aToB);
    this.bToA = path(b, a, 'b->a', options.bToA);
    a.setReceiver((frame) => this.aToB.send(frame));
    b.setReceiver((frame) => this.bToA.send(frame));
  }

  /** Replaces the impairments of one direction or both; frames already on their way keep their fate. */
  setImpairments(direction: 'a->b' | 'b->a' | 'both', impairments: LinkImpairments): void {
    validateImpairments(impairments);
    if (direction !== 'b->a') this.aToB.setImpairments(impairments);
    if (direction !== 'a->b') this.bToA.setImpairments(impairments);
  }

  /** Lateness of delivered frames in one direction. */
  lateness(direction: 'a->b' | 'b->a'): Readonly<DeliveryLateness> {
    return (direction === 'a->b' ? this.aToB : this.bToA).lateness;
  }

  /** Stops forwarding: frames on their way are lost. The ports stay open (their owner closes them). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.aToB.close();
    this.bToA.close();
  }
}
