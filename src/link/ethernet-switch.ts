/**
 * A transparent learning bridge (IEEE 802.1D behaviour without spanning tree) for simulated LANs: it
 * learns which port each source MAC lives behind, forwards unicast frames to that port only, floods
 * broadcast, multicast and unknown destinations to every other port, and never sends a frame back out of
 * the port it came in on. Learned entries age out after `agingTimeMs` (802.1D's default is 300 s).
 *
 * Each port is a MemoryLink cable whose host-facing end is handed to a stack, so every cable can carry
 * its own impairments in each direction. An existing NetworkDevice (a TAP device, another link's end) can
 * be plugged in directly too.
 */
import type { Clock } from '../time/clock.js';
import { NO_TRACE, type Tracer } from '../trace/events.js';
import { Random, type Seed } from '../util/random.js';
import { isGroupMac, type MacAddress, readMac } from '../wire/address.js';
import type { NetworkDevice } from './device.js';
import type { LinkImpairments } from './impairments.js';
import { MemoryLink } from './memory-link.js';

export interface EthernetSwitchOptions {
  clock: Clock;
  /** Name used in cable names ('<switch>/<port>') and trace events. Default 'switch'. */
  name?: string;
  /** Seed for the cables' impairments when `random` is not given. Default 0. */
  seed?: Seed;
  random?: Random;
  tracer?: Tracer;
  /** How long a learned MAC stays valid without being seen again, ms. Default 300,000 (802.1D). */
  agingTimeMs?: number;
  /** Most MAC entries learned; beyond it new stations are flooded to, as a full switch does. Default 8192. */
  maxMacEntries?: number;
  /** Let cable ends offer checksum offload (see MemoryLinkOptions.checksumOffload). Default false. */
  checksumOffload?: boolean;
}

export interface SwitchPortOptions {
  /** Name of the host-facing device, e.g. 'host1-eth0'. Unique on the switch. */
  name: string;
  /** MAC of the host-facing device. */
  mac: MacAddress;
  /** MTU of the host-facing device and of the switch port. Default 1500. */
  mtu?: number;
  /** Impairments for both directions of the cable. */
  impairments?: LinkImpairments;
  /** Impairments from the host to the switch only (the cable's a->b). */
  hostToSwitch?: LinkImpairments;
  /** Impairments from the switch to the host only (the cable's b->a). */
  switchToHost?: LinkImpairments;
}

export interface SwitchPort {
  /** 1-based port number. */
  readonly number: number;
  readonly name: string;
  /** Unplugs the port: its cable (if any) is closed and entries learned on it are forgotten. */
  remove(): void;
}

export interface CabledSwitchPort extends SwitchPort {
  /** The host-facing end of the cable: give it to a stack. */
  readonly device: NetworkDevice;
  /** The cable: its a end is the host, its b end the switch. Set impairments or capture here. */
  readonly link: MemoryLink;
}

export interface EthernetSwitchCounters {
  /** Frames that entered the switch. */
  received: number;
  /** Frames sent out of exactly one port because the destination was known. */
  forwarded: number;
  /** Frames sent out of every other port (broadcast, multicast, unknown unicast). */
  flooded: number;
  /** Frames dropped because the destination lives behind the port they came in on. */
  filtered: number;
  /** Frames too short to hold an Ethernet header. */
  runts: number;
}

interface PortState {
  readonly number: number;
  readonly name: string;
  readonly transmit: (frame: Uint8Array) => void;
  readonly unplug: () => void;
}

interface MacEntry {
  port: PortState;
  lastSeen: number;
}

const ETHERNET_HEADER_LENGTH = 14;

export class EthernetSwitch {
  readonly name: string;
  readonly counters: EthernetSwitchCounters = {
    received: 0,
    forwarded: 0,
    flooded: 0,
    filtered: 0,
    runts: 0,
  };
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly tracer: Tracer;
  private readonly agingTimeMs: number;
  private readonly maxMacEntries: number;
  private readonly checksumOffload: boolean;
  private readonly ports: PortState[] = [];
  private readonly table = new Map<MacAddress, MacEntry>();
  private nextPortNumber = 1;

  constructor(options: EthernetSwitchOptions) {
    this.clock = options.clock;
    this.name = options.name ?? 'switch';
    this.random = (options.random ?? new Random(options.seed ?? 0)).fork(`switch/${this.name}`);
    this.tracer = options.tracer ?? NO_TRACE;
    this.agingTimeMs = options.agingTimeMs ?? 300_000;
    this.maxMacEntries = options.maxMacEntries ?? 8192;
    this.checksumOffload = options.checksumOffload === true;
    if (!(this.agingTimeMs > 0)) throw invalid(`agingTimeMs must be > 0, got ${this.agingTimeMs}`);
    if (!(this.maxMacEntries >= 0)) throw invalid(`maxMacEntries must be >= 0, got ${this.maxMacEntries}`);
  }

  /** Adds a port with a fresh cable and returns it; hand `port.device` to a stack. */
  addPort(options: SwitchPortOptions): CabledSwitchPort {
    this.checkName(options.name);
    const number = this.nextPortNumber++;
    const link = new MemoryLink({
      clock: this.clock,
      name: `${this.name}/${options.name}`,
      random: this.random,
      tracer: this.tracer,
      a: { name: options.name, mac: options.mac, mtu: options.mtu },
      // The switch side's MAC is never put on a frame (a bridge is transparent); it is locally administered.
      b: { name: `${this.name}.port${number}`, mac: 0x02_00_00_00_00_00 + number, mtu: options.mtu },
      impairments: options.impairments,
      aToB: options.hostToSwitch,
      bToA: options.switchToHost,
      checksumOffload: this.checksumOffload,
      // A switch forwards frames as they are, so its cables carry wire-size frames only.
      offload: false,
    });
    const port = this.plug(
      number,
      options.name,
      (frame) => link.b.send(frame),
      () => link.close(),
    );
    link.b.setReceiver((frame) => this.ingress(port, frame));
    return { number, name: options.name, device: link.a, link, remove: () => this.unplug(port) };
  }

  /** Plugs an existing device straight into a new port, e.g. a TAP device or a router's link end. */
  attachDevice(device: NetworkDevice): SwitchPort {
    this.checkName(device.name);
    const number = this.nextPortNumber++;
    const port = this.plug(
      number,
      device.name,
      (frame) => device.send(frame),
      () => device.setReceiver(() => {}),
    );
    device.setReceiver((frame) => this.ingress(port, frame));
    return { number, name: device.name, remove: () => this.unplug(port) };
  }

  /** The learned MAC table (entries still within the aging time), for inspection. */
  macTable(): Array<{ mac: MacAddress; port: number; lastSeen: number }> {
    const now = this.clock.now();
    const rows: Array<{ mac: MacAddress; port: number; lastSeen: number }> = [];
    for (const [mac, entry] of this.table) {
      if (now - entry.lastSeen <= this.agingTimeMs)
        rows.push({ mac, port: entry.port.number, lastSeen: entry.lastSeen });
    }
    return rows;
  }

  /** Forgets every learned MAC, as after a topology change. */
  flushMacTable(): void {
    this.table.clear();
  }

  private checkName(name: string): void {
    if (this.ports.some((p) => p.name === name))
      throw invalid(`switch ${this.name} already has a port ${name}`);
  }

  private plug(
    number: number,
    name: string,
    transmit: (frame: Uint8Array) => void,
    unplug: () => void,
  ): PortState {
    const port: PortState = { number, name, transmit, unplug };
    this.ports.push(port);
    return port;
  }

  private unplug(port: PortState): void {
    const index = this.ports.indexOf(port);
    if (index < 0) return;
    this.ports.splice(index, 1);
    for (const [mac, entry] of this.table) if (entry.port === port) this.table.delete(mac);
    port.unplug();
  }

  private ingress(ingressPort: PortState, frame: Uint8Array): void {
    if (!this.ports.includes(ingressPort)) return;
    this.counters.received++;
    if (frame.length < ETHERNET_HEADER_LENGTH) {
      this.counters.runts++;
      return;
    }
    const now = this.clock.now();
    const destination = readMac(frame, 0);
    const source = readMac(frame, 6);
    this.learn(source, ingressPort, now);

    if (!isGroupMac(destination)) {
      const entry = this.table.get(destination);
      if (entry !== undefined && now - entry.lastSeen <= this.agingTimeMs) {
        if (entry.port === ingressPort) {
          this.counters.filtered++;
        } else {
          this.counters.forwarded++;
          entry.port.transmit(frame);
        }
        return;
      }
    }
    this.flood(ingressPort, frame);
  }

  private learn(source: MacAddress, port: PortState, now: number): void {
    // A group address is never a legitimate source (802.1D); it must not steer unicast traffic.
    if (isGroupMac(source)) return;
    const entry = this.table.get(source);
    if (entry !== undefined) {
      entry.port = port; // a station that moved is found on its new port at once
      entry.lastSeen = now;
      return;
    }
    if (this.table.size >= this.maxMacEntries) this.evictExpired(now);
    if (this.table.size < this.maxMacEntries) this.table.set(source, { port, lastSeen: now });
  }

  private evictExpired(now: number): void {
    for (const [mac, entry] of this.table) {
      if (now - entry.lastSeen > this.agingTimeMs) this.table.delete(mac);
    }
  }

  private flood(ingressPort: PortState, frame: Uint8Array): void {
    const egress = this.ports.filter((p) => p !== ingressPort);
    if (egress.length === 0) return;
    this.counters.flooded++;
    // Every receiver owns the frame it gets, so all but the last port get their own copy.
    for (let i = 0; i < egress.length; i++) {
      egress[i]!.transmit(i === egress.length - 1 ? frame : frame.slice());
    }
  }
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'EINVAL' });
}
