/**
 * The kernel as tcpts's peer: a network namespace of the test's own holding the kernel end of a TAP
 * interface (10.N.M.1/24), with tcpts in this process on the TAP's descriptor as 10.N.M.2. Kernel-side
 * programs (curl, python3, socat, ping, ss) run inside the namespace; nothing touches the host's own
 * interfaces or routes, and `close()` removes the namespace with everything in it.
 */
import { randomInt } from 'node:crypto';
import { createTapHost, type TapHost, type TapHostOptions } from '../../../src/cli/tap-host.js';
import { openTap, tapAvailability } from '../../../src/link/tap/index.js';
import {
  type Completed,
  NetworkNamespace,
  runAsync,
  uniqueInterfaceName,
} from '../../tap/helpers/namespace.js';
import { killAllPrograms, Program } from './program.js';

export const TAP_AVAILABILITY = tapAvailability();

/** Call at the top of a test file: prints why the file's tests are skipped, once. */
export function explainSkip(what: string): boolean {
  if (TAP_AVAILABILITY.ok) return false;
  console.warn(`${what} skipped: ${TAP_AVAILABILITY.reason}`);
  return true;
}

/** Namespaces still open, removed by `removeAllPeers` (afterAll) even when a test failed half-way. */
const open = new Set<KernelPeer>();

export function removeAllPeers(): void {
  killAllPrograms();
  for (const peer of [...open]) peer.close();
}

/** A random 10.x.y.0/24, so parallel test files never share a subnet (clearer captures). */
function randomSubnet(): string {
  return `10.${randomInt(100, 250)}.${randomInt(1, 250)}`;
}

export interface KernelPeerOptions {
  /** Options for tcpts's host on the TAP (everything but the TAP and address). */
  host?: Omit<TapHostOptions, 'tap' | 'ip'>;
  /** Make the kernel side tcpts's default gateway. */
  gateway?: boolean;
  /**
   * IPv6 only on tcpts's side: the host gets `ipv6Address` (a random fd00::/64, ::2) and no IPv4 address;
   * the kernel end gets ::1 of that prefix (`kernelIpv6Address`), with IPv6 enabled and no DAD.
   */
  ipv6Only?: boolean;
  /**
   * Let the kernel create neighbour entries from gratuitous ARP (net.ipv4.conf.IF.arp_accept=1; Linux's
   * default 0 only updates entries it already has), set before tcpts's host comes up.
   */
  arpAccept?: boolean;
}

/** A random ULA /64 prefix (fd00::/8), ending in ':' so '::1' completes an address. */
function randomIpv6Prefix(): string {
  return `fd00:${randomInt(1, 0xffff).toString(16)}:${randomInt(1, 0xffff).toString(16)}:`;
}

/**
 * A second network behind the kernel end of the TAP: the TAP's namespace routes (ip_forward) through a
 * veth pair to another namespace, `farAddress`. The router's side of the veth has MTU `routerMtu`, the far
 * side `farMtu`: with a smaller router MTU, full-sized packets from tcpts meet a bottleneck in the middle
 * of the path (the far host still offers MSS 1460), and the router answers them with ICMP
 * "fragmentation needed" (RFC 1191).
 */
export interface RoutedNetwork {
  readonly namespace: NetworkNamespace;
  readonly farAddress: string;
  readonly routerAddress: string;
}

export class KernelPeer {
  readonly namespace: NetworkNamespace;
  readonly ifname: string;
  /** Kernel side of the link. */
  readonly kernelAddress: string;
  /** tcpts's side. */
  readonly tcptsAddress: string;
  /** With `ipv6Only`: the kernel's IPv6 address on the link, and tcpts's. */
  readonly kernelIpv6Address: string | undefined;
  readonly tcptsIpv6Address: string | undefined;
  readonly host: TapHost;
  private readonly programs = new Set<Program>();
  private readonly extraNamespaces: NetworkNamespace[] = [];
  private closed = false;

  constructor(options: KernelPeerOptions = {}) {
    const subnet = randomSubnet();
    this.kernelAddress = `${subnet}.1`;
    this.tcptsAddress = `${subnet}.2`;
    this.ifname = uniqueInterfaceName();
    const prefix = options.ipv6Only ? randomIpv6Prefix() : undefined;
    this.kernelIpv6Address = prefix === undefined ? undefined : `${prefix}:1`;
    this.tcptsIpv6Address = prefix === undefined ? undefined : `${prefix}:2`;
    this.namespace = NetworkNamespace.create();
    open.add(this);
    try {
      this.namespace.ip('link', 'set', 'lo', 'up');
      // Created here, then moved: the descriptor keeps working after its interface changes namespace.
      const tap = openTap({ name: this.ifname, up: false });
      try {
        this.namespace.adopt(this.ifname, `${this.kernelAddress}/24`);
        if (options.arpAccept === true) {
          this.namespace.exec('sysctl', '-q', '-w', `net.ipv4.conf.${this.ifname}.arp_accept=1`);
        }
        if (prefix !== undefined) {
          this.namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${this.ifname}.disable_ipv6=0`);
          this.namespace.ip('addr', 'add', `${this.kernelIpv6Address}/64`, 'dev', this.ifname, 'nodad');
        }
        this.host = createTapHost({
          ...options.host,
          tap,
          ...(prefix === undefined
            ? { ip: `${this.tcptsAddress}/24`, gateway: options.gateway ? this.kernelAddress : undefined }
            : { ipv6: [`${this.tcptsIpv6Address}/64`] }),
        });
      } catch (error) {
        tap.close();
        throw error;
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Runs a command in the namespace to completion, without blocking the event loop tcpts runs on. */
  run(args: readonly string[], timeoutMs = 60_000): Promise<Completed> {
    return runAsync('ip', ['netns', 'exec', this.namespace.name, ...args], timeoutMs);
  }

  /** Runs a shell command line in the namespace. */
  sh(script: string, timeoutMs = 60_000): Promise<Completed> {
    return this.run(['sh', '-c', script], timeoutMs);
  }

  /** Starts a program in the namespace (a server); `close()` kills it if it is still running. */
  start(args: readonly string[]): Program {
    const program = new Program('ip', ['netns', 'exec', this.namespace.name, ...args]);
    this.programs.add(program);
    return program;
  }

  /** Adds a routed network behind the kernel side (see RoutedNetwork). */
  addRoutedNetwork(routerMtu: number, farMtu: number): RoutedNetwork {
    const far = NetworkNamespace.create();
    this.extraNamespaces.push(far);
    const subnet = randomSubnet();
    const routerEnd = uniqueInterfaceName();
    const farEnd = uniqueInterfaceName();
    this.namespace.ip(
      'link',
      'add',
      routerEnd,
      'mtu',
      String(routerMtu),
      'type',
      'veth',
      'peer',
      'name',
      farEnd,
    );
    this.namespace.ip('link', 'set', farEnd, 'netns', far.name);
    this.namespace.exec('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    this.namespace.ip('addr', 'add', `${subnet}.1/24`, 'dev', routerEnd);
    this.namespace.ip('link', 'set', routerEnd, 'up');
    far.ip('link', 'set', 'lo', 'up');
    far.ip('link', 'set', farEnd, 'mtu', String(farMtu));
    far.ip('addr', 'add', `${subnet}.2/24`, 'dev', farEnd);
    far.ip('link', 'set', farEnd, 'up');
    far.ip('route', 'add', 'default', 'via', `${subnet}.1`);
    return { namespace: far, farAddress: `${subnet}.2`, routerAddress: `${subnet}.1` };
  }

  /** Starts a program in a namespace added by addRoutedNetwork; `close()` kills it. */
  startIn(namespace: NetworkNamespace, args: readonly string[]): Program {
    const program = new Program('ip', ['netns', 'exec', namespace.name, ...args]);
    this.programs.add(program);
    return program;
  }

  /** Closes tcpts's host, kills the programs started, and deletes the namespace. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    for (const program of this.programs) program.kill('SIGKILL');
    try {
      this.host?.close();
    } finally {
      this.namespace.delete();
      for (const namespace of this.extraNamespaces) namespace.delete();
    }
  }
}

// --- Kernel-side programs, run as `python3 -c PROGRAM ADDRESS PORT [ARGS...]` -----------------------------

/**
 * A kernel UDP client: connects to ADDRESS:PORT and, for each size N in ARGS, sends N bytes of the
 * pattern `(i * 7 + N) & 255` and expects the same bytes back; prints 'ok N LENGTH' (or 'MISMATCH ...')
 * per datagram.
 */
export const UDP_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
for n in map(int, sys.argv[3:]):
    m = bytes((i * 7 + n) & 255 for i in range(n))
    s.send(m)
    r = s.recv(65535)
    print('ok' if r == m else 'MISMATCH', n, len(r), flush=True)
`;

/** A kernel UDP echo server on ADDRESS:PORT; prints 'ready' once bound. */
export const UDP_ECHO_SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
`;

/**
 * A kernel TCP server for one connection: listens on ADDRESS:PORT, prints 'listening' once it does,
 * accepts one connection as `c` (the listener is `l`, still open), then runs `body`, Python at the top
 * level. `modules` are imported besides socket and sys.
 */
export function oneConnectionServer(body: string, modules: readonly string[] = []): string {
  return `
import ${['socket', 'sys', ...modules].sort().join(', ')}
l = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
print('listening', flush=True)
c, _ = l.accept()
${body}`;
}
