/**
 * Numbers an outsider must not predict (TCP ISNs, ephemeral ports, IPv4 IDs) are keyed by a secret from
 * crypto.getRandomValues, never by the seeded randomness: two stacks with the same name and seed — as
 * every `tcpts nc` was, named 'tcpts' — pick unrelated ones. A simulation injects its own secret, so its
 * runs still repeat. IPv4 IDs count per flow (RFC 7739 §5.3), not with one global counter.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { decode, harness, ip, PEER_IP } from './harness.js';
import { takeSegments } from './tcp-peer.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The SYN a stack named 'tcpts' with seed 1 (and `secret`, when given) sends to PEER_IP:80. */
function firstSyn(secret?: Uint8Array) {
  const h = harness({ stack: { name: 'tcpts', seed: 1, secret } });
  h.stack.tcp.connect({ remoteAddress: PEER_IP, remotePort: 80 });
  const [syn] = takeSegments(h);
  return syn!;
}

describe('stack secrets', () => {
  it('a stack draws its secret from crypto.getRandomValues unless one is injected', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const drawn = harness({ stack: { name: 'tcpts', seed: 1 } });
    expect(drawn.stack.secret.fromCrypto).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    expect((spy.mock.calls[0]![0] as Uint8Array).length).toBe(32);
    spy.mockClear();
    const injected = harness({ stack: { name: 'x', secret: new Uint8Array(32).fill(9) } });
    expect(injected.stack.secret.fromCrypto).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });

  it('two stacks with the same name and seed pick unrelated ISNs and ephemeral ports', () => {
    const a = firstSyn();
    const b = firstSyn();
    expect(a.seq).not.toBe(b.seq);
    expect(a.srcPort).not.toBe(b.srcPort);
  });

  it('an injected secret makes them repeat exactly; another secret changes them', () => {
    const secret = new Uint8Array(32).fill(7);
    const a = firstSyn(secret);
    expect(firstSyn(secret)).toEqual(a);
    const other = firstSyn(new Uint8Array(32).fill(8));
    expect([other.seq, other.srcPort]).not.toEqual([a.seq, a.srcPort]);
  });

  it('a secret of the wrong length is refused with EINVAL', () => {
    expect(() => harness({ stack: { secret: new Uint8Array(16) } })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  it('a simulation injects each stack’s secret from its seed: the same seed, the same ISN', () => {
    const synOf = (seed: number) => {
      const net = new SimulatedNetwork({ seed, trace: false });
      const a = net.host('a', '10.0.0.1/24');
      const b = net.host('b', '10.0.0.2/24');
      net.link(a, b);
      b.tcp.listen({ port: 80 });
      const conn = a.tcp.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80 });
      expect(a.secret.fromCrypto).toBe(false);
      return [conn.status().iss, conn.local.port];
    };
    expect(synOf(5)).toEqual(synOf(5));
    expect(synOf(5)).not.toEqual(synOf(6));
  });
});

describe('IPv4 identification per flow (RFC 6864, RFC 7739 §5.3)', () => {
  it('each destination’s datagrams count on their own; one flow says nothing about another', () => {
    const h = harness({ stack: { secret: new Uint8Array(32).fill(3) } });
    const far = ip('192.0.2.9');
    const socket = h.stack.udp.bind({ port: 5555 });
    const ids = (): number[] => h.device.take().map((f) => decode(f).ip!.id);
    for (const dst of [PEER_IP, far, PEER_IP, far, PEER_IP]) socket.send(new Uint8Array(8), 9, dst);
    const [p0, f0, p1, f1, p2] = ids();
    // Consecutive within each flow, however the flows interleave.
    expect([p1! - p0!, p2! - p1!, f1! - f0!].map((d) => d & 0xffff)).toEqual([1, 1, 1]);
    // The flows start at unrelated points (keyed offsets), not one after the other.
    expect((f0! - p0!) & 0xffff).not.toBe(1);
    // Another protocol to the same host is another flow: ICMP echo does not advance UDP's counter.
    void h.stack.ping(PEER_IP).catch(() => {});
    h.device.take();
    socket.send(new Uint8Array(8), 9, PEER_IP);
    expect(ids()).toEqual([(p2! + 1) & 0xffff]);
  });
});
