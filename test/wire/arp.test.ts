import { describe, expect, it } from 'vitest';
import {
  ARP_PACKET_LENGTH,
  ARP_REPLY,
  ARP_REQUEST,
  type ArpPacket,
  ArpView,
  emitArp,
  parseArp,
} from '../../src/wire/arp.js';

const request: ArpPacket = {
  operation: ARP_REQUEST,
  senderMac: 0x02000a4d0001,
  senderIp: 0x0a4d0001,
  targetMac: 0,
  targetIp: 0x0a4d0002,
};

function emitted(p: ArpPacket): Uint8Array {
  const buf = new Uint8Array(ARP_PACKET_LENGTH);
  expect(emitArp(p, buf, 0)).toBe(28);
  return buf;
}

describe('ARP (RFC 826, IPv4 over Ethernet)', () => {
  it('emits the RFC 826 layout', () => {
    expect([...emitted(request)]).toEqual([
      0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 10, 77, 0, 1, 10, 77, 0, 1, 0, 0, 0, 0, 0, 0, 10, 77, 0, 2,
    ]);
  });

  it('round-trips requests and replies, ignoring Ethernet padding after the packet', () => {
    const reply: ArpPacket = { ...request, operation: ARP_REPLY, targetMac: 0xffeeddccbbaa };
    for (const p of [request, reply]) {
      const padded = new Uint8Array(46);
      padded.set(emitted(p));
      padded.fill(0xaa, 28);
      expect(parseArp(padded)).toEqual({ ok: true, value: p });
      const view = ArpView.fromBytes(padded);
      expect(view.ok && [view.value.operation, view.value.senderMac, view.value.senderIp]).toEqual([
        p.operation,
        p.senderMac,
        p.senderIp,
      ]);
      expect(view.ok && [view.value.targetMac, view.value.targetIp]).toEqual([p.targetMac, p.targetIp]);
    }
  });

  it('rejects a packet shorter than 28 bytes as truncated', () => {
    const result = parseArp(emitted(request).subarray(0, 27));
    expect(result.ok === false && result.error).toMatchObject({ kind: 'truncated', protocol: 'arp' });
  });

  it('reports another hardware or protocol type as unsupported', () => {
    const hardware = emitted(request);
    hardware[1] = 6; // IEEE 802 networks
    expect(parseArp(hardware)).toMatchObject({ ok: false, error: { kind: 'unsupported', protocol: 'arp' } });
    const protocol = emitted(request);
    protocol[2] = 0x86;
    protocol[3] = 0xdd;
    expect(parseArp(protocol)).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
  });

  it('rejects address lengths other than 6/4 as a bad field', () => {
    const buf = emitted(request);
    buf[5] = 16;
    expect(parseArp(buf)).toMatchObject({ ok: false, error: { kind: 'bad-field' } });
  });

  it('reports operations other than request and reply as unsupported', () => {
    for (const operation of [0, 3, 8]) {
      const buf = emitted({ ...request, operation });
      expect(parseArp(buf)).toMatchObject({ ok: false, error: { kind: 'unsupported' } });
    }
  });
});
