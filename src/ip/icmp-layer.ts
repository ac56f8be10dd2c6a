/**
 * ICMP (RFC 792, with the host rules of RFC 1122 §3.2.2 and the router rules of RFC 1812 §4.3).
 *
 * - Echo requests to one of our addresses are answered with the same identifier, sequence number and data
 *   (RFC 1122 §3.2.2.6). Echo requests to broadcast or multicast are ignored, as Linux does by default
 *   (icmp_echo_ignore_broadcasts; RFC 1122 makes answering them optional).
 * - Errors we send quote the offending datagram's IP header and first 8 data bytes (RFC 792), and are
 *   never sent (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7) about: an ICMP error, a datagram to a broadcast or
 *   multicast address or received as a link-layer broadcast, a non-initial fragment, or a datagram whose
 *   source does not name a single host.
 * - Errors are rate-limited by a token bucket (RFC 1812 §4.3.2.8): by default a burst of 50 and then 1000
 *   per second across all destinations, Linux's icmp_msgs_burst and icmp_msgs_per_sec. Echo replies are
 *   not limited. Suppressed errors are counted in IcmpOutRateLimited.
 * - Errors we receive are checked to quote a datagram we sent (a first fragment, with 8 bytes of its
 *   transport header), turned into an errno and handed to the protocol that sent it; "fragmentation
 *   needed" first lowers the path MTU toward the destination (RFC 1191).
 * - `ping` sends echo requests and measures the round trip on the stack's clock.
 */

import { FRAME_RELEASED, type FrameDisposition } from '../link/device.js';
import type { TimerHandle } from '../time/clock.js';
import { type Ipv4Address, ipv4ToString } from '../wire/address.js';
import {
  emitIcmp,
  ICMP_DESTINATION_UNREACHABLE,
  ICMP_ECHO_REQUEST,
  ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED,
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED,
  type IcmpMessage,
  icmpLength,
  parseIcmp,
} from '../wire/icmp.js';
import { IP_PROTOCOL_ICMP, type Ipv4Packet, parseQuotedIpv4 } from '../wire/ipv4.js';
import { ipAddressToString } from '../wire/ipv6-address.js';
import { type AddressInput, isLoopback, isUnicastHostAddress, toAddress } from './address-prefix.js';
import type {
  DestinationKind,
  IpProtocolHandler,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from './datagram.js';
import { errnoError } from './errors.js';
import { errnoForIcmp } from './icmp-errors.js';
import type { Ipv4Layer } from './ipv4-layer.js';
import { plateauBelow } from './path-mtu-cache.js';
import type { StackContext } from './stack-context.js';
import { TokenBucket } from './token-bucket.js';

/** ICMP types that are queries or answers, not errors (RFC 792, RFC 950): an error may answer them. */
const NON_ERROR_TYPES = new Set([0, 8, 9, 10, 13, 14, 15, 16, 17, 18]);

/** Largest echo data: 65535 minus the IP and ICMP headers. */
const MAX_ECHO_DATA = 65535 - 20 - 8;

export interface IcmpOptions {
  /** Sustained rate of ICMP error messages. Default 1000 per second. */
  errorRatePerSecond?: number;
  /** Errors that may be sent back to back before the rate applies. Default 50. */
  errorBurst?: number;
}

export interface PingOptions {
  /** Echo data bytes, as `ping -s` (the ICMP message is 8 bytes more). Default 56. */
  size?: number;
  /** How long to wait for the reply, in the clock's milliseconds. Default 1000. */
  timeoutMs?: number;
  /** Echo identifier. Default: one chosen per stack at random (as ping uses its process id). */
  identifier?: number;
  /** Echo sequence number. Default: the stack's next one, starting at 1. */
  sequence?: number;
  ttl?: number;
  tos?: number;
  /** Set DF, to probe the path MTU. Default false. */
  dontFragment?: boolean;
  /** Source address (one of ours). */
  src?: AddressInput;
}

export interface PingReply {
  /** Who answered. */
  readonly from: Ipv4Address;
  /** Round-trip time in the clock's milliseconds. */
  readonly rtt: number;
  /** TTL of the reply as it arrived. */
  readonly ttl: number;
  /** ICMP bytes in the reply (header plus data), what ping prints as "64 bytes from". */
  readonly bytes: number;
  readonly identifier: number;
  readonly sequence: number;
}

/** What an ICMP error is sent about: a received datagram (or the quote of one). */
export interface OffendingDatagram {
  readonly packet: Ipv4Packet;
  /** The datagram from its IP header on (at least the header and 8 data bytes); a view. */
  readonly bytes: Uint8Array;
  readonly linkBroadcast: boolean;
  readonly destination: DestinationKind;
}

/** An echo request addressed to a host that is not us, handed to `IcmpLayer.echoForOthers`. */
export interface ForeignEchoRequest {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly identifier: number;
  readonly sequence: number;
  /** The echo data (a copy: it outlives the frame). */
  readonly data: Uint8Array;
  readonly ttl: number;
  readonly tos: number;
  /** The request's IP header and first 8 ICMP bytes (a copy), for an error about it. */
  readonly quote: Uint8Array;
}

interface PendingPing {
  readonly target: Ipv4Address;
  readonly data: Uint8Array;
  readonly sentAt: number;
  readonly resolve: (reply: PingReply) => void;
  readonly reject: (error: Error) => void;
  timer: TimerHandle | undefined;
}

/** Emits one ICMP message into an outgoing frame. */
class IcmpWriter implements PayloadWriter {
  readonly length: number;
  constructor(private readonly message: IcmpMessage) {
    this.length = icmpLength(message);
  }
  write(buf: Uint8Array, offset: number): void {
    emitIcmp(this.message, buf, offset);
  }
}

export class IcmpLayer implements IpProtocolHandler {
  readonly errorLimiter: TokenBucket;
  private readonly pending = new Map<number, PendingPing>();
  private readonly identifier: number;
  private nextSequence = 1;
  /**
   * Takes unicast echo requests to addresses that are not ours (which reach ICMP only on an interface
   * that terminates any destination: a user-mode gateway), in place of answering them: the gateway
   * answers only when the destination beyond it does, as slirp and passt do with the host's ping sockets.
   * Unset: such requests are answered here.
   */
  echoForOthers: ((request: ForeignEchoRequest) => void) | undefined;

  constructor(
    private readonly ctx: StackContext,
    private readonly ip: Ipv4Layer,
    options: IcmpOptions = {},
  ) {
    this.errorLimiter = new TokenBucket(
      ctx.clock,
      options.errorRatePerSecond ?? 1000,
      options.errorBurst ?? 50,
    );
    this.identifier = ctx.secret.randomUint32() & 0xffff;
  }

  /**
   * An ICMP message for us. FRAME_RELEASED for every message only read (an echo reply, a malformed or
   * unknown one, an error dropped here) or answered (an echo request: the reply is a frame of its own,
   * and a gateway's foreign echo gets copies); nothing for an error whose quote goes to the transport.
   */
  receive(datagram: ReceivedDatagram): FrameDisposition {
    const { counters } = this.ctx;
    counters.IcmpInMsgs++;
    const result = parseIcmp(datagram.packet.payload);
    if (!result.ok) {
      counters.IcmpInErrors++;
      if (result.error.kind === 'bad-checksum') counters.IcmpInCsumErrors++;
      this.ctx.drop('icmp', result.error.kind);
      return FRAME_RELEASED;
    }
    const message = result.value;
    switch (message.kind) {
      case 'echo-request':
        counters.IcmpInEchos++;
        if (datagram.destination !== 'unicast') {
          this.ctx.drop('icmp', 'broadcast-echo-ignored');
          return FRAME_RELEASED;
        }
        if (this.echoForOthers !== undefined && !this.ip.isLocalAddress(datagram.packet.dst)) {
          const packet = datagram.packet;
          this.echoForOthers({
            src: packet.src,
            dst: packet.dst,
            identifier: message.identifier,
            sequence: message.sequence,
            data: message.data.slice(),
            ttl: packet.ttl,
            tos: packet.tos,
            quote: datagram.bytes.slice(0, packet.headerLength + 8),
          });
          return FRAME_RELEASED;
        }
        // The reply is written into a frame of its own before `reply` returns (a frame waiting for an
        // address resolution is queued finished), so nothing reads the request's frame afterwards.
        this.reply(datagram, message.identifier, message.sequence, message.data);
        return FRAME_RELEASED;
      case 'echo-reply':
        counters.IcmpInEchoReps++;
        // Compared with what the ping sent, and answered with numbers: the data is not kept.
        this.matchReply(datagram, message.identifier, message.sequence, message.data);
        return FRAME_RELEASED;
      case 'destination-unreachable':
        counters.IcmpInDestUnreachs++;
        return this.receiveIcmpError(
          datagram,
          ICMP_DESTINATION_UNREACHABLE,
          message.code,
          message.nextHopMtu,
          message.original,
        );
      case 'time-exceeded':
        counters.IcmpInTimeExcds++;
        return this.receiveIcmpError(datagram, ICMP_TIME_EXCEEDED, message.code, 0, message.original);
      case 'other':
        if (message.type === ICMP_PARAMETER_PROBLEM) {
          // RFC 1122 §3.2.2.5: a parameter problem MUST be passed to the transport layer.
          counters.IcmpInParmProbs++;
          return this.receiveIcmpError(datagram, ICMP_PARAMETER_PROBLEM, message.code, 0, message.body);
        }
        // RFC 1122 §3.2.2: an ICMP message of unknown type MUST be silently discarded.
        this.ctx.drop('icmp', 'unhandled-type');
        return FRAME_RELEASED;
    }
  }

  /** Errors about echo requests we sent: they fail the matching ping. */
  receiveError(report: TransportErrorReport): void {
    const quoted = report.transport;
    if (quoted.length < 8 || quoted[0] !== ICMP_ECHO_REQUEST) return;
    const key = ((quoted[4]! << 8) | quoted[5]!) * 65536 + ((quoted[6]! << 8) | quoted[7]!);
    const pending = this.pending.get(key);
    if (pending === undefined || pending.target !== report.dst) return;
    // The quoted echo request is one we are waiting on (identifier, sequence and target match, RFC 5927
    // §4.1): its "fragmentation needed" may teach the path MTU, as Linux's ping sockets do.
    if (report.reportedMtu !== undefined) this.ip.learnPathMtu(report.dst as number, report.reportedMtu);
    this.settle(key, pending);
    pending.reject(
      errnoError(
        report.code,
        `${describeIcmpError(report.icmpType, report.icmpCode)} from ${ipAddressToString(report.reporter)}`,
        {
          icmpType: report.icmpType,
          icmpCode: report.icmpCode,
          reporter: report.reporter,
        },
      ),
    );
  }

  /**
   * Sends an ICMP error about `original` unless RFC 1122 §3.2.2 forbids it or the rate limiter says no.
   * `nextHopMtu` is for fragmentation needed. Returns whether a message was sent.
   */
  sendError(
    type: number,
    code: number,
    original: OffendingDatagram,
    nextHopMtu = 0,
    source?: Ipv4Address,
  ): boolean {
    const { counters } = this.ctx;
    const packet = original.packet;
    if (original.linkBroadcast || original.destination !== 'unicast') return false;
    if (packet.fragmentOffset !== 0) return false;
    if (!isUnicastHostAddress(packet.src) && !isLoopback(packet.src)) return false;
    if (packet.protocol === IP_PROTOCOL_ICMP) {
      const quotedType = packet.payload[0];
      if (quotedType === undefined || !NON_ERROR_TYPES.has(quotedType)) return false;
    }
    if (!this.errorLimiter.take()) {
      counters.IcmpOutRateLimited++;
      this.ctx.drop('icmp', 'error-rate-limited');
      return false;
    }
    const quoteLength = packet.headerLength + Math.min(8, original.bytes.length - packet.headerLength);
    const quote = original.bytes.subarray(0, quoteLength);
    const message: IcmpMessage =
      type === ICMP_DESTINATION_UNREACHABLE
        ? { kind: 'destination-unreachable', code, nextHopMtu, original: quote }
        : { kind: 'time-exceeded', code, original: quote };
    // The error comes from the address the datagram was sent to when that is ours (port unreachable),
    // otherwise from the address of the interface facing the source (RFC 1812 §4.3.2.4).
    // A gateway relaying an error from beyond it names the original reporter (`source`), as a NAT does.
    const src =
      source ?? (this.ip.isLocalAddress(packet.dst) ? packet.dst : this.ip.sourceAddressFor(packet.src));
    const status = this.ip.send(
      { src, dst: packet.src, protocol: IP_PROTOCOL_ICMP },
      new IcmpWriter(message),
    );
    if (status !== 'ok') {
      counters.IcmpOutErrors++;
      return false;
    }
    counters.IcmpOutMsgs++;
    if (type === ICMP_DESTINATION_UNREACHABLE) counters.IcmpOutDestUnreachs++;
    else counters.IcmpOutTimeExcds++;
    return true;
  }

  /** A partial datagram expired: Time Exceeded code 1 when its first fragment had arrived (RFC 792). */
  sendReassemblyTimeout(quote: Uint8Array | undefined): void {
    if (quote === undefined) return;
    const parsed = parseQuotedIpv4(quote);
    if (!parsed.ok) return;
    const destination: DestinationKind = this.ip.isLocalAddress(parsed.value.dst) ? 'unicast' : 'broadcast';
    this.sendError(ICMP_TIME_EXCEEDED, ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED, {
      packet: parsed.value,
      bytes: quote,
      linkBroadcast: false,
      destination,
    });
  }

  /**
   * Sends one echo request and resolves with the reply, or rejects: ETIMEDOUT when no reply came within
   * `timeoutMs`; the errno of an ICMP error that came back instead (EHOSTUNREACH for time exceeded or host
   * unreachable, with `icmpType`, `icmpCode` and `reporter` on the error); ENETUNREACH / EMSGSIZE when it
   * could not be sent; EHOSTUNREACH when ARP found nobody; EINVAL for bad options.
   */
  ping(dst: AddressInput, options: PingOptions = {}): Promise<PingReply> {
    let target: Ipv4Address;
    let src: Ipv4Address | undefined;
    try {
      target = toAddress(dst, 'destination');
      src = options.src === undefined ? undefined : toAddress(options.src, 'source');
    } catch (error) {
      return Promise.reject(error);
    }
    const size = options.size ?? 56;
    const timeoutMs = options.timeoutMs ?? 1000;
    const identifier = options.identifier ?? this.identifier;
    const sequence = options.sequence ?? this.takeSequence();
    if (!Number.isInteger(size) || size < 0 || size > MAX_ECHO_DATA) {
      return Promise.reject(errnoError('EINVAL', `ping size must be 0-${MAX_ECHO_DATA}, got ${size}`));
    }
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      return Promise.reject(
        errnoError('EINVAL', `ping timeout must be a finite number >= 0, got ${timeoutMs}`),
      );
    }
    if (!isUint16(identifier) || !isUint16(sequence)) {
      return Promise.reject(errnoError('EINVAL', 'echo identifier and sequence must be 0-65535'));
    }
    const key = identifier * 65536 + sequence;
    if (this.pending.has(key)) {
      return Promise.reject(
        errnoError('EINVAL', `echo ${identifier}/${sequence} is already waiting for a reply`),
      );
    }
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i & 0xff;

    return new Promise<PingReply>((resolve, reject) => {
      const pending: PendingPing = {
        target,
        data,
        sentAt: this.ctx.clock.now(),
        resolve,
        reject,
        timer: undefined,
      };
      this.pending.set(key, pending);
      const status = this.ip.send(
        {
          src,
          dst: target,
          protocol: IP_PROTOCOL_ICMP,
          ttl: options.ttl,
          tos: options.tos,
          dontFragment: options.dontFragment,
        },
        new IcmpWriter({ kind: 'echo-request', identifier, sequence, data }),
      );
      if (status !== 'ok') {
        this.pending.delete(key);
        reject(errnoError(status, `cannot send echo request to ${ipv4ToString(target)}`));
        return;
      }
      this.ctx.counters.IcmpOutMsgs++;
      this.ctx.counters.IcmpOutEchos++;
      // The send may already have failed synchronously through an error report; only arm a live ping.
      if (this.pending.get(key) === pending) {
        pending.timer = this.ctx.clock.setTimer(timeoutMs, () => {
          if (this.pending.get(key) !== pending) return;
          this.pending.delete(key);
          reject(
            errnoError('ETIMEDOUT', `no echo reply from ${ipv4ToString(target)} within ${timeoutMs} ms`),
          );
        });
      }
    });
  }

  /** Pings waiting for a reply. */
  get pendingPings(): number {
    return this.pending.size;
  }

  /** Fails every pending ping with ECANCELED (the stack is closing). */
  close(): void {
    for (const [key, pending] of [...this.pending]) {
      this.settle(key, pending);
      pending.reject(errnoError('ECANCELED', 'the stack was closed'));
    }
  }

  private takeSequence(): number {
    const sequence = this.nextSequence;
    this.nextSequence = (this.nextSequence + 1) & 0xffff;
    return sequence;
  }

  private settle(key: number, pending: PendingPing): void {
    pending.timer?.cancel();
    this.pending.delete(key);
  }

  private reply(request: ReceivedDatagram, identifier: number, sequence: number, data: Uint8Array): void {
    this.sendEchoReply(
      request.packet.dst,
      request.packet.src,
      identifier,
      sequence,
      data,
      request.packet.tos,
    );
  }

  /**
   * Sends an echo reply from `src` (for a gateway: the destination a guest pinged, once it answered
   * beyond the gateway) to `dst`, with the request's identifier, sequence and data (RFC 792).
   */
  sendEchoReply(
    src: Ipv4Address,
    dst: Ipv4Address,
    identifier: number,
    sequence: number,
    data: Uint8Array,
    tos = 0,
  ): void {
    const status = this.ip.send(
      { src, dst, protocol: IP_PROTOCOL_ICMP, tos },
      new IcmpWriter({ kind: 'echo-reply', identifier, sequence, data }),
    );
    if (status !== 'ok') {
      this.ctx.counters.IcmpOutErrors++;
      this.ctx.drop('icmp', `echo-reply-${status}`);
      return;
    }
    this.ctx.counters.IcmpOutMsgs++;
    this.ctx.counters.IcmpOutEchoReps++;
  }

  private matchReply(
    datagram: ReceivedDatagram,
    identifier: number,
    sequence: number,
    data: Uint8Array,
  ): void {
    const key = identifier * 65536 + sequence;
    const pending = this.pending.get(key);
    const from = datagram.packet.src;
    if (pending === undefined) {
      this.ctx.drop('icmp', 'unexpected-echo-reply');
      return;
    }
    if (pending.target !== from && !this.ip.isBroadcastOrMulticast(pending.target)) {
      this.ctx.drop('icmp', 'echo-reply-from-other-host');
      return;
    }
    if (!sameBytes(pending.data, data)) {
      this.ctx.drop('icmp', 'echo-reply-data-mismatch');
      return;
    }
    this.settle(key, pending);
    pending.resolve({
      from,
      rtt: this.ctx.clock.now() - pending.sentAt,
      ttl: datagram.packet.ttl,
      bytes: 8 + data.length,
      identifier,
      sequence,
    });
  }

  private receiveIcmpError(
    datagram: ReceivedDatagram,
    type: number,
    code: number,
    nextHopMtu: number,
    quotedBytes: Uint8Array,
  ): FrameDisposition {
    if (datagram.destination !== 'unicast') {
      this.ctx.drop('icmp', 'error-to-broadcast');
      return FRAME_RELEASED;
    }
    const quoted = parseQuotedIpv4(quotedBytes);
    if (!quoted.ok) {
      this.ctx.counters.IcmpInErrors++;
      this.ctx.drop('icmp', 'bad-quoted-header');
      return FRAME_RELEASED;
    }
    const original = quoted.value;
    // RFC 5927 §4.1: only believe errors about datagrams we could have sent.
    if (!this.ip.isLocalAddress(original.src)) {
      this.ctx.drop('icmp', 'error-about-foreign-datagram');
      return FRAME_RELEASED;
    }
    if (original.fragmentOffset !== 0) {
      this.ctx.drop('icmp', 'error-about-non-initial-fragment');
      return FRAME_RELEASED;
    }
    if (original.payload.length < 8) {
      this.ctx.counters.IcmpInErrors++;
      this.ctx.drop('icmp', 'quote-too-short');
      return FRAME_RELEASED;
    }
    // Nothing is changed here: the path MTU is learned only once the transport has matched the quoted
    // datagram to a flow of its own (RFC 5927 §4.1, see Ipv4Layer.learnPathMtu). RFC 1191 §5: a router
    // predating RFC 1191 reports 0; the guess is then the next plateau below what we sent.
    let reportedMtu: number | undefined;
    if (type === ICMP_DESTINATION_UNREACHABLE && code === ICMP_FRAGMENTATION_NEEDED) {
      reportedMtu = nextHopMtu !== 0 ? nextHopMtu : plateauBelow(original.totalLength);
    }
    // The quote goes to the transport, which may keep views of it: the frame is not released.
    this.ip.deliverError({
      code: errnoForIcmp(type, code),
      origin: 'icmp',
      icmpType: type,
      icmpCode: code,
      reporter: datagram.packet.src,
      src: original.src,
      dst: original.dst,
      protocol: original.protocol,
      reportedMtu,
      datagramLength: original.totalLength,
      transport: original.payload,
    });
  }
}

function isUint16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const UNREACHABLE_TEXT: Record<number, string> = {
  0: 'Destination Net Unreachable',
  1: 'Destination Host Unreachable',
  2: 'Destination Protocol Unreachable',
  3: 'Destination Port Unreachable',
  4: 'Fragmentation Needed and DF set',
  5: 'Source Route Failed',
  9: 'Destination Net Prohibited',
  10: 'Destination Host Prohibited',
  13: 'Communication Administratively Prohibited',
};

/** Text like ping prints for an ICMP error. */
export function describeIcmpError(type: number, code: number): string {
  if (type === ICMP_TIME_EXCEEDED)
    return code === 0 ? 'Time to live exceeded' : 'Fragment reassembly time exceeded';
  if (type === ICMP_DESTINATION_UNREACHABLE)
    return UNREACHABLE_TEXT[code] ?? `Destination Unreachable, code ${code}`;
  return `ICMP type ${type} code ${code}`;
}
