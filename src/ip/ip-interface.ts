import type { NetworkDevice } from '../link/device.js';
import type { EthernetPort } from '../link/ethernet-layer.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { ipv4ToString, prefixMask } from '../wire/address.js';
import { directedBroadcastOf, networkOf } from './address-prefix.js';
import type { ArpResolver } from './arp-resolver.js';

/**
 * One IPv4 address on one Ethernet device: what `ip addr` shows for an interface. The stack keeps one
 * address per device; a host with two networks has two devices.
 */
export class IpInterface {
  /** Largest IP datagram sent through this interface: the device MTU, lowered by configuration. */
  readonly mtu: number;
  readonly netmask: number;
  readonly network: Ipv4Address;
  /** Directed broadcast of the subnet (RFC 919); equal to `address` on a /31 or /32, where it is unused. */
  readonly broadcast: Ipv4Address;
  /** Set by the stack right after construction. */
  arp!: ArpResolver;
  /** The device's Ethernet framing and demux, shared with other network protocols on it. */
  port!: EthernetPort;
  /**
   * Gateway mode (gVisor's promiscuous + spoofing): unicast datagrams for any address arriving here are
   * delivered locally, and datagrams leaving here may carry any source address. A user-mode gateway uses
   * it so its TCP terminates a guest's connections to every destination. Default false.
   */
  terminateAnyDestination = false;
  /** Addresses besides our own that ARP answers for on this link (proxy ARP), e.g. a gateway's DNS. */
  proxyArp: ((address: Ipv4Address) => boolean) | undefined;

  constructor(
    readonly index: number,
    readonly device: NetworkDevice,
    readonly address: Ipv4Address,
    readonly prefixLength: number,
    mtu: number,
  ) {
    this.mtu = mtu;
    this.netmask = prefixMask(prefixLength);
    this.network = networkOf(address, prefixLength);
    // RFC 3021: a /31 has no broadcast address; a /32 has no subnet at all.
    this.broadcast = prefixLength >= 31 ? address : directedBroadcastOf(address, prefixLength);
  }

  get name(): string {
    return this.device.name;
  }

  get mac(): MacAddress {
    return this.device.mac;
  }

  /**
   * True while the device promises frames are never corrupted, so transport checksums may be skipped.
   * Read from the device each time: a simulated link stops offering it once corruption is configured.
   */
  get checksumOffload(): boolean {
    return this.device.checksumOffload === true;
  }

  /** True when `address` is on this interface's subnet, so it is reached directly (no gateway). */
  isOnLink(address: Ipv4Address): boolean {
    return (address & this.netmask) >>> 0 === this.network;
  }

  /** True for this subnet's directed broadcast address (never on a /31 or /32). */
  isDirectedBroadcast(address: Ipv4Address): boolean {
    return this.prefixLength < 31 && address === this.broadcast;
  }

  toString(): string {
    return `${this.name} ${ipv4ToString(this.address)}/${this.prefixLength} mtu ${this.mtu}`;
  }
}
