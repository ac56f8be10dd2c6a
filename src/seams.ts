/**
 * Every seam of the stack, declared once (as gVisor keeps its contracts in stack/registration.go): what a
 * device is to the stack, what the Ethernet layer hands a network protocol, what a network protocol
 * (IPv4, IPv6) offers the transports above it and takes from them, what TCP needs from IP and offers
 * it, and the one error vocabulary (Node-style errno codes) every layer reports in.
 *
 * Implementations live in their layers' folders; the older module paths (link/device.ts, ip/datagram.ts,
 * ip/errors.ts) re-export from here.
 */
import type { IpInterface } from './ip/ip-interface.js';
import type { Ipv6Interface } from './ipv6/ipv6-interface.js';
import type { Ipv4Address, MacAddress } from './wire/address.js';
import type { Ipv4Packet } from './wire/ipv4.js';
import type { IpAddress, Ipv6Address } from './wire/ipv6-address.js';
import type { TcpSegment } from './wire/tcp.js';

// ---------------------------------------------------------------------------------------------------------
// Errors: one vocabulary, Node's system error codes

/**
 * Every errno any layer reports (Node's `err.code` for system errors). TCP's codes (tcp/errors.ts) are a
 * subset of these, so one `code` means the same thing whichever layer raised it.
 */
export type ErrnoCode =
  | 'ECONNRESET'
  | 'ECONNABORTED'
  | 'EPIPE'
  | 'ENOTCONN'
  | 'EINVAL'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EACCES'
  | 'EMSGSIZE'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'EHOSTDOWN'
  | 'ECONNREFUSED'
  | 'ENOPROTOOPT'
  | 'EOPNOTSUPP'
  | 'ENONET'
  | 'ETIMEDOUT'
  | 'ENOBUFS'
  | 'EBADF'
  | 'EPROTO'
  | 'EEXIST'
  | 'ECANCELED'
  | 'EDESTADDRREQ'
  | 'EISCONN';

export interface ErrnoError extends Error {
  readonly code: ErrnoCode;
}

/** Builds an `Error` with a Node-style `code`; extra fields (e.g. the ICMP message) are copied onto it. */
export function errnoError(code: ErrnoCode, message: string, extra?: Record<string, unknown>): ErrnoError {
  const error = new Error(`${code}: ${message}`) as Error & { code: ErrnoCode };
  error.code = code;
  if (extra) Object.assign(error, extra);
  return error;
}

// ---------------------------------------------------------------------------------------------------------
// Link: devices

/**
 * An Ethernet-like device: the boundary between the stack and whatever carries its frames (a simulated
 * link, a Linux TAP device, a browser channel).
 *
 * Ownership: a frame handed to `send` belongs to the device from then on (the caller must not reuse the
 * buffer); a frame handed to the receive handler belongs to the receiver, which may keep views into it,
 * unless the handler returns FRAME_RELEASED: then the frame is the device's again.
 *
 * Offloads (optional; a device without `offload` sees and delivers plain frames of at most `mtu` bytes
 * of payload, and every existing device works unchanged): a device that sits on a kernel's virtio-net
 * style interface can take one large TCP packet and cut it into MTU-sized segments itself (TSO), complete
 * transport checksums (checksum offload), and deliver large coalesced packets whose checksum its sender
 * vouches for. It says what it can do in `offload`; per frame, `send` takes `FrameTransmitOptions` and the
 * receiver gets `ReceivedFrameInfo`.
 */
export interface NetworkDevice {
  /** Human-readable name, e.g. 'client-eth0' or 'tap0'. */
  readonly name: string;
  /** Largest IP packet (Ethernet payload) the device carries, e.g. 1500. */
  readonly mtu: number;
  /** The hardware address frames from this device carry as their source. */
  readonly mac: MacAddress;
  /**
   * True when frames crossing this device cannot be corrupted on the way (an in-process link without a
   * corruption impairment), so checksums may be offloaded as Linux does on loopback. Default: false.
   */
  readonly checksumOffload?: boolean;
  /** What the device does for the stack beyond plain frames; undefined: nothing (plain frames only). */
  readonly offload?: DeviceOffload;
  /**
   * Sends one Ethernet frame (header included, no FCS). `options` (only for a device with `offload`) asks
   * for the offloads of this one frame; it is read during the call and not kept.
   */
  send(frame: Uint8Array, options?: FrameTransmitOptions): void;
  /**
   * Installs the handler that receives every frame arriving from the wire. A device with `offload` passes
   * `info` with frames it has more to say about; the object is reused, valid only during the call.
   */
  setReceiver(receiver: FrameReceiver): void;
  /** Releases the device; no frame is delivered afterwards. */
  close?(): void;
}

/**
 * What a receiver returns when, once it returns, nothing holds the frame it was given or any view into it,
 * and nothing will: the device may then use the frame's memory again (a memory link gives it back to the
 * frame allocator, see frame-allocator.ts). Any other return (a receiver that says nothing) leaves the
 * frame to the receiver. Only a layer that knows it says so: one that passes a frame up returns what the
 * layer above returned, and a wrapper that knows nothing of it (a capture, an impairment) returns nothing,
 * so a frame it or anything after it may keep is never used again. A unique symbol, so that no value a
 * receiver returns by accident (a count, a boolean) can mean it.
 */
export const FRAME_RELEASED: unique symbol = Symbol('frame released');

/**
 * What a receiver returns when it keeps a view of the frame for now and will give the frame back with
 * `giveBackFrame` once nothing holds any of it (TCP: a large segment kept as the view it arrived in, until
 * the application's read copied it out; an application that keeps the view itself means it never comes
 * back). Passed up as FRAME_RELEASED is, by the layers that pass that up: a wrapper that returns nothing
 * makes the frame the receiver's for good, and a give-back for it is then ignored, so nothing it keeps is
 * ever written over. A device that lends no memory (`lendFrameMemory`) treats it as nothing.
 */
export const FRAME_HELD: unique symbol = Symbol('frame held');

/** What a frame's receivers return: FRAME_RELEASED, FRAME_HELD or nothing (see those). */
// biome-ignore lint/suspicious/noConfusingVoidType: receivers that return nothing are receivers too.
export type FrameDisposition = typeof FRAME_RELEASED | typeof FRAME_HELD | undefined | void;

/** Who takes back frames in each buffer a device lends (see lendFrameMemory). Weak: a buffer may go. */
const frameLenders = new WeakMap<ArrayBufferLike, (view: Uint8Array) => void>();

/**
 * A device says that frames it delivers in `buffer` may come back late: `giveBack` is called with a view
 * into a frame whose receiver returned FRAME_HELD, once nothing holds that frame any more. The device
 * decides what a give-back is worth (one for a frame not returned as FRAME_HELD, or a second one, is
 * ignored), so a receiver's mistake can never make it write over memory still in use.
 */
export function lendFrameMemory(buffer: ArrayBufferLike, giveBack: (view: Uint8Array) => void): void {
  frameLenders.set(buffer, giveBack);
}

/**
 * Gives the frame `view` lies in back to the device that lent it (see FRAME_HELD), once, when nothing
 * holds any of the frame; nothing happens for memory no device lent (a copy, a merged packet).
 */
export function giveBackFrame(view: Uint8Array): void {
  frameLenders.get(view.buffer)?.(view);
}

/**
 * The handler a device delivers received frames to (see NetworkDevice.setReceiver). It may return
 * anything: only FRAME_RELEASED means something to the device.
 */
export type FrameReceiver = (frame: Uint8Array, info?: ReceivedFrameInfo) => unknown;

/** The offloads a device offers (Linux: the NETIF_F_* features of a virtio-net or TAP interface). */
export interface DeviceOffload {
  /**
   * The device completes partial TCP and UDP checksums: a frame sent with `checksumStart` may carry only
   * the pseudo-header sum in its checksum field (Linux CHECKSUM_PARTIAL).
   */
  readonly transmitChecksum: boolean;
  /**
   * TCP segmentation offload: the largest IPv4 TCP packet (IP header included, at most 65535) the device
   * takes in one frame sent with `segmentSize`, cutting it into segments that fit the MTU. 0: no TSO.
   * TSO frames always carry a partial checksum (`checksumStart`).
   */
  readonly tcpSegmentationMax: number;
  /**
   * The same for IPv6 TCP packets (the fixed header directly followed by TCP; at most 65535 bytes in
   * all): the device cuts them with the Payload Length adjusted per segment. Absent or 0: no IPv6 TSO.
   * IPv6 TSO frames carry a partial checksum (`checksumStart`) too, as Linux's GSO_TCPV6 skbs do.
   */
  readonly tcp6SegmentationMax?: number;
  /**
   * Bytes the device writes in front of each frame (e.g. a virtio-net header). A sender that leaves this
   * much free space before the frame in its buffer and says so (`headroom`) saves the device a copy.
   */
  readonly headroom: number;
  /**
   * The device cuts TSO frames into wire-size frames in software as it is sent them (Linux's GSO in front
   * of a device without TSO) and gives each back to the frame allocator before `send` returns: a sender
   * carves such a frame with `allocateStagedFrame` (link/frame-allocator.ts), where the device copies
   * the pieces out of it without views. Absent: the device takes TSO frames whole.
   */
  readonly softwareSegmentation?: boolean;
}

/** Per-frame requests to a device with `offload`. Fields that do not apply are 0. */
export interface FrameTransmitOptions {
  /**
   * Non-zero: the transport checksum is partial. The device sums the frame from this offset (the start of
   * the TCP or UDP header) to its end, starting from the value in the checksum field (the pseudo-header
   * sum, not inverted), and writes the finished checksum at `checksumStart + checksumOffset`.
   */
  checksumStart: number;
  /** Where the checksum field lies from `checksumStart`: 16 for TCP, 6 for UDP. */
  checksumOffset: number;
  /**
   * Non-zero: TSO. The frame holds one IPv4 (or, with `tcp6SegmentationMax`, IPv6) TCP packet that may exceed the MTU; the device cuts its
   * payload into segments of this many bytes (the last may be shorter), each with a copy of the IP and
   * TCP headers (sequence numbers, lengths, IDs and checksums adjusted, FIN and PSH on the last only),
   * as RFC 9293 §3.7 segmentation would have. Needs `checksumStart`.
   */
  segmentSize: number;
  /** Bytes free directly before the frame in its ArrayBuffer, which the device may overwrite. */
  headroom: number;
}

/** What a device with `offload` says about one received frame. */
export interface ReceivedFrameInfo {
  /**
   * The sender vouches for the TCP/UDP checksum (it never left the sending host's memory, or hardware
   * verified it): the transport checksum must not be verified, and its field may hold only a partial sum.
   */
  checksumTrusted: boolean;
  /**
   * Non-zero: the frame is one coalesced TCP packet (GSO/GRO) that may exceed the MTU, made of segments of
   * this many payload bytes; forwarded onto a plain link it must be cut back into them.
   */
  segmentSize: number;
}

// ---------------------------------------------------------------------------------------------------------
// Ethernet: what a network protocol registers for its EtherType

/**
 * What a network protocol registers for its EtherType. Its payload is `frame` from `offset` on: the frame
 * itself is passed, not a view cut for each one, so a protocol that reads it in place allocates nothing.
 * FRAME_RELEASED when nothing holds any of the frame once the call returns.
 */
export type EtherTypeReceiver = (
  frame: Uint8Array,
  offset: number,
  linkBroadcast: boolean,
  info: ReceivedFrameInfo | undefined,
) => FrameDisposition;

// ---------------------------------------------------------------------------------------------------------
// Network protocol (IPv4) <-> transport protocols

/** How the destination address of a received datagram addressed us. */
export type DestinationKind = 'unicast' | 'broadcast' | 'multicast';

/**
 * A datagram handed to a protocol handler. The record and its `packet` belong to IPv4 input and are
 * refilled for the next datagram once `receive` returns: a handler that keeps anything copies the fields
 * (the views in it, `bytes` and `packet.payload`, stay valid).
 */
export interface ReceivedDatagram {
  /** Parsed header; `payload` is the transport data (a view, reassembled if it came in fragments). */
  readonly packet: Ipv4Packet;
  /** The whole datagram, header included (what an ICMP error about it quotes); a view. */
  readonly bytes: Uint8Array;
  /**
   * The buffer holding the transport payload, and where the payload lies in it: the same bytes as
   * `packet.payload`, for a transport that parses its header in place (`packet.payload` and `bytes` may
   * be views cut only when first read).
   */
  readonly buffer: Uint8Array;
  readonly payloadOffset: number;
  readonly payloadLength: number;
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
   * checksum may be left uncomputed. `place`: where `buf[offset]` lies in the checksum memory when `buf`
   * is a frame carved there (its header may then be written as whole words, see wire/frame-words.ts),
   * else -1.
   */
  write(
    buf: Uint8Array,
    offset: number,
    src: Ipv4Address,
    dst: Ipv4Address,
    offloadChecksum: boolean,
    place?: number,
  ): void;
  /**
   * True when `write` sets every one of its bytes itself, reading none (a TCP segment writer): IP then
   * clears nothing of a frame from a reused slab, since it writes every byte of the IPv4 and Ethernet
   * headers as well. Otherwise the transport header's bytes start from zeros.
   */
  readonly writesEveryByte?: boolean;
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
  readonly reporter: IpAddress;
  /**
   * Source, destination and protocol (IPv6: upper-layer next header) of the datagram the error is about.
   * Numbers for an ICMP report about IPv4, bigints for an ICMPv6 one (whose `icmpType`/`icmpCode` are then
   * ICMPv6's, RFC 4443 §3).
   */
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly protocol: number;
  /**
   * For "fragmentation needed": the next-hop MTU the router reported (the RFC 1191 §5 plateau below the
   * quoted datagram when it said 0), or the MTU of an ICMPv6 Packet Too Big. Nothing has been learned
   * from it yet: a transport that finds the quoted datagram belongs to a flow of its own (RFC 5927 §4.1)
   * passes it to `learnPathMtu` of its IP layer.
   */
  readonly reportedMtu?: number;
  /** Total length of the quoted datagram, as its header says (for "fragmentation needed": what was too big). */
  readonly datagramLength?: number;
  /** The start of the datagram's transport header (at least 8 bytes: ports, and TCP's sequence number). */
  readonly transport: Uint8Array;
}

/** A protocol above IP: ICMP, UDP, TCP, or anything registered with `stack.registerProtocol`. */
export interface IpProtocolHandler {
  /**
   * A datagram for this protocol arrived for us (valid IP header, reassembled). FRAME_RELEASED when
   * nothing holds any view of the datagram once the call returns (see FRAME_RELEASED).
   */
  receive(datagram: ReceivedDatagram): FrameDisposition;
  /** An error about a datagram this protocol sent. */
  receiveError?(report: TransportErrorReport): void;
}

// ---------------------------------------------------------------------------------------------------------
// Network protocol (IPv6) <-> transport protocols

/** A packet delivered to an upper-layer protocol. */
export interface Ipv6ReceivedPacket {
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  readonly hopLimit: number;
  /** The Traffic Class octet (DSCP and ECN, RFC 8200 §7, RFC 3168 §5). */
  readonly trafficClass: number;
  readonly nextHeader: number;
  /** The upper-layer bytes (reassembled if fragmented); a view. */
  readonly payload: Uint8Array;
  readonly interface: Ipv6Interface;
  /** The whole packet as it arrived (reassembled), header included: what an ICMPv6 error about it quotes. */
  readonly datagram: Uint8Array;
  /** The packet never left this host (our own address, or ::1): its transport checksum need not be checked. */
  readonly checksumOffloaded: boolean;
  readonly destination: 'unicast' | 'multicast';
}

export interface Ipv6ProtocolHandler {
  /**
   * A packet for this next header arrived for us. FRAME_RELEASED when nothing holds any view of it once
   * the call returns (see FRAME_RELEASED), FRAME_HELD as for IPv4's handlers.
   */
  receive(packet: Ipv6ReceivedPacket): FrameDisposition;
  /**
   * An ICMPv6 error (or a failed neighbour resolution) about a packet this protocol sent. For Packet Too
   * Big the path MTU is left for the handler to learn (`Ipv6Layer.learnPathMtu`) once it has checked the
   * quote; without this method IPv6 learns it at once.
   */
  receiveError?(report: TransportErrorReport): void;
}

/** Writes an upper-layer payload straight into the outgoing packet, with the final addresses. */
export interface Ipv6PayloadWriter {
  readonly length: number;
  /**
   * Writes exactly `length` bytes at `buf[offset]`. With `offloadChecksum` the transport checksum may be
   * left uncomputed (the IPv6 layer then writes the pseudo-header sum for a device that completes it).
   */
  write(buf: Uint8Array, offset: number, src: Ipv6Address, dst: Ipv6Address, offloadChecksum?: boolean): void;
}

// ---------------------------------------------------------------------------------------------------------
// TCP <-> IP: the transport's send/receive contract

/**
 * What IP says about a segment it was handed: 'ok' (sent, or queued for ARP), or the errno of a local
 * failure (ENETUNREACH: no route; EADDRNOTAVAIL: the source address is no longer ours; EMSGSIZE, EINVAL).
 * A binding that returns nothing is taken to have sent the segment.
 */
export type TcpSendStatus = IpSendStatus;

/**
 * What the TCP layer needs from IP. Addresses are numbers for IPv4 and bigints for IPv6; one binding
 * serves both versions (the stack's sends each segment through the IP layer of its addresses).
 */
export interface TcpIpBinding {
  /**
   * Sends a segment from `src` to `dst` (IP computes the checksum with the pseudo-header). The segment
   * object and its payload are valid only during the call. `segmentSize` (TSO, only when `tsoSizeFor`
   * allowed a segment beyond the MTU): cut the payload into segments of at most this many bytes. `ecn`:
   * the ECN field of the IP header (RFC 3168 §5: 2 = ECT(0)); absent or 0, Not-ECT.
   */
  send(
    src: IpAddress,
    dst: IpAddress,
    segment: TcpSegment,
    segmentSize?: number,
    ecn?: number,
    // biome-ignore lint/suspicious/noConfusingVoidType: bindings that return nothing (the type before IP reported a status) must stay valid
  ): TcpSendStatus | undefined | void;
  /** True for an address assigned to one of this stack's interfaces. */
  isLocalAddress(address: IpAddress): boolean;
  /** True for limited/directed broadcast and multicast addresses (MUST-46, MUST-57). */
  isBroadcastOrMulticast(address: IpAddress): boolean;
  /** The local address to use towards `dst` (the route's interface, MUST-44), or undefined: no route. */
  sourceAddressFor(dst: IpAddress): IpAddress | undefined;
  /** MTU of the path towards `dst` (the outgoing interface's MTU, or a path-MTU estimate). */
  mtuFor(dst: IpAddress): number;
  /**
   * Largest IP datagram toward `dst` that may carry one segment sent with `segmentSize` (IP or the device
   * cuts it: TCP segmentation offload). Absent, or `mtuFor(dst)`: segments always fit the MTU.
   */
  tsoSizeFor?(dst: IpAddress): number;
  /** The outgoing interface's MTU toward `dst`: the MSS announced on SYNs (MUST-67). Absent: `mtuFor`. */
  interfaceMtuFor?(dst: IpAddress): number;
  /**
   * Called only for a "fragmentation needed" report TCP has validated (RFC 5927 §4.1): IP learns the path
   * MTU toward `dst` (floored) and returns the MTU now in effect. Absent: the reported MTU is used as is.
   */
  learnPathMtu?(dst: IpAddress, reportedMtu: number): number;
  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): the peer `dst` acknowledged new data, so the neighbour
   * that is the next hop toward it is reachable. Absent: neighbours are confirmed by ARP alone.
   */
  confirmReachable?(dst: IpAddress): void;
}

/** What a TCP layer implements to be attached with `stack.attachTcp` (TcpLayer does; `stack.tcp` is one). */
export interface TcpReceiver {
  /**
   * A valid segment (checksum verified, unicast destination) arrived. The segment record is the receiver's
   * only for the call (IP parses the next segment into the same record: copy it to keep it); its payload
   * is a view that stays valid. `ecn` is the ECN field of the IP header that carried it (RFC 3168 §5;
   * 3 = CE), 0 if unknown. Returns FRAME_RELEASED when nothing holds the payload (or any view of the
   * segment's bytes) once the call returns; any other value means nothing.
   */
  receive(src: IpAddress, dst: IpAddress, segment: TcpSegment, ecn?: number): unknown;
  /**
   * An ICMP error (or a local failure such as ARP finding nobody) about a segment we sent. The report
   * carries src/dst of that segment and at least its first 8 bytes (`transport`: ports and sequence
   * number, to check against the connection, RFC 5927 §4.1), the errno, and for "fragmentation needed"
   * the new path MTU.
   */
  receiveIcmpError?(report: TransportErrorReport): void;
}
