import { describe, expect, test } from 'vitest';
import { SimulatedNetwork } from '../../src/sim/network.js';
import { ipv4ToString, macToString } from '../../src/wire/address.js';

describe('SimulatedNetwork', () => {
  test('names devices <host>-eth<n>, hands out MACs in order, and configures addresses and gateways', () => {
    const net = new SimulatedNetwork();
    const a = net.host('a', '10.0.1.2/24', { gateway: '10.0.1.1', mtu: 1400 });
    const r = net.router('r');
    const b = net.host('b', '10.0.2.2/24', { gateway: '10.0.2.1' });
    const ar = net.link(a, [r, '10.0.1.1/24']);
    net.link({ stack: r, address: '10.0.2.1/24' }, b, { mtu: 9000 });
    const describe = (s: typeof a) =>
      s.interfaces.map(
        (i) => `${i.name} ${macToString(i.mac)} ${ipv4ToString(i.address)}/${i.prefixLength} mtu ${i.mtu}`,
      );
    expect(describe(a)).toEqual(['a-eth0 02:00:00:00:00:01 10.0.1.2/24 mtu 1400']);
    expect(describe(r)).toEqual([
      'r-eth0 02:00:00:00:00:02 10.0.1.1/24 mtu 1500',
      'r-eth1 02:00:00:00:00:03 10.0.2.1/24 mtu 9000',
    ]);
    expect(describe(b)).toEqual(['b-eth0 02:00:00:00:00:04 10.0.2.2/24 mtu 9000']);
    expect(a.routes.toString()).toBe('10.0.1.0/24 dev a-eth0\ndefault via 10.0.1.1 dev a-eth0');
    expect(r.forwarding).toBe(true);
    expect(a.forwarding).toBe(false);
    expect(ar.name).toBe('a-eth0<->r-eth0');
    expect(net.stack('r')).toBe(r);
  });

  test('mistakes are reported with codes', async () => {
    const net = new SimulatedNetwork();
    const a = net.host('a', '10.0.1.2/24');
    const r = net.router('r');
    expect(() => net.host('a')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => net.link(a, r)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => net.stack('zz')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const other = new SimulatedNetwork().host('x', '10.9.9.9/24');
    expect(() => net.link(other, [r, '10.9.9.1/24'])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    await expect(net.settle(new Promise(() => {}))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  test('a switched LAN: every host reaches every other; the switch learns and stops flooding', async () => {
    const net = new SimulatedNetwork({ seed: 5 });
    const hosts = ['h1', 'h2', 'h3'].map((name, i) => net.host(name, `192.168.1.${i + 1}/24`));
    const lan = net.lan('lan', hosts, { delayMs: 1 });
    const rtts: number[] = [];
    for (const from of hosts) {
      for (const to of hosts) {
        if (from === to) continue;
        const reply = await net.ping(from, to);
        expect(reply.ttl).toBe(64);
        rtts.push(reply.rtt);
      }
    }
    // One way is two 1 ms cables. 8 ms when ARP comes first; 4 ms when the target already learned us
    // from our request to it (h2->h1, h3->h1, h3->h2).
    expect(rtts).toEqual([8, 8, 4, 8, 4, 4]);
    expect(lan.members.map((m) => m.interface.name)).toEqual(['h1-eth0', 'h2-eth0', 'h3-eth0']);
    expect(lan.switch.macTable()).toHaveLength(3);
    expect(lan.switch.counters.flooded).toBe(3); // the three ARP broadcasts, nothing else
  });

  test('the same seed replays the same run, event for event', async () => {
    async function run(seed: number) {
      const net = new SimulatedNetwork({ seed });
      const a = net.host('a', '10.0.0.1/24');
      const b = net.host('b', '10.0.0.2/24');
      net.link(a, b, { delayMs: 3, impairments: { loss: 0.2, duplicate: 0.1, jitterMs: 2 } });
      for (let i = 0; i < 10; i++) await net.ping(a, b, { timeoutMs: 50 }).catch(() => undefined);
      return net.trace.events.map((e) => `${e.time.toFixed(6)} ${e.kind}`).join('\n');
    }
    const one = await run(11);
    expect(await run(11)).toBe(one);
    expect(await run(12)).not.toBe(one);
  });

  test('tracing can be switched off', async () => {
    const net = new SimulatedNetwork({ trace: false });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b);
    await net.ping(a, b);
    expect(net.trace.events).toHaveLength(0);
  });

  test('with checksum offload, in-process links skip transport checksums and still deliver', async () => {
    const net = new SimulatedNetwork({ checksumOffload: true });
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b);
    const got: number[] = [];
    b.udp.bind({ port: 9 }, { message: (p) => got.push(...p) });
    a.udp.bind({}).send(Uint8Array.of(4, 2), 9, '10.0.0.2');
    net.runUntilIdle();
    expect(got).toEqual([4, 2]);
    const sent = net.trace.events.find(
      (e) => e.kind === 'link.sent' && e.from === 'a-eth0' && e.frame[23] === 17,
    );
    if (sent?.kind !== 'link.sent') throw new Error('no UDP frame seen');
    expect([sent.frame[40], sent.frame[41]]).toEqual([0, 0]);
  });
});

describe('Stack.close', () => {
  test('stops timers, fails pending pings and detaches the devices', async () => {
    const net = new SimulatedNetwork();
    const a = net.host('a', '10.0.0.1/24');
    const b = net.host('b', '10.0.0.2/24');
    net.link(a, b, { delayMs: 1 });
    const ping = a.ping('10.0.0.9', { timeoutMs: 10_000 }).catch((e: { code: string }) => e.code);
    net.run(1);
    expect(net.clock.pendingTimers).toBeGreaterThan(0);
    a.close();
    a.close();
    expect(await ping).toBe('ECANCELED');
    net.runUntilIdle();
    expect(net.clock.pendingTimers).toBe(0);
    await expect(a.ping('10.0.0.2')).rejects.toMatchObject({ code: 'ENETUNREACH' });
    expect(() => a.addInterface(net.links[0]!.link.a, { address: '10.0.0.1/24' })).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
    expect(a.interfaces).toHaveLength(0);
    expect(a.udp.sockets()).toHaveLength(0);
  });
});
