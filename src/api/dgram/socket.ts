/**
 * `dgram.Socket` (udp4 and udp6) over a tcpts stack's UDP layer, with Node's argument forms, asynchronous
 * bind/connect/send callbacks, implicit binding, and error shapes.
 */
import { EventEmitter } from 'node:events';
import type { Stack } from '../../stack.js';
import type { UdpMessageInfo, UdpSocket } from '../../udp/udp-socket.js';
import { parseIpv4 } from '../../wire/address.js';
import {
  type IpAddress,
  ipAddressToString,
  ipv4MappedIpv6,
  ipv6ToString,
  isIpv6Multicast,
  parseIpv6,
} from '../../wire/ipv6-address.js';
import type { EventLoopHolds, LoopHandle } from '../event-loop-hold.js';
import type { LookupFunction } from '../host-names.js';
import { lookupHost } from '../lookup-node.js';
import {
  invalidArgType,
  missingArgs,
  nodeError,
  nodeSystemError,
  validateAbortSignal,
  validateNumber,
  validatePort,
  validateString,
} from '../node-errors.js';
import { errnoNumber, systemError, systemErrorWithAddress } from '../system-errors-node.js';

export interface DgramSocketOptions {
  /**
   * 'udp4', or 'udp6': bound to :: by default, receiving IPv4 datagrams too (their senders as
   * ::ffff:a.b.c.d) unless `ipv6Only`.
   */
  type: 'udp4' | 'udp6';
  /** SO_REUSEADDR: share the port with other sockets that ask for it too. */
  reuseAddr?: boolean;
  /** udp6: take IPv6 datagrams only (IPV6_V6ONLY); the port stays free for a udp4 socket on 0.0.0.0. */
  ipv6Only?: boolean;
  /** Recorded, reported by get*BufferSize (the UDP layer queues nothing). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Resolves host names (Node's `dns.lookup` signature). */
  lookup?: LookupFunction;
  /** Closes the socket when aborted. */
  signal?: AbortSignal;
}

/** Where a datagram came from: Node's `rinfo`. */
export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export interface DgramAddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

export interface BindOptions {
  port?: number;
  address?: string;
  exclusive?: boolean;
}

/** What every dgram socket of one stack shares. */
export interface DgramContext {
  readonly stack: Stack;
  /** The default resolver: the stack's names, then the API's lookup option. */
  readonly lookup: LookupFunction;
  /** What keeps the process alive while a socket is bound and ref'd. */
  readonly holds: EventLoopHolds;
}

type BindState = 'unbound' | 'binding' | 'bound';
type ConnectState = 'disconnected' | 'connecting' | 'connected';
/** Called with (null, bytes) once sent, or with the error. */
type SendCallback = (error: Error | null, bytes: number) => void;
/** What send() takes: text, any view of bytes, or a list of them sent as one datagram. */
type Message = string | ArrayBufferView | readonly unknown[];

/** Linux's default socket buffer size (net.core.rmem_default/wmem_default), reported when none was set. */
const DEFAULT_BUFFER_SIZE = 212_992;
/** Linux's ceiling for a requested size (net.core.rmem_max/wmem_max, the default) before doubling. */
const MAX_REQUESTED_BUFFER_SIZE = 212_992;
/** Linux's floors for the doubled size: SOCK_MIN_RCVBUF and SOCK_MIN_SNDBUF on a 64-bit kernel. */
const MIN_RECV_BUFFER_SIZE = 2_304;
const MIN_SEND_BUFFER_SIZE = 4_608;

/** The types Node names when a message is not one. */
const MESSAGE_TYPES = ['Buffer', 'TypedArray', 'DataView', 'string'];

/**
 * Linux's bounds on one socket's memberships: net.ipv4.igmp_max_memberships (20 groups per IPv4 socket),
 * net.ipv4.igmp_max_msf (10 sources per group) and net.ipv6.mld_max_msf (64); IPv6 groups have no count
 * of their own there, only the socket option memory (net.core.optmem_max: 2340 groups at 131072 bytes,
 * then ENOMEM), for which tcpts counts 2048. Beyond: ENOBUFS (ENOMEM for IPv6 groups).
 */
const MAX_IPV4_MEMBERSHIPS = 20;
const MAX_IPV4_SOURCES = 10;
const MAX_IPV6_MEMBERSHIPS = 2048;
const MAX_IPV6_SOURCES = 64;

/**
 * One socket's membership of a group, as Linux keeps it (struct ip_mc_socklist): any source (EXCLUDE
 * with no sources, IP_ADD_MEMBERSHIP) or the sources asked for (INCLUDE, IP_ADD_SOURCE_MEMBERSHIP).
 */
interface Membership {
  mode: 'include' | 'exclude';
  readonly sources: Set<IpAddress>;
}

export class Socket extends EventEmitter {
  readonly type: 'udp4' | 'udp6';
  private readonly context: DgramContext;
  private readonly options: DgramSocketOptions;
  private udp: UdpSocket | undefined;
  private bindState: BindState = 'unbound';
  private connectState: ConnectState = 'disconnected';
  private closed = false;
  /** Work waiting for an implicit or explicit bind to complete. */
  private queue: Array<() => void> | undefined;
  private recvBufferSize: number;
  private sendBufferSize: number;
  private multicastLoopback = true;
  /** This socket's group memberships (each also held in the stack, which merges them per group). */
  private readonly memberships = new Map<IpAddress, Membership>();
  /** The socket's hold on the event loop, from bind until close (a receiving UDP handle in Node). */
  private loopHandle: LoopHandle | undefined;
  /** unref() before bind applies once bound. */
  private unrefWanted = false;
  /** Datagrams are delivered from bind until close or `_stopReceiving()` (Node's `state.receiving`). */
  private receiving = false;

  constructor(
    context: DgramContext,
    options: DgramSocketOptions,
    messageListener?: (msg: Buffer, rinfo: RemoteInfo) => void,
  ) {
    super();
    this.context = context;
    this.options = options;
    this.type = options.type === 'udp6' ? 'udp6' : 'udp4';
    this.recvBufferSize = DEFAULT_BUFFER_SIZE;
    this.sendBufferSize = DEFAULT_BUFFER_SIZE;
    if (typeof messageListener === 'function') this.on('message', messageListener);
    const signal = options.signal;
    if (signal !== undefined) {
      validateAbortSignal(signal, 'options.signal');
      const onAbort = () => {
        if (!this.closed) this.close();
      };
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
  }

  /**
   * bind([port][, address][, callback]) or bind(options[, callback]). Port 0 takes an ephemeral port;
   * address defaults to 0.0.0.0. 'listening' follows asynchronously; EADDRINUSE and EADDRNOTAVAIL are
   * 'error' events. Throws ERR_SOCKET_ALREADY_BOUND when bound or binding.
   */
  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port?: number, callback?: () => void): this;
  bind(callback?: () => void): this;
  bind(options: BindOptions, callback?: () => void): this;
  bind(...args: unknown[]): this {
    this.healthCheck();
    if (this.bindState !== 'unbound') throw nodeError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    const last = args[args.length - 1];
    const callback = typeof last === 'function' ? (last as () => void) : undefined;
    let port: unknown;
    let address: unknown;
    const first = args[0];
    if (first !== null && typeof first === 'object') {
      port = (first as BindOptions).port;
      address = (first as BindOptions).address;
    } else {
      port = typeof first === 'function' ? undefined : first;
      address = typeof args[1] === 'function' ? undefined : args[1];
    }
    // Node passes the port to the kernel unchecked, which keeps its low 16 bits.
    const localPort = (Number(port) >>> 0) & 0xffff;
    // As Node: no address (or an empty one) is the wildcard; anything else goes to the lookup, which
    // refuses a non-string synchronously (ERR_INVALID_ARG_TYPE "hostname").
    const host = (address || (this.type === 'udp6' ? '::' : '0.0.0.0')) as string;
    this.bindState = 'binding';
    if (callback !== undefined) {
      const onListening = () => {
        this.off('error', onError);
        callback.call(this);
      };
      const onError = () => this.off('listening', onListening);
      this.once('listening', onListening);
      this.once('error', onError);
    }
    this.queue ??= [];
    this.resolve(host, (error, ip, text) => {
      if (this.closed) return;
      if (error || ip === undefined) {
        this.bindState = 'unbound';
        this.queue = undefined;
        this.emit('error', error);
        return;
      }
      let udp: UdpSocket;
      try {
        udp = this.context.stack.udp.bind(
          {
            address: ip,
            port: localPort,
            reuseAddress: this.options.reuseAddr === true,
            ipv6Only: this.options.ipv6Only === true,
          },
          {
            message: (payload, info) => this.onMessage(payload, info),
            error: (icmpError) => this.emit('error', systemError(icmpError.code, 'recvmsg')),
          },
        );
      } catch (bindError) {
        this.bindState = 'unbound';
        this.queue = undefined;
        const code = (bindError as { code?: string }).code ?? 'EINVAL';
        this.emit('error', systemErrorWithAddress(code, 'bind', text, localPort));
        return;
      }
      this.udp = udp;
      this.bindState = 'bound';
      this.receiving = true;
      // Buffer sizes asked for at creation apply once there is a socket, as in Node's startListening.
      if (this.options.recvBufferSize)
        this.recvBufferSize = linuxBufferSize(this.options.recvBufferSize, true);
      if (this.options.sendBufferSize)
        this.sendBufferSize = linuxBufferSize(this.options.sendBufferSize, false);
      this.loopHandle = this.context.holds.open();
      if (this.unrefWanted) this.loopHandle.unref();
      this.emit('listening');
      this.flushQueue();
    });
    return this;
  }

  /**
   * send(msg[, offset, length][, port][, address][, callback]). `msg`: string, Buffer, any
   * ArrayBufferView, or an array of them (sent as one datagram). Unbound sockets bind to an ephemeral
   * port first. The callback gets (error, bytes); without one, send errors are dropped (as Node).
   */
  send(msg: Message, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: Message, port?: number, callback?: SendCallback): void;
  send(msg: Message, callback?: SendCallback): void;
  send(
    msg: string | ArrayBufferView,
    offset: number,
    length: number,
    port?: number,
    address?: string,
    callback?: SendCallback,
  ): void;
  send(
    msg: string | ArrayBufferView,
    offset: number,
    length: number,
    port?: number,
    callback?: SendCallback,
  ): void;
  send(msg: string | ArrayBufferView, offset: number, length: number, callback?: SendCallback): void;
  send(msg: Message, ...rest: unknown[]): void {
    let [offset, length, port, address, callback] = rest as [unknown, unknown, unknown, unknown, unknown];
    let message: unknown = msg;
    const connected = this.connectState === 'connected';
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        message = slice(message, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        message = slice(message, offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        callback = offset;
      }
      if (port || address) throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    const list = toBufferList(message);
    let destinationPort = 0;
    if (!connected) destinationPort = validatePort(port, 'Port', false);
    let done = typeof callback === 'function' ? (callback as SendCallback) : undefined;
    if (typeof address === 'function') {
      done = address as SendCallback;
      address = undefined;
    } else if (address !== undefined && address !== null) {
      validateString(address, 'address');
    }
    this.healthCheck();
    if (this.bindState === 'unbound') this.bind({ port: 0, exclusive: true });
    const payload = list.length === 1 ? list[0]! : Buffer.concat(list);
    const destination = typeof address === 'string' ? address : undefined;
    const doSend = () => {
      if (connected) {
        this.transmit(payload, undefined, undefined, destination, destinationPort, done);
        return;
      }
      // Node's default destination (no address, or an empty one): the loopback address of the family.
      this.resolve(destination || this.loopbackText(), (error, ip) => {
        if (error || ip === undefined) {
          if (done !== undefined) process.nextTick(done, error);
          else process.nextTick(() => this.emit('error', error));
          return;
        }
        this.transmit(payload, ip, destinationPort, destination, destinationPort, done);
      });
    };
    if (this.bindState !== 'bound') this.queue!.push(doSend);
    else doSend();
  }

  private transmit(
    payload: Uint8Array,
    ip: IpAddress | undefined,
    port: number | undefined,
    addressText: string | undefined,
    portForErrors: number,
    callback: SendCallback | undefined,
  ): void {
    const udp = this.udp;
    if (udp === undefined || this.closed) return;
    try {
      if (ip === undefined) udp.send(payload);
      else udp.send(payload, port, ip);
    } catch (error) {
      if (callback !== undefined) {
        const code = (error as { code?: string }).code ?? 'EINVAL';
        const where = addressText ?? (ip === undefined ? undefined : ipAddressToString(ip));
        const failure =
          where === undefined
            ? systemError(code, 'send')
            : systemErrorWithAddress(code, 'send', where, portForErrors);
        process.nextTick(callback, failure);
      }
      return;
    }
    if (callback !== undefined) process.nextTick(callback, null, payload.length);
  }

  /**
   * Associates the socket with one peer: datagrams from others are no longer delivered, send() needs no
   * destination, and ICMP port unreachable then surfaces as an ECONNREFUSED 'error' (syscall recvmsg).
   */
  connect(port: number, address?: string, callback?: () => void): void;
  connect(port: number, callback: () => void): void;
  connect(port: number, address?: string | (() => void), callback?: (error?: Error) => void): void {
    const remotePort = validatePort(port, 'Port', false);
    let host: unknown;
    if (typeof address === 'function') {
      callback = address;
      host = '';
    } else {
      host = address === undefined ? '' : address;
    }
    validateString(host, 'address');
    if (this.connectState !== 'disconnected') {
      throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    this.connectState = 'connecting';
    if (this.bindState === 'unbound') this.bind({ port: 0, exclusive: true });
    const doConnect = () => {
      if (callback !== undefined) this.once('connect', callback);
      this.resolve(host === '' ? this.loopbackText() : host, (error, ip, text) => {
        if (this.udp === undefined || this.closed) return;
        let failure: Error | null | undefined = error;
        if (!failure && ip !== undefined) {
          try {
            this.udp.connect(ip, remotePort);
          } catch (connectError) {
            const code = (connectError as { code?: string }).code ?? 'EINVAL';
            failure = systemErrorWithAddress(code, 'connect', host || text, remotePort);
          }
        }
        if (failure) {
          this.connectState = 'disconnected';
          process.nextTick(() => {
            if (callback !== undefined) {
              this.off('connect', callback);
              callback(failure);
            } else {
              this.emit('error', failure);
            }
          });
          return;
        }
        this.connectState = 'connected';
        process.nextTick(() => this.emit('connect'));
      });
    };
    if (this.bindState !== 'bound') this.queue!.push(doConnect);
    else doConnect();
  }

  /** Forgets the connected peer. Throws ERR_SOCKET_DGRAM_NOT_CONNECTED when not connected. */
  disconnect(): void {
    this.healthCheck();
    if (this.connectState !== 'connected') throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    this.udp!.disconnect();
    this.connectState = 'disconnected';
  }

  /** The connected peer. Throws ERR_SOCKET_DGRAM_NOT_CONNECTED when not connected. */
  remoteAddress(): DgramAddressInfo {
    this.healthCheck();
    if (this.connectState !== 'connected') throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    const udp = this.udp!;
    return { ...this.addressText(udp.remoteAddress!), port: udp.remotePort! };
  }

  /** Closes the socket; 'close' follows on the next tick. Throws ERR_SOCKET_DGRAM_NOT_RUNNING when closed. */
  close(callback?: () => void): this {
    if (typeof callback === 'function') this.on('close', callback);
    if (this.queue !== undefined && this.bindState === 'binding') {
      this.queue.push(() => this.close());
      return this;
    }
    this.healthCheck();
    this.closed = true;
    this.receiving = false;
    for (const [group, membership] of this.memberships) this.release(group, membership);
    this.memberships.clear();
    this.udp?.close();
    this.udp = undefined;
    this.loopHandle?.close();
    this.loopHandle = undefined;
    this.queue = undefined;
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /** The bound address. Throws EBADF (syscall getsockname) before bind, as Node. */
  address(): DgramAddressInfo {
    this.healthCheck();
    const udp = this.udp;
    if (udp === undefined) throw systemError('EBADF', 'getsockname');
    return { ...this.addressText(udp.localAddress), port: udp.localPort };
  }

  /** SO_BROADCAST: required to send to a broadcast address (else EACCES). Throws EBADF before bind. */
  setBroadcast(flag: boolean): void {
    this.bound('setBroadcast').broadcast = Boolean(flag);
  }

  /** Unicast TTL, 1-255 (IP_TTL; fractions are truncated as the kernel's int). */
  setTTL(ttl: number): number {
    this.ttlSetter(ttl, 1, 'setTTL').ttl = Math.trunc(ttl);
    return ttl;
  }

  /** Multicast TTL, 0-255 (IP_MULTICAST_TTL, default 1). */
  setMulticastTTL(ttl: number): number {
    this.ttlSetter(ttl, 0, 'setMulticastTTL').multicastTtl = Math.trunc(ttl);
    return ttl;
  }

  /** IP_MULTICAST_LOOP: whether this host's own sockets get a copy of what it sends to a group it joined. */
  setMulticastLoopback(flag: boolean): boolean {
    const udp = this.bound('setMulticastLoopback');
    this.multicastLoopback = Boolean(flag);
    udp.multicastLoop = this.multicastLoopback;
    return flag;
  }

  /**
   * IP_MULTICAST_IF: the address must be one of the stack's (or 0.0.0.0, the default); EINVAL for text
   * that is not an IPv4 address, EADDRNOTAVAIL for one that is not ours. On a udp6 socket any IPv6 address text
   * is also accepted (IPV6_MULTICAST_IF), its zone naming the interface (none: the default). The route to the group decides
   * the interface in tcpts, so a valid choice is recorded only.
   */
  setMulticastInterface(interfaceAddress: string): void {
    this.healthCheck();
    validateString(interfaceAddress, 'interfaceAddress');
    this.bound('setMulticastInterface');
    // IPV6_MULTICAST_IF takes an interface index: libuv reads IPv6 text as an address whose zone
    // ('::%eth0') names the interface; a zone that names none is index 0, the default choice. IPv4 text
    // on a udp6 socket sets IP_MULTICAST_IF, as on a udp4 one (Linux takes it on an AF_INET6 socket).
    if (this.type === 'udp6' && parseIpv6(interfaceAddress.split('%')[0]!) !== undefined) return;
    const address = parseIpv4(interfaceAddress);
    if (address === undefined) throw systemError('EINVAL', 'setMulticastInterface');
    if (address !== 0 && !this.context.stack.isLocalAddress(address)) {
      throw systemError('EADDRNOTAVAIL', 'setMulticastInterface');
    }
  }

  /**
   * Joins a multicast group for every source (IP_ADD_MEMBERSHIP, IPV6_JOIN_GROUP). EINVAL for an address
   * that is not a multicast group or a bad interface address, ENOPROTOOPT for an IPv6 group on a udp4
   * socket, EADDRINUSE when this socket already has a membership of the group, ENOBUFS/ENOMEM beyond the
   * socket's bound.
   */
  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.healthCheck();
    if (!multicastAddress) throw missingArgs('multicastAddress');
    const syscall = 'addMembership';
    const group = this.groupAddress(multicastAddress, interfaceAddress, syscall);
    if (this.memberships.has(group)) throw systemError('EADDRINUSE', syscall);
    this.checkMembershipCount(group, syscall);
    this.context.stack.joinMulticastGroup(group);
    this.memberships.set(group, { mode: 'exclude', sources: new Set() });
  }

  /**
   * Leaves a multicast group (IP_DROP_MEMBERSHIP), whatever the membership's sources; EADDRNOTAVAIL when
   * this socket has none.
   */
  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    this.healthCheck();
    if (!multicastAddress) throw missingArgs('multicastAddress');
    const syscall = 'dropMembership';
    const group = this.groupAddress(multicastAddress, interfaceAddress, syscall);
    const membership = this.memberships.get(group);
    if (membership === undefined) throw systemError('EADDRNOTAVAIL', syscall);
    this.memberships.delete(group);
    this.release(group, membership);
  }

  /**
   * Source-specific membership (IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP; RFC 4607): this socket
   * receives datagrams sent to `groupAddress` only from `sourceAddress` and the other sources added the
   * same way, and the host asks for them with IGMPv3/MLDv2 source lists. A membership for every source
   * becomes a source-specific one (Linux switches an empty filter's mode). EADDRNOTAVAIL for a source
   * already added, ENOBUFS beyond the sources a group may have; the group's errors as addMembership.
   */
  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.healthCheck();
    validateString(sourceAddress, 'sourceAddress');
    validateString(groupAddress, 'groupAddress');
    const syscall = 'addSourceSpecificMembership';
    const [group, source] = this.groupAndSource(sourceAddress, groupAddress, interfaceAddress, syscall);
    const stack = this.context.stack;
    const membership = this.memberships.get(group);
    if (membership === undefined) {
      this.checkMembershipCount(group, syscall);
      stack.addMulticastSource(group, source);
      this.memberships.set(group, { mode: 'include', sources: new Set([source]) });
      return;
    }
    if (membership.mode === 'exclude') {
      // The any-source membership gives way to this source, with no moment without the group.
      stack.addMulticastSource(group, source);
      stack.leaveMulticastGroup(group);
      membership.mode = 'include';
      membership.sources.add(source);
      return;
    }
    if (membership.sources.has(source)) throw systemError('EADDRNOTAVAIL', syscall);
    if (membership.sources.size >= (typeof group === 'number' ? MAX_IPV4_SOURCES : MAX_IPV6_SOURCES)) {
      stack.counters.MulticastMembershipLimits++;
      throw systemError('ENOBUFS', syscall);
    }
    stack.addMulticastSource(group, source);
    membership.sources.add(source);
  }

  /**
   * Drops one source of a source-specific membership (IP_DROP_SOURCE_MEMBERSHIP); the last one leaves the
   * group. EINVAL when this socket has no membership of the group, EADDRNOTAVAIL for a source it does
   * not have (a membership for every source is then left with none, as on Linux).
   */
  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    this.healthCheck();
    validateString(sourceAddress, 'sourceAddress');
    validateString(groupAddress, 'groupAddress');
    const syscall = 'dropSourceSpecificMembership';
    const [group, source] = this.groupAndSource(sourceAddress, groupAddress, interfaceAddress, syscall);
    const stack = this.context.stack;
    const membership = this.memberships.get(group);
    if (membership === undefined) throw systemError('EINVAL', syscall);
    if (membership.mode === 'exclude') {
      // Linux's ip_mc_source switches the empty filter to INCLUDE before looking for the source.
      stack.leaveMulticastGroup(group);
      membership.mode = 'include';
    }
    if (!membership.sources.has(source)) throw systemError('EADDRNOTAVAIL', syscall);
    stack.dropMulticastSource(group, source);
    membership.sources.delete(source);
    if (membership.sources.size === 0) this.memberships.delete(group);
  }

  /** Node's deprecated explicit form: sendto(msg, offset, length, port, address[, callback]). */
  sendto(
    msg: Uint8Array | string,
    offset: number,
    length: number,
    port: number,
    address: string,
    callback?: SendCallback,
  ): void {
    validateNumber(offset, 'offset');
    validateNumber(length, 'length');
    validateNumber(port, 'port');
    validateString(address, 'address');
    this.send(msg, offset, length, port, address, callback);
  }

  /** `await using socket = ...`: closes the socket (if open) and waits for 'close'. */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.close(resolve));
  }

  /**
   * SO_RCVBUF, as Linux keeps it: the size asked for (at most net.core.rmem_max) doubled, at least
   * SOCK_MIN_RCVBUF. The UDP layer queues nothing, so the size is reported, not enforced.
   */
  setRecvBufferSize(size: number): void {
    this.bufferSizeCheck(size, 'uv_recv_buffer_size');
    if (size !== 0) this.recvBufferSize = linuxBufferSize(size, true);
  }

  /** SO_SNDBUF, as Linux keeps it (see setRecvBufferSize). */
  setSendBufferSize(size: number): void {
    this.bufferSizeCheck(size, 'uv_send_buffer_size');
    if (size !== 0) this.sendBufferSize = linuxBufferSize(size, false);
  }

  getRecvBufferSize(): number {
    this.bufferSizeCheck(0, 'uv_recv_buffer_size');
    return this.recvBufferSize;
  }

  getSendBufferSize(): number {
    this.bufferSizeCheck(0, 'uv_send_buffer_size');
    return this.sendBufferSize;
  }

  /** Datagrams are handed to IP at once: nothing ever waits in a send queue. */
  getSendQueueSize(): number {
    return 0;
  }

  getSendQueueCount(): number {
    return 0;
  }

  /** True unless setMulticastLoopback(false) was called (recorded only). */
  get multicastLoopbackEnabled(): boolean {
    return this.multicastLoopback;
  }

  /**
   * Keeps the process alive while the socket is bound (the default). On a stack running in real time this
   * holds Node's event loop as a receiving UDP handle does; on virtual time it is recorded only.
   */
  ref(): this {
    this.unrefWanted = false;
    this.loopHandle?.ref();
    return this;
  }

  /** Lets the process exit while the socket is bound (see ref()). */
  unref(): this {
    this.unrefWanted = true;
    this.loopHandle?.unref();
    return this;
  }

  // -------------------------------------------------------------------------------------------------
  // Node's deprecated internals (DEP0112), still read by some libraries: the same values, the same warning.

  // Node lets each be assigned too (with the same warning); tcpts has no handle to replace.
  get _handle(): null {
    deprecated('_handle');
    return null;
  }

  set _handle(_value: unknown) {
    deprecated('_handle');
  }

  /** 0 unbound, 1 binding, 2 bound (Node's BIND_STATE_* numbers). */
  get _bindState(): 0 | 1 | 2 {
    deprecated('_bindState');
    return BIND_STATE_NUMBERS[this.bindState];
  }

  set _bindState(value: number) {
    deprecated('_bindState');
    this.bindState = BIND_STATES[value] ?? 'unbound';
  }

  get _queue(): Array<() => void> | undefined {
    deprecated('_queue');
    return this.queue;
  }

  set _queue(value: Array<() => void> | undefined) {
    deprecated('_queue');
    this.queue = value ?? undefined;
  }

  get _receiving(): boolean {
    deprecated('_receiving');
    return this.receiving;
  }

  set _receiving(value: boolean) {
    deprecated('_receiving');
    this.receiving = Boolean(value);
  }

  get _reuseAddr(): boolean | undefined {
    deprecated('_reuseAddr');
    return this.options.reuseAddr;
  }

  set _reuseAddr(value: boolean | undefined) {
    deprecated('_reuseAddr');
    this.options.reuseAddr = value ?? undefined;
  }

  _healthCheck(): void {
    deprecated('_healthCheck()');
    this.healthCheck();
  }

  /** Stops delivering datagrams (they are dropped from now on), as Node's recvStop on the handle. */
  _stopReceiving(): void {
    deprecated('_stopReceiving()');
    this.receiving = false;
  }

  private onMessage(payload: Uint8Array, info: UdpMessageInfo): void {
    if (!this.receiving) return;
    // A source-specific membership of this socket filters what it receives of the group (Linux's
    // ip_mc_sf_allow / inet6_mc_check); a group it has no membership of arrives as the host accepts it.
    if (info.destination === 'multicast') {
      const membership = this.memberships.get(info.localAddress);
      if (membership?.mode === 'include' && !membership.sources.has(info.address)) return;
    }
    // A copy the application owns (the payload is a view into the received frame).
    const msg = Buffer.from(payload);
    const rinfo: RemoteInfo = {
      ...this.addressText(info.address),
      port: info.port,
      size: info.size,
    };
    try {
      this.emit('message', msg, rinfo);
    } catch (error) {
      // Surface the application's exception as Node would (uncaught), not inside the UDP layer.
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private flushQueue(): void {
    const queue = this.queue;
    this.queue = undefined;
    if (queue === undefined) return;
    for (const work of queue) work();
  }

  /**
   * The bound socket a TTL setter changes, once `ttl` is checked as Node checks it: its type
   * (ERR_INVALID_ARG_TYPE), then that the socket is bound (EBADF), then the range `min`-255 (EINVAL).
   */
  private ttlSetter(ttl: number, min: number, syscall: string): UdpSocket {
    validateNumber(ttl, 'ttl');
    const udp = this.bound(syscall);
    const value = Math.trunc(ttl);
    if (!(value >= min && value <= 255)) throw systemError('EINVAL', syscall);
    return udp;
  }

  /** Node's bufferSize(): a size that is not a uint32 is refused; an unbound socket has none (EBADF). */
  private bufferSizeCheck(size: unknown, syscall: string): void {
    if ((size as number) >>> 0 !== size) {
      throw nodeError('ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer', TypeError);
    }
    if (this.udp === undefined) {
      throw nodeSystemError(
        'ERR_SOCKET_BUFFER_SIZE',
        'Could not get or set buffer size',
        syscall,
        'EBADF',
        errnoNumber('EBADF'),
        'bad file descriptor',
      );
    }
  }

  /**
   * An IPv4 group (224/4, IP_ADD_MEMBERSHIP) or an IPv6 one (ff00::/8, IPV6_JOIN_GROUP), as libuv picks
   * the option by the group's family; the interface, when given, must be an address of that family (an
   * IPv6 scope such as '::%eth0' is taken as any interface). EINVAL for anything else; ENOPROTOOPT for an
   * IPv6 group on a udp4 socket (an IPv6 option on an IPv4 socket).
   */
  private groupAddress(text: string, interfaceAddress: string | undefined, syscall: string): IpAddress {
    const v4 = parseIpv4(String(text));
    const group: IpAddress | undefined = v4 ?? parseIpv6(String(text));
    if (group === undefined) throw systemError('EINVAL', syscall);
    this.checkGroup(group, interfaceAddress, syscall);
    return group;
  }

  /** The group and source of a source-specific membership: the source is of the group's family. */
  private groupAndSource(
    sourceText: string,
    groupText: string,
    interfaceAddress: string | undefined,
    syscall: string,
  ): [IpAddress, IpAddress] {
    const v4 = parseIpv4(groupText);
    const group: IpAddress | undefined = v4 ?? parseIpv6(groupText);
    if (group === undefined) throw systemError('EINVAL', syscall);
    const source = typeof group === 'number' ? parseIpv4(sourceText) : parseIpv6(sourceText);
    if (source === undefined) throw systemError('EINVAL', syscall);
    this.checkGroup(group, interfaceAddress, syscall);
    return [group, source];
  }

  private checkGroup(group: IpAddress, interfaceAddress: string | undefined, syscall: string): void {
    if (interfaceAddress !== undefined) {
      const iface = String(interfaceAddress);
      const valid =
        typeof group === 'number'
          ? parseIpv4(iface) !== undefined
          : parseIpv6(iface.split('%')[0]!) !== undefined;
      if (!valid) throw systemError('EINVAL', syscall);
    }
    if (typeof group === 'bigint' && this.type === 'udp4') throw systemError('ENOPROTOOPT', syscall);
    if (typeof group === 'number' ? group >>> 28 !== 0xe : !isIpv6Multicast(group))
      throw systemError('EINVAL', syscall);
  }

  /** ENOBUFS (ENOMEM for IPv6) when this socket holds as many groups as it may. */
  private checkMembershipCount(group: IpAddress, syscall: string): void {
    let count = 0;
    for (const held of this.memberships.keys()) if (typeof held === typeof group) count++;
    if (typeof group === 'number' ? count >= MAX_IPV4_MEMBERSHIPS : count >= MAX_IPV6_MEMBERSHIPS) {
      this.context.stack.counters.MulticastMembershipLimits++;
      throw systemError(typeof group === 'number' ? 'ENOBUFS' : 'ENOMEM', syscall);
    }
  }

  /** Gives back to the stack what `membership` held of `group`. */
  private release(group: IpAddress, membership: Membership): void {
    const stack = this.context.stack;
    if (membership.mode === 'exclude') stack.leaveMulticastGroup(group);
    else for (const source of membership.sources) stack.dropMulticastSource(group, source);
  }

  private bound(syscall: string): UdpSocket {
    this.healthCheck();
    if (this.udp === undefined) throw systemError('EBADF', syscall);
    return this.udp;
  }

  private healthCheck(): void {
    if (this.closed) throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
  }

  /** Resolves `host` asynchronously (as Node's lookup), through the socket's or the API's lookup. */
  private resolve(
    host: string,
    callback: (error: Error | null, ip: IpAddress | undefined, text: string) => void,
  ): void {
    lookupHost(
      host,
      this.options.lookup ?? this.context.lookup,
      (error, ip, text) => {
        process.nextTick(() => callback(error, ip, text));
      },
      this.type === 'udp6' ? 6 : 4,
    );
  }

  private loopbackText(): string {
    return this.type === 'udp6' ? '::1' : '127.0.0.1';
  }

  /**
   * An address as Node reports it on this socket: a udp6 socket sees everything as IPv6, IPv4 peers of a
   * dual-stack socket as IPv4-mapped addresses (RFC 4291 §2.5.5.2), as the kernel's AF_INET6 sockaddr.
   */
  private addressText(address: IpAddress): { address: string; family: 'IPv4' | 'IPv6' } {
    if (this.type === 'udp4') return { address: ipAddressToString(address), family: 'IPv4' };
    const v6 = typeof address === 'bigint' ? address : ipv4MappedIpv6(address);
    return { address: ipv6ToString(v6), family: 'IPv6' };
  }
}

const BIND_STATE_NUMBERS = { unbound: 0, binding: 1, bound: 2 } as const;
const BIND_STATES: Readonly<Record<number, BindState>> = { 0: 'unbound', 1: 'binding', 2: 'bound' };

let warnedDep0112 = false;

/** Node warns once per process for all of DEP0112 (one deprecation code). */
function deprecated(name: string): void {
  if (warnedDep0112) return;
  warnedDep0112 = true;
  process.emitWarning(`Socket.prototype.${name} is deprecated`, 'DeprecationWarning', 'DEP0112');
}

/** Node's sliceBuffer: offset and length as uint32, ERR_BUFFER_OUT_OF_BOUNDS past the end. */
function slice(message: unknown, offset: unknown, length: unknown): unknown {
  if (typeof message === 'string') message = Buffer.from(message);
  else if (!ArrayBuffer.isView(message)) throw invalidArgType('buffer', MESSAGE_TYPES, message);
  const view = message as ArrayBufferView;
  const start = (offset as number) >>> 0;
  const count = (length as number) >>> 0;
  if (start > view.byteLength) throw outOfBounds('offset');
  if (start + count > view.byteLength) throw outOfBounds('length');
  return Buffer.from(view.buffer, view.byteOffset + start, count);
}

function outOfBounds(name: string): Error {
  return nodeError('ERR_BUFFER_OUT_OF_BOUNDS', `"${name}" is outside of buffer bounds`, RangeError);
}

/** What Linux reports for a socket buffer size asked for: doubled, within its floor and ceiling. */
function linuxBufferSize(size: number, receive: boolean): number {
  const floor = receive ? MIN_RECV_BUFFER_SIZE : MIN_SEND_BUFFER_SIZE;
  return Math.max(floor, Math.min(size, MAX_REQUESTED_BUFFER_SIZE) * 2);
}

function toBufferList(message: unknown): Buffer[] {
  const one = (item: unknown): Buffer | undefined => {
    if (typeof item === 'string') return Buffer.from(item);
    if (ArrayBuffer.isView(item)) return Buffer.from(item.buffer, item.byteOffset, item.byteLength);
    return undefined;
  };
  if (Array.isArray(message)) {
    const list: Buffer[] = [];
    for (const item of message) {
      const buffer = one(item);
      if (buffer === undefined) throw invalidArgType('buffer list arguments', MESSAGE_TYPES, message);
      list.push(buffer);
    }
    if (list.length === 0) list.push(Buffer.alloc(0));
    return list;
  }
  const buffer = one(message);
  if (buffer === undefined) throw invalidArgType('buffer', MESSAGE_TYPES, message);
  return [buffer];
}
