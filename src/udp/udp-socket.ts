import type { AddressInput } from '../ip/address-prefix.js';
import type { DestinationKind, TransportErrorReport } from '../ip/datagram.js';
import type { ErrnoError } from '../ip/errors.js';
import type { IpAddress } from '../wire/ipv6-address.js';
import type { UdpLayer } from './udp-layer.js';

/** Where a received datagram came from and how it reached us (Node's `rinfo`, plus a little more). */
export interface UdpMessageInfo {
  /** Sender address (a number for IPv4, a bigint for IPv6) and port. */
  readonly address: IpAddress;
  readonly port: number;
  /** Destination address of the datagram: ours, or a broadcast/multicast address. */
  readonly localAddress: IpAddress;
  /** Destination port of the datagram. */
  readonly localPort: number;
  readonly destination: DestinationKind;
  /** Data bytes. */
  readonly size: number;
  /** TTL (IPv6: hop limit) the datagram arrived with. */
  readonly ttl: number;
  /** Name of the interface it arrived on. */
  readonly interfaceName: string;
}

export interface UdpSocketHandlers {
  /** A datagram arrived. `payload` is a view into the received frame; it stays valid and unchanged. */
  message?(payload: Uint8Array, info: UdpMessageInfo): void;
  /**
   * An ICMP error (or local failure) about a datagram this socket sent — reported only on connected
   * sockets, as POSIX does without IP_RECVERR: ECONNREFUSED after port unreachable, EHOSTUNREACH ...
   */
  error?(error: ErrnoError, report: TransportErrorReport): void;
}

export interface UdpBindOptions {
  /**
   * Local address: one of ours, a multicast group, 0.0.0.0 (default) for every IPv4 address, or :: (0n or
   * '::') for every IPv6 address and — unless `ipv6Only` — every IPv4 one too.
   */
  address?: AddressInput | bigint;
  /** For ::, take IPv6 datagrams only (IPV6_V6ONLY). Default false. */
  ipv6Only?: boolean;
  /** Local port; 0 or absent picks a free ephemeral port (49152-65535). */
  port?: number;
  /**
   * Let sockets share a port (SO_REUSEADDR on every one of them): needed to bind a specific address and
   * the wildcard on the same port, or the same address twice (multicast listeners). Default false.
   */
  reuseAddress?: boolean;
}

export interface UdpSendOptions {
  /** Override the socket's TTL for this datagram. */
  ttl?: number;
  /** Set DF on this datagram (then larger than the path MTU fails with EMSGSIZE). Default false. */
  dontFragment?: boolean;
}

/**
 * One UDP endpoint: a bound local address and port, optionally connected to one remote endpoint (which
 * then filters what it receives and lets it hear ICMP errors). Small and callback-based; the Node-style
 * `dgram` socket is built on it.
 */
export class UdpSocket {
  /** Connected peer, if any. */
  remoteAddress: IpAddress | undefined;
  /** Bound to :: and taking IPv6 datagrams only (IPV6_V6ONLY). */
  ipv6Only = false;
  remotePort: number | undefined;
  /** SO_BROADCAST: without it sending to a broadcast address fails with EACCES (as on Linux). */
  broadcast = false;
  /** TTL for unicast datagrams; undefined means the stack default (64). */
  ttl: number | undefined;
  /** TTL for multicast datagrams (IP_MULTICAST_TTL); default 1, RFC 1112 §6.1. */
  multicastTtl = 1;
  /**
   * IP_MULTICAST_LOOP: a datagram this socket sends to a group the host has joined is also delivered to
   * the host's own sockets (RFC 1112 §6.1 leaves it to the sender; Linux's default is on).
   */
  multicastLoop = true;
  /** Type-of-service octet. */
  tos = 0;
  /** @internal */ handlers: UdpSocketHandlers;
  private isClosed = false;

  /** @internal created by UdpLayer.bind */
  constructor(
    private readonly layer: UdpLayer,
    public localAddress: IpAddress,
    readonly localPort: number,
    readonly reuseAddress: boolean,
    handlers: UdpSocketHandlers,
  ) {
    this.handlers = handlers;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get connected(): boolean {
    return this.remotePort !== undefined;
  }

  /** Replaces the message and error callbacks. */
  setHandlers(handlers: UdpSocketHandlers): void {
    this.handlers = handlers;
  }

  /**
   * Connects to one peer: datagrams from anyone else are no longer delivered, `send` may omit the
   * destination, and ICMP errors are reported. A socket bound to 0.0.0.0 takes the source address of the
   * route to the peer, as BSD and Linux do. Throws EINVAL, ENETUNREACH (no route) or EBADF (closed).
   */
  connect(address: AddressInput | bigint, port: number): void {
    this.layer.connect(this, address, port);
  }

  /** Forgets the connected peer. */
  disconnect(): void {
    this.remoteAddress = undefined;
    this.remotePort = undefined;
  }

  /**
   * Sends one datagram (RFC 768); larger than the path MTU, IP fragments it. Destination defaults to the
   * connected peer. Throws, with a Node-style `code`: EBADF (closed), EDESTADDRREQ (no destination),
   * EINVAL (bad port or address), EISCONN (a connected socket given a destination, as BSD and Node),
   * EMSGSIZE (over 65 507 bytes, or DF and over the path MTU), EACCES (broadcast without `broadcast`),
   * ENETUNREACH (no route).
   */
  send(payload: Uint8Array, port?: number, address?: AddressInput | bigint, options?: UdpSendOptions): void {
    this.layer.send(this, payload, port, address, options);
  }

  /** Unbinds the port. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.layer.release(this);
  }
}
