/**
 * tcpts's DHCP client against the gateway's DHCP server, on virtual time: INIT (DISCOVER, OFFER,
 * REQUEST, ACK) configures the guest stack (address, prefix, default route through the router, so a
 * flow through the gateway works), RENEWING at T1 extends the lease with a unicast REQUEST, RELEASE
 * frees it, INIT-REBOOT gets the old address back without a DISCOVER, and no server is ETIMEDOUT after
 * the RFC 2131 back-off. Against a scripted server: an OFFER without a server identifier is passed over,
 * a NAK to the REQUEST sends the client back to DISCOVER, and a server that NAKs every time ends the
 * acquisition with EPROTO after maxAttempts rounds.
 */
import { describe, expect, test } from 'vitest';
import { DhcpClient } from '../../src/dhcp/dhcp-client.js';
import {
  addressOption,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DHCPACK,
  DHCPNAK,
  DHCPOFFER,
  type DhcpMessage,
  dhcpAddressOption,
  dhcpMessageType,
  emitDhcp,
  OPTION_LEASE_TIME,
  OPTION_MESSAGE_TYPE,
  OPTION_REQUESTED_ADDRESS,
  OPTION_ROUTER,
  OPTION_SERVER_ID,
  OPTION_SUBNET_MASK,
  parseDhcp,
  uint32Option,
} from '../../src/dhcp/dhcp-message.js';
import { MemoryLink } from '../../src/link/memory-link.js';
import { IPV4_BROADCAST, ipv4ToString, MAC_BROADCAST, parseIpv4 } from '../../src/wire/address.js';
import { emitUdpFrame, parseUdpFrame } from '../../src/wire/udp-frame.js';
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

  /** A server played by the test on the far end of a link: `answer` maps each client message to replies. */
  function scriptedServer(answer: (request: DhcpMessage, seen: DhcpMessage[]) => DhcpMessage[]) {
    const sim = simGateway({ guestConfigured: false });
    const link = new MemoryLink({
      clock: sim.network.clock,
      a: { name: 'g1', mac: 0x020000000099 },
      b: { name: 'srv', mac: 0x020000000098 },
      impairments: { delayMs: 1 },
    });
    const seen: DhcpMessage[] = [];
    const serverIp = parseIpv4('10.0.2.2')!;
    link.b.setReceiver((frame) => {
      const udp = parseUdpFrame(frame);
      if (udp === undefined || udp.dstPort !== DHCP_SERVER_PORT) return;
      const request = parseDhcp(udp.payload);
      if (!request.ok) return;
      seen.push(request.value);
      for (const reply of answer(request.value, seen)) {
        const addresses = {
          srcMac: 0x020000000098,
          dstMac: MAC_BROADCAST,
          src: serverIp,
          dst: IPV4_BROADCAST,
          srcPort: DHCP_SERVER_PORT,
          dstPort: DHCP_CLIENT_PORT,
        };
        link.b.send(emitUdpFrame(addresses, emitDhcp(reply)));
      }
    });
    const reply = (request: DhcpMessage, type: number, yiaddr: string, withServerId = true): DhcpMessage => ({
      reply: true,
      xid: request.xid,
      secs: 0,
      flags: request.flags,
      ciaddr: 0,
      yiaddr: parseIpv4(yiaddr)!,
      siaddr: 0,
      giaddr: 0,
      chaddr: request.chaddr,
      options: new Map<number, Uint8Array>([
        [OPTION_MESSAGE_TYPE, Uint8Array.of(type)],
        ...(withServerId
          ? ([[OPTION_SERVER_ID, addressOption(serverIp)]] as Array<[number, Uint8Array]>)
          : []),
        [OPTION_SUBNET_MASK, addressOption(0xffffff00)],
        [OPTION_ROUTER, addressOption(serverIp)],
        [OPTION_LEASE_TIME, uint32Option(600)],
      ]),
    });
    return { sim, link, seen, reply };
  }

  const describeRequest = (m: DhcpMessage): string => {
    const requested = dhcpAddressOption(m, OPTION_REQUESTED_ADDRESS);
    const type = dhcpMessageType(m) === 1 ? 'DISCOVER' : 'REQUEST';
    return requested === undefined ? type : `${type} ${ipv4ToString(requested)}`;
  };

  test('an OFFER without a server identifier is passed over; a NAK sends the client back to DISCOVER', async () => {
    let discovers = 0;
    const { sim, link, seen, reply } = scriptedServer((request) => {
      if (dhcpMessageType(request) === 1) {
        discovers++;
        // First round: an unusable offer (no server identifier) ahead of a usable one.
        if (discovers === 1)
          return [reply(request, DHCPOFFER, '10.0.2.50', false), reply(request, DHCPOFFER, '10.0.2.15')];
        return [reply(request, DHCPOFFER, '10.0.2.16')];
      }
      const requested = ipv4ToString(dhcpAddressOption(request, OPTION_REQUESTED_ADDRESS)!);
      // 10.0.2.15 was taken meanwhile: NAK (RFC 2131 §4.3.2); the second round's address is ACKed.
      return [reply(request, requested === '10.0.2.15' ? DHCPNAK : DHCPACK, requested)];
    });
    const client = await sim.run(() => DhcpClient.start(sim.guest, link.a));
    expect(seen.map(describeRequest)).toEqual([
      'DISCOVER',
      'REQUEST 10.0.2.15',
      'DISCOVER',
      'REQUEST 10.0.2.16',
    ]);
    // Every REQUEST names the server that made the offer it answers.
    expect(
      seen.filter((m) => dhcpMessageType(m) === 3).map((m) => dhcpAddressOption(m, OPTION_SERVER_ID)),
    ).toEqual([parseIpv4('10.0.2.2'), parseIpv4('10.0.2.2')]);
    expect(client.lease).toMatchObject({ address: '10.0.2.16', prefixLength: 24, router: '10.0.2.2' });
    expect(ipv4ToString(sim.guest.address!)).toBe('10.0.2.16');
  });

  test('a server that NAKs every REQUEST ends the acquisition with EPROTO after maxAttempts rounds', async () => {
    const { sim, link, seen, reply } = scriptedServer((request) =>
      dhcpMessageType(request) === 1
        ? [reply(request, DHCPOFFER, '10.0.2.15')]
        : [reply(request, DHCPNAK, '10.0.2.15')],
    );
    const code = await sim.run(() =>
      DhcpClient.start(sim.guest, link.a, { maxAttempts: 3 }).then(
        () => 'bound',
        (e: Error & { code?: string }) => e.code,
      ),
    );
    expect(code).toBe('EPROTO');
    expect(seen.map(describeRequest)).toEqual([
      'DISCOVER',
      'REQUEST 10.0.2.15',
      'DISCOVER',
      'REQUEST 10.0.2.15',
      'DISCOVER',
      'REQUEST 10.0.2.15',
    ]);
    expect(sim.guest.interfaces).toHaveLength(0);
  });
});
