/**
 * A DNS stub resolver (RFC 1035 §7, RFC 1123 §6.1.3) for a tcpts stack, in browsers and Node: A queries over
 * UDP to the configured servers in turn, retried on timeout, repeated over TCP when the answer comes back
 * truncated (RFC 7766 §5), answers cached for their TTL and names that do not exist for 30 s (RFC 2308
 * §5, without the SOA's own minimum). A static hosts table is consulted first. `lookup` has Node's
 * `dns.lookup` signature, so `createNetApi(stack, { lookup: resolver.lookup })` makes
 * `net.connect({ host: 'name' })` resolve through it.
 *
 * Errors carry Node's dns codes: ENOTFOUND (no such name or no A record), ETIMEOUT (no server answered),
 * ESERVFAIL / EREFUSED (the server's RCODE), EBADRESP (an answer that does not parse).
 *
 * Bounds (named, counted): `maxCacheEntries` (default 512, oldest evicted), `maxPendingQueries` (default
 * 256 in flight; more fail with EAGAIN).
 */
import { type HostTable, type LookupFunction, resolveHostName } from '../api/host-names.js';
import { openTcpStream } from '../api/streams/tcp-stream.js';
import type { Stack } from '../stack.js';
import type { UdpSocket } from '../udp/udp-socket.js';
import { ipv4ToString, parseIpv4 } from '../wire/address.js';
import { ipAddressToString } from '../wire/ipv6-address.js';
import {
  DNS_RCODE_NXDOMAIN,
  DNS_TYPE_A,
  type DnsMessage,
  encodeDnsQuery,
  parseDnsMessage,
} from './dns-message.js';

export interface DnsResolverOptions {
  /** Servers as 'a.b.c.d' or 'a.b.c.d:port', asked in order. */
  servers: readonly string[];
  /** Names answered without a query. */
  hosts?: HostTable;
  /** Per attempt, ms. Default 2000 (glibc's resolv.conf default is 5000). */
  timeoutMs?: number;
  /** Rounds over the server list. Default 2 (glibc: 2). */
  attempts?: number;
  maxCacheEntries?: number;
  maxPendingQueries?: number;
}

export interface DnsResolverCounters {
  queries: number;
  cacheHits: number;
  timeouts: number;
  tcpRetries: number;
  badResponses: number;
  cacheEvictions: number;
}

interface CacheEntry {
  addresses: string[];
  expiresAt: number;
}

const NEGATIVE_TTL_S = 30;

function dnsError(code: string, hostname: string): Error & { code: string; hostname: string } {
  return Object.assign(new Error(`query ${code} ${hostname}`), { code, hostname, syscall: 'queryA' });
}

export class DnsResolver {
  readonly counters: DnsResolverCounters = {
    queries: 0,
    cacheHits: 0,
    timeouts: 0,
    tcpRetries: 0,
    badResponses: 0,
    cacheEvictions: 0,
  };
  private readonly servers: Array<{ address: string; port: number }>;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<number, { from: string; deliver: (message: DnsMessage) => void }>();
  private socket: UdpSocket | undefined;

  constructor(
    private readonly stack: Stack,
    private readonly options: DnsResolverOptions,
  ) {
    this.servers = options.servers.map((text) => {
      const [host, port] = text.split(':');
      if (
        host === undefined ||
        parseIpv4(host) === undefined ||
        (port !== undefined && !/^\d+$/.test(port))
      ) {
        throw Object.assign(new Error(`DNS server must be a.b.c.d[:port], got '${text}'`), {
          code: 'EINVAL',
        });
      }
      return { address: host, port: port === undefined ? 53 : Number(port) };
    });
    if (this.servers.length === 0) throw Object.assign(new Error('no DNS server given'), { code: 'EINVAL' });
  }

  /** The IPv4 addresses of `hostname`. */
  async resolve4(hostname: string): Promise<string[]> {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    const fixed = resolveHostName(name, this.options.hosts);
    if (fixed !== undefined) return [ipv4ToString(fixed)];
    const now = this.stack.clock.now();
    const cached = this.cache.get(name);
    if (cached !== undefined && cached.expiresAt > now) {
      this.counters.cacheHits++;
      if (cached.addresses.length === 0) throw dnsError('ENOTFOUND', hostname);
      return cached.addresses;
    }
    const answer = await this.query(name);
    if (answer.rcode === DNS_RCODE_NXDOMAIN) {
      this.remember(name, [], NEGATIVE_TTL_S);
      throw dnsError('ENOTFOUND', hostname);
    }
    if (answer.rcode === 2) throw dnsError('ESERVFAIL', hostname);
    if (answer.rcode === 5) throw dnsError('EREFUSED', hostname);
    if (answer.rcode !== 0) throw dnsError('EBADRESP', hostname);
    const records = answer.answers.filter((r) => r.type === DNS_TYPE_A && r.value !== undefined);
    const addresses = records.map((r) => r.value!);
    const ttl = records.length === 0 ? NEGATIVE_TTL_S : Math.min(...records.map((r) => r.ttl));
    this.remember(name, addresses, ttl);
    if (addresses.length === 0) throw dnsError('ENOTFOUND', hostname);
    return addresses;
  }

  /** `dns.lookup` over this resolver (IPv4 only: family 6 gets ENOTFOUND). */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = options.family === 'IPv6' || options.family === 6 ? 6 : 4;
    if (family === 6) {
      callback(dnsError('ENOTFOUND', hostname), undefined);
      return;
    }
    this.resolve4(hostname).then(
      (addresses) => {
        if (options.all)
          callback(
            null,
            addresses.map((address) => ({ address, family: 4 })),
          );
        else callback(null, addresses[0], 4);
      },
      (error: Error & { code?: string }) => callback(error, undefined),
    );
  };

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.pending.clear();
  }

  private remember(name: string, addresses: string[], ttlSeconds: number): void {
    const max = this.options.maxCacheEntries ?? 512;
    this.cache.delete(name);
    while (this.cache.size >= max) {
      this.cache.delete(this.cache.keys().next().value!);
      this.counters.cacheEvictions++;
    }
    this.cache.set(name, { addresses, expiresAt: this.stack.clock.now() + ttlSeconds * 1000 });
  }

  private async query(name: string): Promise<DnsMessage> {
    if (this.pending.size >= (this.options.maxPendingQueries ?? 256)) throw dnsError('EAGAIN', name);
    const attempts = this.options.attempts ?? 2;
    for (let round = 0; round < attempts; round++) {
      for (const server of this.servers) {
        this.counters.queries++;
        const answer = await this.askUdp(name, server);
        if (answer === undefined) continue;
        if (!answer.truncated) return answer;
        this.counters.tcpRetries++;
        const full = await this.askTcp(name, server).catch(() => undefined);
        if (full !== undefined) return full;
      }
    }
    throw dnsError('ETIMEOUT', name);
  }

  private askUdp(name: string, server: { address: string; port: number }): Promise<DnsMessage | undefined> {
    this.socket ??= this.stack.udp.bind(
      {},
      {
        message: (payload, info) => {
          const message = parseDnsMessage(payload);
          if (message === undefined || !message.response) {
            this.counters.badResponses++;
            return;
          }
          // Only the server asked, with the id and question asked, may answer (RFC 5452 §9.1).
          const waiting = this.pending.get(message.id);
          if (waiting === undefined || waiting.from !== `${ipAddressToString(info.address)}:${info.port}`)
            return;
          waiting.deliver(message);
        },
      },
    );
    const socket = this.socket;
    const id = this.freshId();
    const query = encodeDnsQuery(id, name);
    return new Promise((resolve) => {
      const timer = this.stack.clock.setTimer(this.options.timeoutMs ?? 2000, () => {
        this.pending.delete(id);
        this.counters.timeouts++;
        resolve(undefined);
      });
      this.pending.set(id, {
        from: `${server.address}:${server.port}`,
        deliver: (message) => {
          if (message.questions[0]?.name.toLowerCase() !== name) return;
          timer.cancel();
          this.pending.delete(id);
          resolve(message);
        },
      });
      try {
        socket.send(query, server.port, server.address);
      } catch {
        // No route: the attempt times out like a lost datagram.
      }
    });
  }

  private async askTcp(
    name: string,
    server: { address: string; port: number },
  ): Promise<DnsMessage | undefined> {
    const id = this.freshId();
    const query = encodeDnsQuery(id, name);
    const framed = new Uint8Array(2 + query.length);
    framed[0] = query.length >> 8;
    framed[1] = query.length & 0xff;
    framed.set(query, 2);
    const stream = openTcpStream(this.stack, { host: server.address, port: server.port });
    const writer = stream.writable.getWriter();
    await writer.write(framed);
    await writer.close();
    const reader = stream.readable.getReader();
    let buffer = new Uint8Array(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (value !== undefined) {
        const joined = new Uint8Array(buffer.length + value.length);
        joined.set(buffer);
        joined.set(value, buffer.length);
        buffer = joined;
      }
      if (buffer.length >= 2 && buffer.length >= 2 + ((buffer[0]! << 8) | buffer[1]!)) break;
      if (done) return undefined;
    }
    stream.close();
    const message = parseDnsMessage(buffer.subarray(2, 2 + ((buffer[0]! << 8) | buffer[1]!)));
    if (message === undefined || message.id !== id) {
      this.counters.badResponses++;
      return undefined;
    }
    return message;
  }

  private freshId(): number {
    const bytes = new Uint16Array(1);
    do globalThis.crypto.getRandomValues(bytes);
    while (this.pending.has(bytes[0]!));
    return bytes[0]!;
  }
}
