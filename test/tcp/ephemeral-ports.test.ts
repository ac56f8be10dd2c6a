/**
 * Ephemeral ports by 4-tuple (RFC 6056 §2.1): a port in use toward one destination serves any other, so
 * a host opens far more than 16,384 connections; EADDRNOTAVAIL comes only when every port is taken toward
 * that very destination (TIME-WAIT included), and is counted. The range is a named limit.
 */
import { describe, expect, it } from 'vitest';
import type { TcpError } from '../../src/tcp/errors.js';
import type { TcpLayer } from '../../src/tcp/tcp-layer.js';
import { pattern } from './dialogue.js';
import { FakeNetwork, ip } from './network.js';

const A = ip('10.0.0.2');
const B = ip('10.0.0.3');

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (error) {
    return (error as TcpError).code;
  }
}

function portsTo(layer: TcpLayer, remoteAddress: number, remotePort: number, count: number): number[] {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(layer.connect({ remoteAddress, remotePort }).local.port);
  return ports;
}

describe('ephemeral ports by 4-tuple (RFC 6056)', () => {
  it('a range of 10 ports: 10 connections per destination, the same ports reused toward each', () => {
    const net = new FakeNetwork();
    net.drop = () => true;
    const host = net.addHost(['10.0.0.1'], { limits: { ephemeralPortMin: 40000, ephemeralPortMax: 40009 } });
    const toA80 = portsTo(host, A, 80, 10);
    expect([...toA80].sort()).toEqual([...Array(10).keys()].map((i) => 40000 + i));
    // Exhausted toward A:80 only.
    expect(errorCode(() => host.connect({ remoteAddress: A, remotePort: 80 }))).toBe('EADDRNOTAVAIL');
    expect(host.counters.ephemeralPortsExhausted).toBe(1);
    // The same ten ports serve A:81 and B:80.
    expect(new Set(portsTo(host, A, 81, 10))).toEqual(new Set(toA80));
    expect(new Set(portsTo(host, B, 80, 10))).toEqual(new Set(toA80));
    expect(host.connectionCount).toBe(30);
    // A listener's port is never picked for a connection.
    const net2 = new FakeNetwork();
    net2.drop = () => true;
    const small = net2.addHost(['10.0.0.1'], {
      limits: { ephemeralPortMin: 40000, ephemeralPortMax: 40001 },
    });
    small.listen({ port: 40000 });
    expect(portsTo(small, A, 80, 1)).toEqual([40001]);
    expect(errorCode(() => small.connect({ remoteAddress: A, remotePort: 80 }))).toBe('EADDRNOTAVAIL');
  });

  it('ports in TIME-WAIT block only their own destination', () => {
    const net = new FakeNetwork();
    const limits = { ephemeralPortMin: 40000, ephemeralPortMax: 40003 };
    const client = net.addHost(['10.0.0.1'], { limits });
    const server = net.addHost(['10.0.0.2']);
    server.listen({ port: 80 }).on('connection', (c) => c.on('end', () => c.close(net.clock.now())));
    for (let i = 0; i < 4; i++) {
      const conn = client.connect({ remoteAddress: A, remotePort: 80 });
      conn.on('connected', () => {
        conn.send(pattern(10), net.clock.now());
        conn.close(net.clock.now());
      });
    }
    net.run(1000);
    // The client closed first: its four ports wait in TIME-WAIT (2 MSL), as compact records.
    expect([client.timeWaitCount, client.connections().length]).toEqual([4, 0]);
    expect(errorCode(() => client.connect({ remoteAddress: A, remotePort: 80 }))).toBe('EADDRNOTAVAIL');
    expect(portsTo(client, A, 443, 4).length).toBe(4);
    expect(portsTo(client, B, 80, 4).length).toBe(4);
    expect(client.counters.ephemeralPortsExhausted).toBe(1);
  });

  it('17,000 connections to different destination ports from the default range of 16,384 ports', () => {
    const net = new FakeNetwork();
    net.drop = () => true;
    const host = net.addHost(['10.0.0.1']);
    const used = new Set<number>();
    for (let port = 1; port <= 17_000; port++) {
      used.add(host.connect({ remoteAddress: port % 2 === 0 ? A : B, remotePort: port }).local.port);
    }
    expect(Math.min(...used)).toBeGreaterThanOrEqual(49152);
    expect(host.connectionCount).toBe(17_000);
    expect(host.counters.ephemeralPortsExhausted).toBe(0);
    // Ports were reused across destinations: fewer distinct ports than connections.
    expect(used.size).toBeLessThanOrEqual(16_384);
    host.shutdown();
  });

  it('the range is checked: EINVAL outside 1-65535 or reversed', () => {
    const net = new FakeNetwork();
    expect(
      errorCode(() => net.addHost(['10.0.0.1'], { limits: { ephemeralPortMin: 0, ephemeralPortMax: 10 } })),
    ).toBe('EINVAL');
    expect(
      errorCode(() =>
        net.addHost(['10.0.0.1'], { limits: { ephemeralPortMin: 500, ephemeralPortMax: 400 } }),
      ),
    ).toBe('EINVAL');
  });
});
