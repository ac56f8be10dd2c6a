/**
 * The DNS stub resolver on virtual time against a DNS server on another simulated host (tcpts's own
 * dgram and net, answering from a table): answers, the cache (no second query within the TTL, a new
 * one after it), NXDOMAIN as ENOTFOUND (cached too), a silent server as ETIMEOUT after every attempt,
 * a truncated UDP answer retried over TCP, and `net.connect({ host })` resolving through it.
 */
import { describe, expect, test } from 'vitest';
import '../../src/api/sockets-node.js';
import { createNetApi } from '../../src/api/net/net-api.js';
import { encodeDnsResponse, parseDnsMessage } from '../../src/dns/dns-message.js';
import { DnsResolver } from '../../src/dns/dns-resolver.js';
import { simPair } from '../api/helpers/sim-pair.js';

function dnsServer(pair: ReturnType<typeof simPair>, table: Record<string, string[]>) {
  const seen = { udp: 0, tcp: 0 };
  const answer = (bytes: Uint8Array, truncateOverUdp: boolean): Uint8Array | undefined => {
    const query = parseDnsMessage(bytes);
    if (query === undefined) return undefined;
    const name = query.questions[0]!.name;
    const response = encodeDnsResponse(query, table[name] ?? [], 300);
    if (truncateOverUdp && (table[name]?.length ?? 0) > 2) {
      const cut = encodeDnsResponse(query, [], 300).slice(0, 12 + (bytes.length - 12));
      cut[2]! |= 0x02; // TC
      cut[3] = 0x80; // no error
      return cut;
    }
    return response;
  };
  const udp = pair.server.dgram.createSocket('udp4', (msg, rinfo) => {
    seen.udp++;
    if (table.silent !== undefined && parseDnsMessage(msg)?.questions[0]?.name === 'silent.test') return;
    const reply = answer(msg, true);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  udp.bind(53);
  pair.server.net
    .createServer((socket) => {
      seen.tcp++;
      let buffer = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buffer = Buffer.concat([buffer, d]);
        if (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
          const reply = answer(buffer.subarray(2, 2 + buffer.readUInt16BE(0)), false)!;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          socket.end(Buffer.concat([length, reply]));
        }
      });
    })
    .listen(53);
  return seen;
}

describe('DNS stub resolver', () => {
  test('answers, caches for the TTL, and asks again after it', async () => {
    const pair = simPair();
    const seen = dnsServer(pair, { 'server.test': ['10.0.0.2'] });
    const resolver = new DnsResolver(pair.client, { servers: ['10.0.0.2'] });
    const result = await pair.run(async () => {
      const first = await resolver.resolve4('server.test');
      const second = await resolver.resolve4('SERVER.test.');
      const queriesBefore = seen.udp;
      await pair.delay(301_000);
      await resolver.resolve4('server.test');
      return { first, second, queriesBefore, queriesAfter: seen.udp };
    });
    expect(result.first).toEqual(['10.0.0.2']);
    expect(result.second).toEqual(['10.0.0.2']);
    expect(result.queriesBefore).toBe(1);
    expect(result.queriesAfter).toBe(2);
    expect(resolver.counters.cacheHits).toBe(1);
  });

  test('NXDOMAIN is ENOTFOUND, cached; a silent server is ETIMEOUT after every attempt', async () => {
    const pair = simPair();
    const seen = dnsServer(pair, { silent: [] });
    const resolver = new DnsResolver(pair.client, { servers: ['10.0.0.2'], timeoutMs: 1000, attempts: 2 });
    const codes = await pair.run(async () => {
      const missing = await resolver.resolve4('nope.test').catch((e: Error & { code?: string }) => e.code);
      const again = await resolver.resolve4('nope.test').catch((e: Error & { code?: string }) => e.code);
      const start = pair.now();
      const silent = await resolver.resolve4('silent.test').catch((e: Error & { code?: string }) => e.code);
      return { missing, again, silent, waited: pair.now() - start };
    });
    expect(codes).toEqual({ missing: 'ENOTFOUND', again: 'ENOTFOUND', silent: 'ETIMEOUT', waited: 2000 });
    expect(seen.udp).toBe(3);
    expect(resolver.counters.timeouts).toBe(2);
  });

  test('a truncated UDP answer is asked again over TCP', async () => {
    const pair = simPair();
    const many = ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
    const seen = dnsServer(pair, { 'many.test': many });
    const resolver = new DnsResolver(pair.client, { servers: ['10.0.0.2'] });
    const addresses = await pair.run(() => resolver.resolve4('many.test'));
    expect(addresses).toEqual(many);
    expect(seen).toEqual({ udp: 1, tcp: 1 });
    expect(resolver.counters.tcpRetries).toBe(1);
  });

  test('net.connect({ host }) resolves through it', async () => {
    const pair = simPair();
    dnsServer(pair, { 'echo.test': ['10.0.0.2'] });
    pair.server.net.createServer((s) => s.end('resolved and connected')).listen(7);
    const resolver = new DnsResolver(pair.client, { servers: ['10.0.0.2'] });
    const net = createNetApi(pair.client, { lookup: resolver.lookup });
    const text = await pair.run(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect({ host: 'echo.test', port: 7 });
          let data = '';
          socket.on('data', (d: Buffer) => {
            data += d;
          });
          socket.on('end', () => resolve(`${data} (${socket.remoteAddress})`));
          socket.on('error', reject);
        }),
    );
    expect(text).toBe('resolved and connected (10.0.0.2)');
  });
});
