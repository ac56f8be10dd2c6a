/**
 * The network every tcpts story and custom scenario runs on: two hosts, `client` (10.0.0.1) and `server`
 * (10.0.0.2), joined by one simulated cable, on one virtual clock and one seed. The cable's ends are
 * wrapped for scripted losses, and everything that enters the cable is captured to an in-memory pcap.
 *
 * Browser-safe: nothing here touches Node.
 */
import { tcpLayerOf } from '../../api/tcp-layer-of-stack.js';
import type { LinkImpairments } from '../../link/impairments.js';
import { MemoryLink } from '../../link/memory-link.js';
import { MemoryPcapSink, PcapWriter } from '../../pcap/pcap-writer.js';
import type { Stack } from '../../stack.js';
import type { TcpConfig } from '../../tcp/config.js';
import type { TcpLayer } from '../../tcp/tcp-layer.js';
import type { VirtualClock } from '../../time/virtual-clock.js';
import type { Seed } from '../../util/random.js';
import type { Conversation } from '../../viz/conversation.js';
import { type Ipv4Address, parseIpv4 } from '../../wire/address.js';
import { SimulatedNetwork } from '../network.js';
import { ScriptedLoss } from './scripted-loss.js';
import { TraceFeed } from './trace-feed.js';

export const CLIENT = 'client';
export const SERVER = 'server';
export const CLIENT_ADDRESS = '10.0.0.1';
export const SERVER_ADDRESS = '10.0.0.2';

export interface TwoHostOptions {
  /** Seed for every random choice (ISNs, ports, link impairments). Default 1. */
  seed?: Seed;
  /** One-way propagation delay of the cable, ms. Default 10. */
  delayMs?: number;
  /** MTU of both ends (the largest IP packet): the MSS is this minus 40. Default 1500. */
  mtu?: number;
  /** Impairments in both directions (delay comes from `delayMs` unless given here). */
  impairments?: LinkImpairments;
  /** Impairments from client to server only (replaces `impairments` for that direction). */
  clientToServer?: LinkImpairments;
  /** Impairments from server to client only. */
  serverToClient?: LinkImpairments;
  /**
   * TCP settings of both hosts, over tcpts's defaults (the modern set: window scaling, timestamps, SACK,
   * RACK-TLP, CUBIC, IW10).
   */
  tcp?: Partial<TcpConfig>;
}

/**
 * The TCP the seed describes: the plain RFC 9293 header, whose 16-bit window field is the window itself,
 * a 64 KiB buffer, Reno with RFC 5681's initial window, and loss recovery by duplicate ACKs. Window
 * scaling, timestamps (RFC 7323), SACK (RFC 2018), RACK-TLP (RFC 8985) and buffer autotuning, on by
 * default in tcpts as in Linux, would put options on every segment, grow the window and recover
 * differently — a later chapter of TCP's history than the one these stories tell. So would one ACK per
 * burst: here every second segment is acknowledged as it arrives (RFC 9293 §3.8.6.3).
 */
export const CLASSIC_TCP: Partial<TcpConfig> = {
  windowScaling: false,
  timestamps: false,
  sack: false,
  rack: false,
  receiveBufferSize: 65_535,
  receiveBufferAutotuning: false,
  sendBufferAutotuning: false,
  congestionControl: 'reno',
  initialWindowSegments: undefined,
  ackPerBurst: false,
};

export class TwoHostNetwork {
  readonly net: SimulatedNetwork;
  readonly client: Stack;
  readonly server: Stack;
  readonly link: MemoryLink;
  /** Losses chosen by a script (see ScriptedLoss). */
  readonly loss = new ScriptedLoss();
  readonly clientAddress: Ipv4Address = parseIpv4(CLIENT_ADDRESS)!;
  readonly serverAddress: Ipv4Address = parseIpv4(SERVER_ADDRESS)!;
  private readonly pcapSink = new MemoryPcapSink();
  private readonly pcapWriter = new PcapWriter(this.pcapSink);
  private readonly feed: TraceFeed;

  constructor(options: TwoHostOptions = {}) {
    const mtu = options.mtu ?? 1500;
    const delayMs = options.delayMs ?? 10;
    this.net = new SimulatedNetwork({ seed: options.seed ?? 1 });
    const tcp = options.tcp ?? {};
    this.client = this.net.host(CLIENT, undefined, { tcp });
    this.server = this.net.host(SERVER, undefined, { tcp });
    const withDelay = (i: LinkImpairments | undefined) => (i ? { delayMs, ...i } : undefined);
    this.link = new MemoryLink({
      clock: this.net.clock,
      name: `${CLIENT}-eth0<->${SERVER}-eth0`,
      random: this.net.random,
      tracer: this.net.tracer,
      // Locally administered unicast MACs, as SimulatedNetwork assigns them (RFC 7042 §2.1).
      a: { name: `${CLIENT}-eth0`, mac: 0x02_00_00_00_00_01, mtu },
      b: { name: `${SERVER}-eth0`, mac: 0x02_00_00_00_00_02, mtu },
      impairments: { delayMs, ...options.impairments },
      aToB: withDelay(options.clientToServer),
      bToA: withDelay(options.serverToClient),
      // The scenario shows the segments a wire carries, each MSS-sized (no super-segments).
      offload: false,
    });
    const now = () => this.net.clock.now();
    this.client.addInterface(this.loss.wrap(this.link, 'a', CLIENT, now), {
      address: `${CLIENT_ADDRESS}/24`,
    });
    this.server.addInterface(this.loss.wrap(this.link, 'b', SERVER, now), {
      address: `${SERVER_ADDRESS}/24`,
    });
    this.link.capture(this.pcapWriter);
    this.feed = new TraceFeed(this.net.trace.events, { hosts: [CLIENT, SERVER] });
  }

  get clock(): VirtualClock {
    return this.net.clock;
  }

  now(): number {
    return this.net.clock.now();
  }

  /** Runs virtual time forward by `ms`. */
  run(ms: number): void {
    this.net.clock.advance(ms);
  }

  /** Runs virtual time up to the absolute time `t` (no-op when already there). */
  runUntil(t: number): void {
    if (t > this.net.clock.now()) this.net.clock.runUntil(t);
  }

  get clientTcp(): TcpLayer {
    return tcpLayerOf(this.client);
  }

  get serverTcp(): TcpLayer {
    return tcpLayerOf(this.server);
  }

  /** The capture so far: a complete pcap file (Ethernet, nanosecond timestamps from virtual time 0). */
  pcap(): Uint8Array {
    return this.pcapSink.bytes();
  }

  /** A snapshot of the conversation so far (cheap to call repeatedly: events are decoded once). */
  conversation(): Conversation {
    return this.feed.conversation();
  }

  /** Each host's stack counters and TCP counters (named like `nstat`: TcpActiveOpens), for reports. */
  counters(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const stack of [this.client, this.server]) {
      const table = stack.counters.snapshot();
      for (const [name, value] of Object.entries(tcpLayerOf(stack).counters)) {
        table[`Tcp${name[0]!.toUpperCase()}${name.slice(1)}`] = value;
      }
      out[stack.name] = table;
    }
    return out;
  }
}
