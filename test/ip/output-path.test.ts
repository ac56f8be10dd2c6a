/**
 * IPv4 output reuses the path of the last datagram (interface, next hop, source, MTU) for the next one
 * to the same destination: every change that decides a path (a route, an address, a learned path MTU)
 * takes effect on the very next datagram. Observed on the wire: the destination MAC (next hop), the
 * source address, fragmentation, and the send's verdict.
 */
import { describe, expect, it } from 'vitest';
import type { IpSendOptions } from '../../src/seams.js';
import { IP_PROTOCOL_UDP } from '../../src/wire/ipv4.js';
import { decode, GATEWAY_MAC, type Harness, HOST_IP, harness, ip, PEER_IP, PEER_MAC } from './harness.js';

const REMOTE = ip('192.0.2.9');

function send(h: Harness, options: Partial<IpSendOptions>, length = 100): string {
  return h.stack.ip.send({ dst: REMOTE, protocol: IP_PROTOCOL_UDP, ...options }, new Uint8Array(length));
}

/** Destination MAC, source address and total length of each frame sent since the last call. */
function sent(h: Harness): [number, number, number][] {
  return h.device.take().map((frame) => {
    const d = decode(frame);
    return [d.dstMac, d.ip!.src, d.ip!.totalLength];
  });
}

describe('IPv4 output path reuse', () => {
  it('a route added or removed between two datagrams moves the second to its next hop', () => {
    const h = harness();
    expect(send(h, {})).toBe('ok');
    expect(send(h, {})).toBe('ok');
    const route = h.stack.routes.add({ destination: '192.0.2.0/24', gateway: '10.0.0.2' });
    expect(send(h, {})).toBe('ok');
    h.stack.routes.remove(route);
    expect(send(h, {})).toBe('ok');
    expect(sent(h)).toEqual([
      [GATEWAY_MAC, HOST_IP, 120],
      [GATEWAY_MAC, HOST_IP, 120],
      [PEER_MAC, HOST_IP, 120],
      [GATEWAY_MAC, HOST_IP, 120],
    ]);
  });

  it('an address removed and another added: the old source is refused and the new one used at once', () => {
    const h = harness();
    expect(send(h, { dst: PEER_IP, src: HOST_IP })).toBe('ok');
    expect(send(h, { dst: PEER_IP })).toBe('ok');
    h.stack.removeInterface(h.iface);
    expect(send(h, { dst: PEER_IP, src: HOST_IP })).toBe('EADDRNOTAVAIL');
    expect(send(h, { dst: PEER_IP })).toBe('ENETUNREACH');
    const iface = h.stack.addInterface(h.device, { address: '10.0.0.5/24' });
    iface.arp.addStatic(PEER_IP, PEER_MAC);
    expect(send(h, { dst: PEER_IP, src: HOST_IP })).toBe('EADDRNOTAVAIL');
    expect(send(h, { dst: PEER_IP })).toBe('ok');
    expect(sent(h)).toEqual([
      [PEER_MAC, HOST_IP, 120],
      [PEER_MAC, HOST_IP, 120],
      [PEER_MAC, ip('10.0.0.5'), 120],
    ]);
  });

  it('a path MTU learned between two datagrams applies to the second, and so does its clearing', () => {
    const h = harness();
    expect(send(h, { dontFragment: true }, 1400)).toBe('ok');
    expect(h.stack.ip.learnPathMtu(REMOTE, 1000)).toBe(1000);
    expect(send(h, { dontFragment: true }, 1400)).toBe('EMSGSIZE');
    expect(send(h, {}, 1400)).toBe('ok');
    h.stack.ip.pathMtu.clear();
    expect(send(h, { dontFragment: true }, 1400)).toBe('ok');
    expect(sent(h).map(([, , length]) => length)).toEqual([1420, 996, 444, 1420]);
  });

  it('a learned path MTU ends when it expires, on the first datagram after', () => {
    const h = harness();
    h.stack.ip.learnPathMtu(REMOTE, 1000);
    expect(send(h, { dontFragment: true }, 1400)).toBe('EMSGSIZE');
    h.clock.advance(10 * 60_000);
    expect(send(h, { dontFragment: true }, 1400)).toBe('ok');
    expect(sent(h).map(([, , length]) => length)).toEqual([1420]);
  });
});
