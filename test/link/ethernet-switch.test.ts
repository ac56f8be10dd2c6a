import { describe, expect, it } from 'vitest';
import type { NetworkDevice } from '../../src/link/device.js';
import { EthernetSwitch } from '../../src/link/ethernet-switch.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { numberedFrame, seqOf } from './link-fixtures.js';
import { MAC_A, MAC_B, MAC_BROADCAST, MAC_C } from './sample-frames.js';

const MAC_D = 0x02_00_00_00_00_0d;

interface Lan {
  clock: VirtualClock;
  sw: EthernetSwitch;
  hosts: Record<'A' | 'B' | 'C', NetworkDevice>;
  /** Frame numbers each host received. */
  got: Record<'A' | 'B' | 'C', number[]>;
  frames: Record<'A' | 'B' | 'C', Uint8Array[]>;
}

function makeLan(agingTimeMs?: number): Lan {
  const clock = new VirtualClock();
  const sw = new EthernetSwitch({ clock, name: 'sw0', seed: 1, agingTimeMs });
  const got = { A: [] as number[], B: [] as number[], C: [] as number[] };
  const frames = { A: [] as Uint8Array[], B: [] as Uint8Array[], C: [] as Uint8Array[] };
  const macs = { A: MAC_A, B: MAC_B, C: MAC_C };
  const hosts = {} as Record<'A' | 'B' | 'C', NetworkDevice>;
  for (const name of ['A', 'B', 'C'] as const) {
    const port = sw.addPort({ name, mac: macs[name], impairments: { delayMs: 1 } });
    port.device.setReceiver((frame) => {
      got[name].push(seqOf(frame));
      frames[name].push(frame);
    });
    hosts[name] = port.device;
  }
  return { clock, sw, hosts, got, frames };
}

describe('EthernetSwitch', () => {
  it('floods unknown unicast, learns sources, then forwards to one port only', () => {
    const lan = makeLan();
    lan.hosts.A.send(numberedFrame(1, 100, MAC_A, MAC_B)); // B unknown: flooded to B and C
    lan.clock.runUntilIdle();
    expect(lan.got).toEqual({ A: [], B: [1], C: [1] });
    lan.hosts.B.send(numberedFrame(2, 100, MAC_B, MAC_A)); // A learned: only A
    lan.clock.runUntilIdle();
    expect(lan.got).toEqual({ A: [2], B: [1], C: [1] });
    lan.hosts.A.send(numberedFrame(3, 100, MAC_A, MAC_B)); // B learned now
    lan.clock.runUntilIdle();
    expect(lan.got).toEqual({ A: [2], B: [1, 3], C: [1] });
    expect(lan.sw.counters).toEqual({ received: 3, forwarded: 2, flooded: 1, filtered: 0, runts: 0 });
    expect(lan.sw.macTable().map((e) => [e.mac, e.port])).toEqual([
      [MAC_A, 1],
      [MAC_B, 2],
    ]);
    // host -> switch (1 ms) + switch -> host (1 ms)
    expect(lan.clock.now()).toBe(6);
  });

  it('floods broadcast to every port but the ingress port, each receiver getting its own buffer', () => {
    const lan = makeLan();
    lan.hosts.C.send(numberedFrame(7, 100, MAC_C, MAC_BROADCAST));
    lan.clock.runUntilIdle();
    expect(lan.got).toEqual({ A: [7], B: [7], C: [] });
    expect(lan.frames.A[0]).not.toBe(lan.frames.B[0]);
    expect(lan.frames.A[0]).toEqual(lan.frames.B[0]);
  });

  it('filters frames whose destination lives behind the ingress port', () => {
    const lan = makeLan();
    // D is behind port A (say, a hub there): learned from a frame D sends in through A's cable.
    lan.hosts.A.send(numberedFrame(1, 100, MAC_D, MAC_BROADCAST));
    lan.clock.runUntilIdle();
    lan.hosts.A.send(numberedFrame(2, 100, MAC_A, MAC_D));
    lan.clock.runUntilIdle();
    expect(lan.got).toEqual({ A: [], B: [1], C: [1] });
    expect(lan.sw.counters.filtered).toBe(1);
  });

  it('forgets entries after the aging time and follows a station that moved', () => {
    const lan = makeLan(1000);
    lan.hosts.B.send(numberedFrame(1, 100, MAC_B, MAC_BROADCAST));
    lan.clock.runUntilIdle();
    lan.hosts.A.send(numberedFrame(2, 100, MAC_A, MAC_B));
    lan.clock.runUntilIdle();
    expect(lan.got.C).toEqual([1]); // 2 was forwarded to B only
    lan.clock.advance(2000);
    expect(lan.sw.macTable().map((e) => e.mac)).toEqual([]);
    lan.hosts.A.send(numberedFrame(3, 100, MAC_A, MAC_B)); // aged out: flooded again
    lan.clock.runUntilIdle();
    expect(lan.got.C).toEqual([1, 3]);
    // B's MAC now shows up on C's port.
    lan.hosts.C.send(numberedFrame(4, 100, MAC_B, MAC_A));
    lan.clock.runUntilIdle();
    lan.hosts.A.send(numberedFrame(5, 100, MAC_A, MAC_B));
    lan.clock.runUntilIdle();
    expect(lan.got.C).toEqual([1, 3, 5]);
    expect(lan.got.B).toEqual([2, 3]);
  });

  it('never learns a group address as a source', () => {
    const lan = makeLan();
    lan.hosts.A.send(numberedFrame(1, 100, MAC_BROADCAST, MAC_B));
    lan.clock.runUntilIdle();
    expect(lan.sw.macTable()).toEqual([]);
  });

  it('counts runts and drops them', () => {
    const lan = makeLan();
    lan.hosts.A.send(new Uint8Array(10));
    lan.clock.runUntilIdle();
    expect(lan.sw.counters.runts).toBe(1);
    expect(lan.got).toEqual({ A: [], B: [], C: [] });
  });

  it('gives every cable its own impairments', () => {
    const lan = makeLan();
    const sw = lan.sw;
    const port = sw.addPort({
      name: 'D',
      mac: MAC_D,
      switchToHost: { loss: 1 },
      hostToSwitch: { delayMs: 5 },
    });
    const gotD: number[] = [];
    port.device.setReceiver((f) => gotD.push(seqOf(f)));
    port.device.send(numberedFrame(1, 100, MAC_D, MAC_BROADCAST));
    lan.clock.runUntilIdle();
    expect(lan.got.A).toEqual([1]);
    expect(lan.clock.now()).toBe(6); // 5 ms in, 1 ms out
    lan.hosts.A.send(numberedFrame(2, 100, MAC_A, MAC_D));
    lan.clock.runUntilIdle();
    expect(gotD).toEqual([]);
    expect(port.link.counters('b->a').dropped.loss).toBe(1);
    expect(port.link.name).toBe('sw0/D');
    expect(() => sw.addPort({ name: 'D', mac: MAC_D })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('plugs in an existing device and unplugs ports', () => {
    const lan = makeLan();
    const clock = lan.clock;
    const cable = new MemoryLink({
      clock,
      name: 'router-cable',
      a: { name: 'router-eth0', mac: MAC_D },
      b: { name: 'sw0-uplink', mac: 0x02_00_00_00_00_ee },
    });
    const routerGot: number[] = [];
    cable.a.setReceiver((f) => routerGot.push(seqOf(f)));
    const uplink = lan.sw.attachDevice(cable.b);
    cable.a.send(numberedFrame(1, 100, MAC_D, MAC_BROADCAST));
    clock.runUntilIdle();
    expect(lan.got).toEqual({ A: [1], B: [1], C: [1] });
    lan.hosts.B.send(numberedFrame(2, 100, MAC_B, MAC_D));
    clock.runUntilIdle();
    expect(routerGot).toEqual([2]);
    uplink.remove();
    expect(lan.sw.macTable().some((e) => e.mac === MAC_D)).toBe(false);
    lan.hosts.B.send(numberedFrame(3, 100, MAC_B, MAC_BROADCAST));
    clock.runUntilIdle();
    expect(routerGot).toEqual([2]);
    expect(lan.got.A).toEqual([1, 3]);
  });
});
