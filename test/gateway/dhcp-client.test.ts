/**
 * tcpts's DHCP client against the gateway's DHCP server, on virtual time: INIT (DISCOVER, OFFER,
 * REQUEST, ACK) configures the guest stack (address, prefix, default route through the router, so a
 * flow through the gateway works), RENEWING at T1 extends the lease with a unicast REQUEST, RELEASE
 * frees it, INIT-REBOOT gets the old address back without a DISCOVER, and no server is ETIMEDOUT after
 * the RFC 2131 back-off.
 */
import { describe, expect, test } from 'vitest';
import { DhcpClient } from '../../src/dhcp/dhcp-client.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { simGateway } from './helpers/sim-gateway.js';

describe('DHCP client', () => {
  test('INIT binds, the stack reaches through the router, T1 renews, RELEASE frees, INIT-REBOOT comes back', async () => {
    const sim = simGateway({ guestConfigured: false, leaseSeconds: 3600 });
    sim.server.net.createServer((s) => s.end('hello')).listen(80);
    const dhcp = sim.gateway.dhcp!;
    const leases: Array<string | undefined> = [];
    const client = await sim.run(() =>
      DhcpClient.start(sim.guest, sim.link.a, { onChange: (l) => leases.push(l?.address) }),
    );
    expect(client.lease).toEqual({
      address: '10.0.2.15',
      prefixLength: 24,
      router: '10.0.2.2',
      dns: ['10.0.2.3'],
      mtu: 1500,
      server: '10.0.2.2',
      leaseSeconds: 3600,
    });
    expect(dhcp.counters).toMatchObject({ offers: 1, acks: 1 });
    const text = await sim.run(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = sim.guest.net.connect(80, '10.9.0.2');
          let data = '';
          socket.on('data', (d: Buffer) => {
            data += d;
          });
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        }),
    );
    expect(text).toBe('hello');
    // T1 = 1800 s: a unicast REQUEST renews; the address stays.
    await sim.run(() => sim.delay(1_801_000));
    expect(dhcp.counters.acks).toBe(2);
    expect(sim.guest.address).toBeDefined();
    client.release();
    await sim.run(() => sim.delay(100));
    expect(dhcp.counters.releases).toBe(1);
    expect(dhcp.list()).toEqual([]);
    expect(sim.guest.interfaces).toHaveLength(0);
    const again = await sim.run(() =>
      DhcpClient.start(sim.guest, sim.link.a, { requestedAddress: '10.0.2.15' }),
    );
    expect(again.lease?.address).toBe('10.0.2.15');
    expect(dhcp.counters.offers).toBe(1); // INIT-REBOOT: no DISCOVER
    expect(leases).toEqual(['10.0.2.15', '10.0.2.15']);
  });

  test('with no server it gives up after 4 + 8 + 16 + 32 s (+- 1 s each) with ETIMEDOUT', async () => {
    const sim = simGateway({ guestConfigured: false });
    // A link to nowhere: the guest's device has no one on the other end.
    const lonely = new MemoryLink({
      clock: sim.network.clock,
      a: { name: 'g1', mac: 0x020000000099 },
      b: { name: 'x', mac: 0x020000000098 },
    });
    const start = sim.network.clock.now();
    const code = await sim.run(() =>
      DhcpClient.start(sim.guest, lonely.a).then(
        () => 'bound',
        (e: Error & { code?: string }) => e.code,
      ),
    );
    expect(code).toBe('ETIMEDOUT');
    const waited = sim.network.clock.now() - start;
    expect(waited).toBeGreaterThanOrEqual(60_000 - 4000);
    expect(waited).toBeLessThanOrEqual(60_000 + 4000);
  });
});
