/**
 * A simulated network in a few lines: hosts and routers (Stacks) joined by point-to-point links or
 * switched LANs, all on one VirtualClock, one seed and one trace.
 *
 *   const net = new SimulatedNetwork({ seed: 1 });
 *   const a = net.host('a', '10.0.1.2/24', { gateway: '10.0.1.1' });
 *   const b = net.host('b', '10.0.2.2/24', { gateway: '10.0.2.1' });
 *   const r = net.router('r');
 *   net.link(a, [r, '10.0.1.1/24'], { delayMs: 5 });
 *   net.link([r, '10.0.2.1/24'], b, { delayMs: 10, impairments: { loss: 0.1 } });
 *   const reply = await net.ping(a, b);   // runs virtual time until the reply (or the timeout)
 *
 * A host's address given to `host()` is used for its first link; every other link end names its address
 * with the `[stack, 'a.b.c.d/n']` form. Device names are '<host>-eth<n>', MACs 02:00:00:00:xx:xx in
 * creation order, so runs with the same seed are identical down to the byte.
 */
import type { AddressInput, PrefixInput } from '../ip/address-prefix.js';
import { toAddress } from '../ip/address-prefix.js';
import { errnoError } from '../ip/errors.js';
import type { PingOptions, PingReply } from '../ip/icmp-layer.js';
import type { IpInterface } from '../ip/ip-interface.js';
import type { NetworkDevice } from '../link/device.js';
import { EthernetSwitch } from '../link/ethernet-switch.js';
import type { LinkImpairments } from '../link/impairments.js';
import { type LinkCaptureOptions, MemoryLink } from '../link/memory-link.js';
import { MemoryPcapSink, PcapWriter } from '../pcap/pcap-writer.js';
import { Stack, type StackOptions } from '../stack.js';
import { VirtualClock } from '../time/virtual-clock.js';
import { NO_TRACE, TraceRecorder, type Tracer } from '../trace/events.js';
import { Random, type Seed } from '../util/random.js';
import { watchSettlement } from '../util/settlement.js';
import type { MacAddress } from '../wire/address.js';

/** Stack settings a simulated host may override (name, clock, tracer and randomness come from the network). */
export type SimulatedStackOptions = Omit<StackOptions, 'name' | 'clock' | 'tracer' | 'random' | 'seed'>;

export interface SimulatedNetworkOptions {
  /** Seed for every link's impairments and every stack's randomness. Default 1. */
  seed?: Seed;
  /** Record every trace event in `net.trace`. Default true. */
  trace?: boolean;
  /** Virtual time at the start, ms. Default 0. */
  startTime?: number;
  /** Let link ends offload checksums (only while a link has no corruption). Default false. */
  checksumOffload?: boolean;
  /**
   * Let link ends offer TCP segmentation and checksum offload (MemoryLinkOptions.offload), so that links
   * without per-frame impairments carry 64 KiB super-segments as a Linux veth does. Default false: the
   * simulator models cables, and its traces and pictures show the frames a wire carries. LANs (switches)
   * always carry wire-size frames.
   */
  offload?: boolean;
  /**
   * Receive coalescing (GRO) at both ends of every link (MemoryLinkOptions.gro), as Linux does on every
   * NIC by default: segments of a flow that arrive together reach the stack as one packet. Default false:
   * the stack sees every frame, as the pictures of a conversation show them.
   */
  gro?: boolean;
  /**
   * With `offload` off, let link ends offer segmentation and checksum offload all the same and do both
   * in software before the path (MemoryLinkOptions.gso), as Linux's GSO does in front of a NIC without
   * offloads: stacks build 64 KiB super-segments, links, traces and captures see the wire-size frames a
   * stack without it sends. Default false (Linux's default is on): every segment as TCP sent it.
   */
  gso?: boolean;
  /** Defaults for every stack created by `host` and `router`. */
  stack?: SimulatedStackOptions;
}

export interface HostOptions extends SimulatedStackOptions {
  /** Default gateway, used with the host's address on its first link. */
  gateway?: AddressInput;
  /** MTU of the host's first interface. */
  mtu?: number;
}

/** One end of a link: a stack, a stack with the address for this end, or the full form. */
export type LinkEnd =
  | Stack
  | [Stack, PrefixInput]
  | { stack: Stack; address?: PrefixInput; gateway?: AddressInput; mtu?: number };

export interface LinkOptions {
  /** Link name in traces. Default '<a-device><-><b-device>'. */
  name?: string;
  /** One-way propagation delay in both directions, ms (merged into `impairments`). */
  delayMs?: number;
  /** Impairments for both directions. */
  impairments?: LinkImpairments;
  /** Impairments from the first end to the second only (replaces `impairments` for that direction). */
  aToB?: LinkImpairments;
  /** Impairments from the second end to the first only. */
  bToA?: LinkImpairments;
  /** MTU of both devices. Default 1500. */
  mtu?: number;
}

export interface LanOptions {
  /** One-way delay on every cable (host to switch), ms. */
  delayMs?: number;
  /** Impairments on every cable, both directions. */
  impairments?: LinkImpairments;
  mtu?: number;
}

/** A point-to-point link between two stacks. */
export interface SimulatedLink {
  readonly name: string;
  readonly link: MemoryLink;
  readonly a: { readonly stack: Stack; readonly interface: IpInterface };
  readonly b: { readonly stack: Stack; readonly interface: IpInterface };
}

/** A LAN: a learning switch with one cable per member. */
export interface SimulatedLan {
  readonly name: string;
  readonly switch: EthernetSwitch;
  readonly members: ReadonlyArray<{
    readonly stack: Stack;
    readonly interface: IpInterface;
    readonly cable: MemoryLink;
  }>;
}

/** A capture in memory; `bytes()` is a complete pcap file at any moment. */
export interface SimulatedCapture {
  readonly writer: PcapWriter;
  /** The capture so far, as a pcap file. */
  bytes(): Uint8Array;
  /** Stops recording. */
  stop(): void;
}

interface PendingHostConfig {
  address: PrefixInput;
  gateway?: AddressInput;
  mtu?: number;
}

export class SimulatedNetwork {
  readonly clock: VirtualClock;
  readonly random: Random;
  /** Every event of every stack and link, when tracing is on (the default). */
  readonly trace: TraceRecorder;
  readonly tracer: Tracer;
  readonly stacks = new Map<string, Stack>();
  readonly links: SimulatedLink[] = [];
  readonly lans: SimulatedLan[] = [];
  private readonly options: SimulatedNetworkOptions;
  private readonly firstAddress = new Map<Stack, PendingHostConfig>();
  private readonly interfaceCount = new Map<Stack, number>();
  private nextMac = 1;

  constructor(options: SimulatedNetworkOptions = {}) {
    this.options = options;
    this.clock = new VirtualClock(options.startTime ?? 0);
    this.random = new Random(options.seed ?? 1);
    this.trace = new TraceRecorder();
    this.tracer = options.trace === false ? NO_TRACE : this.trace;
  }

  /** A host (no forwarding). `address` ('10.0.1.2/24') goes on its first link. */
  host(name: string, address?: PrefixInput, options: HostOptions = {}): Stack {
    const { gateway, mtu, ...stackOptions } = options;
    const stack = this.createStack(name, stackOptions);
    if (address !== undefined) this.firstAddress.set(stack, { address, gateway, mtu });
    else if (gateway !== undefined) throw errnoError('EINVAL', `host ${name}: a gateway needs an address`);
    return stack;
  }

  /** A router: a stack with forwarding on. Its interfaces get their addresses from the links. */
  router(name: string, options: SimulatedStackOptions = {}): Stack {
    const stack = this.createStack(name, options);
    stack.forwarding = true;
    return stack;
  }

  /** The stack called `name`. */
  stack(name: string): Stack {
    const stack = this.stacks.get(name);
    if (!stack) throw errnoError('EINVAL', `no stack named ${name}`);
    return stack;
  }

  /** Joins two stacks with a cable; each end gets a new interface. */
  link(first: LinkEnd, second: LinkEnd, options: LinkOptions = {}): SimulatedLink {
    const a = this.resolveEnd(first);
    const b = this.resolveEnd(second);
    const aName = this.deviceName(a.stack);
    const bName = this.deviceName(b.stack);
    const impairments = withDelay(options.impairments, options.delayMs);
    const link = new MemoryLink({
      clock: this.clock,
      name: options.name ?? `${aName}<->${bName}`,
      random: this.random,
      tracer: this.tracer,
      a: { name: aName, mac: this.allocateMac(), mtu: options.mtu },
      b: { name: bName, mac: this.allocateMac(), mtu: options.mtu },
      impairments,
      aToB: options.aToB && withDelay(options.aToB, options.delayMs),
      bToA: options.bToA && withDelay(options.bToA, options.delayMs),
      checksumOffload: this.options.checksumOffload,
      offload: this.options.offload === true,
      gro: this.options.gro === true,
      gso: this.options.gso === true,
    });
    const aInterface = this.configure(a, link.a);
    const bInterface = this.configure(b, link.b);
    const simulated: SimulatedLink = {
      name: link.name,
      link,
      a: { stack: a.stack, interface: aInterface },
      b: { stack: b.stack, interface: bInterface },
    };
    this.links.push(simulated);
    return simulated;
  }

  /** A switched LAN (learning bridge) joining every member; each gets a new interface. */
  lan(name: string, members: readonly LinkEnd[], options: LanOptions = {}): SimulatedLan {
    const ethernetSwitch = new EthernetSwitch({
      clock: this.clock,
      name,
      random: this.random,
      tracer: this.tracer,
      checksumOffload: this.options.checksumOffload,
    });
    const impairments = withDelay(options.impairments, options.delayMs);
    const joined = members.map((member) => {
      const end = this.resolveEnd(member);
      const port = ethernetSwitch.addPort({
        name: this.deviceName(end.stack),
        mac: this.allocateMac(),
        mtu: options.mtu,
        impairments,
      });
      return { stack: end.stack, interface: this.configure(end, port.device), cable: port.link };
    });
    const lan: SimulatedLan = { name, switch: ethernetSwitch, members: joined };
    this.lans.push(lan);
    return lan;
  }

  /**
   * Records the frames entering `link` (both directions by default) into an in-memory pcap stamped with
   * virtual time. To stream to a file instead (Node), give the link a writer of your own:
   * `simulatedLink.link.capture(new PcapWriter(new PcapFileSink(path)))`.
   */
  capture(link: SimulatedLink | MemoryLink, options?: LinkCaptureOptions): SimulatedCapture {
    const sink = new MemoryPcapSink();
    const writer = new PcapWriter(sink);
    const memoryLink = link instanceof MemoryLink ? link : link.link;
    const stop = memoryLink.capture(writer, options);
    return { writer, bytes: () => sink.bytes(), stop };
  }

  /** Runs virtual time forward by `ms`, firing every timer due on the way. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  /** Runs until no timer is pending (or `maxDurationMs` of virtual time passed). */
  runUntilIdle(maxDurationMs = 3_600_000): void {
    this.clock.runUntilIdle({ maxDuration: maxDurationMs });
  }

  /**
   * Runs virtual time until `promise` settles and returns its outcome. Fails with ETIMEDOUT when the
   * network goes idle, or `maxDurationMs` of virtual time passes, first.
   */
  async settle<T>(promise: Promise<T>, maxDurationMs = 3_600_000): Promise<T> {
    const watched = watchSettlement(promise);
    const deadline = this.clock.now() + maxDurationMs;
    await drainMicrotasks();
    while (!watched.settled) {
      const next = this.clock.nextTimerTime();
      if (next === undefined || next > deadline) {
        throw errnoError(
          'ETIMEDOUT',
          `the simulation went idle at ${this.clock.now()} ms before the promise settled`,
        );
      }
      this.clock.step();
      await drainMicrotasks();
    }
    return watched.outcome;
  }

  /** Pings `to` (a stack's first address, or any address) from `from`, running virtual time meanwhile. */
  ping(from: Stack, to: Stack | AddressInput, options?: PingOptions): Promise<PingReply> {
    const target = to instanceof Stack ? to.address : toAddress(to);
    if (target === undefined) return Promise.reject(errnoError('EINVAL', 'the target stack has no address'));
    return this.settle(from.ping(target, options));
  }

  private createStack(name: string, options: SimulatedStackOptions): Stack {
    if (this.stacks.has(name)) throw errnoError('EEXIST', `a stack named ${name} already exists`);
    const stack = new Stack({
      ...this.options.stack,
      ...options,
      name,
      clock: this.clock,
      tracer: this.tracer,
      random: this.random,
      // A simulation repeats exactly: it injects each stack's secret from its seed, knowingly (a real
      // stack draws its own from crypto.getRandomValues).
      secret: options.secret ?? this.random.fork(`secret/${name}`).bytes(32),
    });
    this.stacks.set(name, stack);
    this.interfaceCount.set(stack, 0);
    return stack;
  }

  private resolveEnd(end: LinkEnd): {
    stack: Stack;
    address: PrefixInput;
    gateway?: AddressInput;
    mtu?: number;
  } {
    let stack: Stack;
    let config: Partial<PendingHostConfig>;
    if (end instanceof Stack) {
      stack = end;
      config = {};
    } else if (Array.isArray(end)) {
      stack = end[0];
      config = { address: end[1] };
    } else {
      stack = end.stack;
      config = { address: end.address, gateway: end.gateway, mtu: end.mtu };
    }
    if (!this.interfaceCount.has(stack))
      throw errnoError('EINVAL', `${stack.name} is not part of this network`);
    if (config.address === undefined) {
      const pending = this.firstAddress.get(stack);
      if (pending === undefined) {
        throw errnoError('EINVAL', `no address for ${stack.name} on this link: use [stack, 'a.b.c.d/n']`);
      }
      this.firstAddress.delete(stack);
      config = { ...pending, ...definedOnly(config) };
    }
    return { stack, address: config.address!, gateway: config.gateway, mtu: config.mtu };
  }

  private configure(
    end: { stack: Stack; address: PrefixInput; gateway?: AddressInput; mtu?: number },
    device: NetworkDevice,
  ): IpInterface {
    if (typeof end.address === 'string' && end.address.includes(':')) {
      // An IPv6 end ('2001:db8::1/64'): IPv6 only on this device, so the end has no IPv4 interface.
      end.stack.addIpv6Interface(device, {
        addresses: [end.address],
        gateway: end.gateway === undefined ? undefined : String(end.gateway),
        mtu: end.mtu,
      });
      return ipv6OnlyEnd(end.stack.name);
    }
    return end.stack.addInterface(device, { address: end.address, gateway: end.gateway, mtu: end.mtu });
  }

  private deviceName(stack: Stack): string {
    const n = this.interfaceCount.get(stack) ?? 0;
    this.interfaceCount.set(stack, n + 1);
    return `${stack.name}-eth${n}`;
  }

  private allocateMac(): MacAddress {
    // Locally administered, unicast (RFC 7042 §2.1): 02:00:00:00:xx:xx.
    return 0x02_00_00_00_00_00 + this.nextMac++;
  }
}

/** Stands in for the IPv4 interface of an IPv6-only link end: any use of it says why it is missing. */
function ipv6OnlyEnd(name: string): IpInterface {
  return new Proxy({} as IpInterface, {
    get(_target, property) {
      throw errnoError(
        'EINVAL',
        `${name}: this link end runs IPv6 only (no IPv4 interface; see stack.ipv6, ${String(property)})`,
      );
    },
  });
}

function withDelay(impairments: LinkImpairments | undefined, delayMs: number | undefined): LinkImpairments {
  if (delayMs === undefined) return impairments ?? {};
  return { delayMs, ...impairments };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}
