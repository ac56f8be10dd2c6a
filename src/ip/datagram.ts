/**
 * The contract between the IP layer and the protocols above it (ICMP, UDP, TCP, or a user's own):
 * what a received datagram looks like, how a protocol writes an outgoing one, and how it hears about
 * errors (ICMP or local) concerning datagrams it sent.
 */
import type { Ipv4Address } from '../wire/address.js';
import type { Ipv4Packet } from '../wire/ipv4.js';
import type { ErrnoCode } from './errors.js';
import type { IpInterface } from './ip-interface.js';

/** How the destination address of a received datagram addressed us. */
export type DestinationKind = 'unicast' | 'broadcast' | 'multicast';

export interface ReceivedDatagram {
  /** Parsed header; `payload` is the transport data (a view, reassembled if it came in fragments). */
  readonly packet: Ipv4Packet;
  /** The whole datagram, header included (what an ICMP error about it quotes); a view. */
  readonly bytes: Uint8Array;
  /** The interface it arrived on (for datagrams we sent ourselves, the interface owning the address). */
  readonly interface: IpInterface;
  /**
   * 'broadcast' for 255.255.255.255 and the subnet's directed broadcast, 'multicast' for a group we
   * joined. TCP must drop anything but 'unicast' (RFC 9293 MUST-57); UDP may deliver all three.
   */
  readonly destination: DestinationKind;
  /** True when the frame's destination MAC was broadcast or multicast (RFC 1122 §3.3.6). */
  readonly linkBroadcast: boolean;
  /**
   * True when the datagram crossed only a link that cannot corrupt, so the transport checksum need not be
   * verified (and may not even have been computed by the sender). False: verify it.
   */
  readonly checksumOffloaded: boolean;
}

/**
 * Writes a transport header and payload straight into the outgoing frame, so a segment is built once, in
 * place, with no intermediate copies.
 */
export interface PayloadWriter {
  /** Bytes `write` will produce. */
  readonly length: number;
  /**
   * Writes exactly `length` bytes at `buf[offset]`. `src`/`dst` are the final addresses (for the
   * pseudo-header). When `offloadChecksum` is true the device cannot corrupt frames and the transport
   * checksum may be left uncomputed.
   */
  write(buf: Uint8Array, offset: number, src: Ipv4Address, dst: Ipv4Address, offloadChecksum: boolean): void;
}

export interface IpSendOptions {
  /** Source address; must be one of ours. Default: the address of the outgoing interface. */
  src?: Ipv4Address;
  dst: Ipv4Address;
  protocol: number;
  /** Default: the stack's default TTL (64). */
  ttl?: number;
  /** Type of service / DSCP+ECN octet. Default 0. */
  tos?: number;
  /** Set DF: a datagram larger than the path MTU then fails with EMSGSIZE instead of being fragmented. */
  dontFragment?: boolean;
  /**
   * TCP only (TSO): the datagram is one TCP segment that may exceed the path MTU, to be cut into segments
   * carrying at most this many payload bytes (the sender's effective MSS) — by the device when it offers
   * TCP segmentation offload, in software otherwise — instead of being fragmented or refused. Lowered
   * when the path MTU cannot hold it. Default 0: an ordinary datagram.
   */
  segmentSize?: number;
  /**
   * Send through this interface, bypassing the routing table (as SO_BINDTODEVICE): needed for limited
   * broadcast on a multi-homed host. Default: the route's interface.
   */
  interface?: IpInterface;
}

/**
 * The outcome of a send: 'ok' when the datagram was handed to a device or queued for ARP resolution;
 * otherwise the errno a socket would report (ENETUNREACH: no route; EMSGSIZE: DF set and larger than
 * the path MTU, or larger than 65 535 bytes; EADDRNOTAVAIL: `src` is not ours; EINVAL: bad arguments).
 */
export type IpSendStatus = 'ok' | 'ENETUNREACH' | 'EMSGSIZE' | 'EADDRNOTAVAIL' | 'EINVAL';

/**
 * An error about a datagram this host sent, from an ICMP message that quoted it or from the stack itself
 * (an ARP resolution that failed is reported as if ICMP host unreachable had come back, as Linux does).
 */
export interface TransportErrorReport {
  /** The errno a socket would see (ECONNREFUSED for port unreachable, EMSGSIZE for frag-needed ...). */
  readonly code: ErrnoCode;
  readonly origin: 'icmp' | 'local';
  /** ICMP type and code (for local reports, those of the ICMP message that stands for them). */
  readonly icmpType: number;
  readonly icmpCode: number;
  /** Who reported it: the source of the ICMP message, or our own address for local reports. */
  readonly reporter: Ipv4Address;
  /** Source, destination and protocol of the datagram the error is about. */
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  /**
   * For "fragmentation needed": the next-hop MTU the router reported (the RFC 1191 §5 plateau below the
   * quoted datagram when it said 0). Nothing has been learned from it yet: a transport that finds the
   * quoted datagram belongs to a flow of its own (RFC 5927 §4.1) passes it to `Ipv4Layer.learnPathMtu`.
   */
  readonly reportedMtu?: number;
  /** Total length of the quoted datagram, as its header says (for "fragmentation needed": what was too big). */
  readonly datagramLength?: number;
  /** The start of the datagram's transport header (at least 8 bytes: ports, and TCP's sequence number). */
  readonly transport: Uint8Array;
}

/** A protocol above IP: ICMP, UDP, TCP, or anything registered with `stack.registerProtocol`. */
export interface IpProtocolHandler {
  /** A datagram for this protocol arrived for us (valid IP header, reassembled). */
  receive(datagram: ReceivedDatagram): void;
  /** An error about a datagram this protocol sent. */
  receiveError?(report: TransportErrorReport): void;
}
