/**
 * The seam between a gateway and whatever carries its guests' flows onward (an "upstream"): the host's
 * own sockets (Node `net`/`dgram`), a WISP connection, or another tcpts stack. The gateway terminates each
 * guest TCP connection in its own stack and relays its bytes over one upstream stream; each guest UDP
 * endpoint gets one upstream datagram socket.
 *
 * Streams are pull-free and callback-based so any transport fits: `write` returns false once the
 * upstream holds more than it wants (the gateway then stops reading from the guest, closing the guest's
 * TCP window, until `drain`), and `pause`/`resume` stop and restart `data` (the gateway pauses while the
 * guest's TCP send buffer is full). Nothing here buffers without bound.
 */

/** Where a flow goes, after the gateway's address mapping (e.g. 10.0.2.2 -> 127.0.0.1). */
export interface UpstreamDestination {
  /** IPv4 or IPv6 literal (or a host name, for WISP). */
  address: string;
  port: number;
}

export interface UpstreamStreamHandlers {
  /** The stream is open; writes may be made from now on. */
  connect(): void;
  /** Bytes from the far side. The chunk may be valid only during the call (see socketUpstream's `transientChunks`). */
  data(chunk: Uint8Array): void;
  /** The far side finished sending (its FIN). */
  end(): void;
  /** `write` may be called again after it returned false. */
  drain(): void;
  /**
   * The stream is gone. `error` (with a Node-style `code`, e.g. ECONNREFUSED, ECONNRESET) when it
   * failed or was reset; absent after a clean close in both directions.
   */
  close(error?: Error & { code?: string }): void;
}

export interface UpstreamStream {
  /** Queues bytes (the callee may keep the array); false: wait for `drain` before writing more. */
  write(chunk: Uint8Array): boolean;
  /**
   * Bytes written but not yet handed on to the transport. Where present, 0 right after `write` means that
   * chunk was handed on at once and the caller may reuse its array (the relay then reads the guest's bytes
   * into one reused buffer instead of a new array per read).
   */
  queuedBytes?(): number;
  /** No more bytes will be written (half-close). */
  end(): void;
  /** Stops `data` until `resume`. */
  pause(): void;
  resume(): void;
  /** Closes at once, discarding what is queued (a reset where the transport has one). */
  destroy(): void;
}

export interface UpstreamDatagramHandlers {
  message(payload: Uint8Array, from: UpstreamDestination): void;
  /**
   * The network refused a datagram sent to `to`: `code` is the errno the host's socket reported
   * (ECONNREFUSED for ICMP port unreachable, EHOSTUNREACH, ENETUNREACH, EACCES ...), `from` who said so
   * when known. The gateway turns it into the ICMP error the guest would have received.
   */
  unreachable?(to: UpstreamDestination, code: string, from?: string): void;
  close?(error?: Error): void;
}

export interface UpstreamDatagramSocket {
  send(payload: Uint8Array, to: UpstreamDestination): void;
  close(): void;
}

/** One ICMP echo a guest sent beyond the gateway. */
export interface UpstreamEchoRequest {
  /** IPv4 or IPv6 literal. */
  address: string;
  /** Echo data bytes (as `ping -s`). */
  size: number;
  /** TTL (IPv4) or hop limit (IPv6) left after the gateway's own hop. */
  ttl: number;
  timeoutMs: number;
}

/** What became of an echo beyond the gateway. */
export type UpstreamEchoResult =
  | { kind: 'reply' }
  /**
   * Destination unreachable with `code`: ICMP's (RFC 792) for an IPv4 address, ICMPv6's (RFC 4443 §3.1)
   * for an IPv6 one; from `from` when known.
   */
  | { kind: 'unreachable'; code: number; from?: string }
  | { kind: 'time-exceeded'; from?: string }
  | { kind: 'timeout' }
  /** This upstream cannot send echoes at all (e.g. no ping socket permitted); `reason` says why. */
  | { kind: 'unavailable'; reason: string };

export interface Upstream {
  /** Opens a byte stream to `destination`; the outcome comes to `handlers`. */
  openStream(destination: UpstreamDestination, handlers: UpstreamStreamHandlers): UpstreamStream;
  /**
   * Opens a datagram socket for one guest endpoint of IP version `family` (default 4); undefined when the
   * upstream carries no UDP.
   */
  openDatagram?(handlers: UpstreamDatagramHandlers, family?: 4 | 6): UpstreamDatagramSocket | undefined;
  /** Sends one ICMP echo to `request.address`; absent when the upstream carries no ICMP (e.g. WISP). */
  echo?(request: UpstreamEchoRequest): Promise<UpstreamEchoResult>;
}
