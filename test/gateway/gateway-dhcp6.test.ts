/**
 * The gateway's stateless DHCPv6 server (RFC 8415 §18.3.6, §18.3.9) in simulation: a SLAAC guest told
 * by the router advertisement's O flag to ask for other configuration, and the exact messages it gets.
 */
import { describe, expect, test } from 'vitest';
import { domainListOption, emitDhcp6, parseDhcp6 } from '../../src/dhcp/dhcp6-message.js';
import { simGateway } from './helpers/sim-gateway.js';

const ETH = 14;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Guest DUID-LL (RFC 8415 §11.4) of its MAC 02:00:00:00:10:0f. */
const CLIENT_ID = '0001000a0003000102000000100f';
/** Gateway DUID-LL of 52:55:0a:00:02:02. */
const SERVER_ID = '0002000a00030001525 50a000202'.replace(/ /g, '');
/** OPTION_DNS_SERVERS (23) with fd00:0:0:2::3. */
const DNS = `00170010${'fd000000000000020000000000000003'}`;

/** Sends `message` from the guest's port 546 to ff02::1:2 port 547 and returns what comes back in 1 s. */
async function ask(
  sim: ReturnType<typeof simGateway>,
  message: string,
): Promise<{ from: string; data: string }[]> {
  const socket = sim.guest.dgram.createSocket('udp6');
  const got: { from: string; data: string }[] = [];
  socket.on('message', (msg, rinfo) => got.push({ from: `${rinfo.address}:${rinfo.port}`, data: hex(msg) }));
  await new Promise<void>((resolve) => socket.bind(546, resolve));
  socket.send(Buffer.from(message, 'hex'), 547, 'ff02::1:2');
  await sim.delay(1000);
  socket.close();
  return got;
}

/** The M/O flag byte (RFC 4861 §4.2) of every router advertisement the gateway sends on the link. */
function advertisementFlags(sim: ReturnType<typeof simGateway>): number[] {
  const flags: number[] = [];
  sim.link.tap((_time, frame) => {
    if (frame[12] === 0x86 && frame[13] === 0xdd && frame[ETH + 6] === 58 && frame[ETH + 40] === 134)
      flags.push(frame[ETH + 40 + 5]!);
  });
  return flags;
}

describe('gateway DHCPv6', () => {
  test('the RA sets O; an Information-request gets a Reply with server and client ids, DNS and the refresh time asked for', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64' });
    sim.guest.addIpv6Interface(sim.link.a);
    const flags = advertisementFlags(sim);
    const replies: { src: string; dst: string }[] = [];
    sim.link.tap((_time, frame) => {
      if (frame[12] !== 0x86 || frame[13] !== 0xdd) return;
      const next = frame[ETH + 6];
      if (next === 17 && ((frame[ETH + 40]! << 8) | frame[ETH + 41]!) === 547)
        replies.push({
          src: hex(frame.subarray(ETH + 8, ETH + 24)),
          dst: hex(frame.subarray(ETH + 24, ETH + 40)),
        });
    });
    const got = await sim.run(async () => {
      await sim.delay(5000);
      // Information-request, xid 0x123456: Client ID, ORO (DNS 23, domain list 24, refresh time 32),
      // Elapsed Time 0.
      return ask(sim, `0b123456${CLIENT_ID}00060006001700180020000800020000`);
    });
    // Every advertisement: M clear, O set (RFC 4861 §4.2).
    expect(flags.length).toBeGreaterThan(0);
    expect(new Set(flags)).toEqual(new Set([0x40]));
    // Reply (7), same xid; no domain list (none configured); refresh time 86400 s (RFC 8415 §21.23).
    expect(got).toHaveLength(1);
    expect(got[0]!.data).toBe(`07123456${SERVER_ID}${CLIENT_ID}${DNS}0020000400015180`);
    expect(got[0]!.from).toMatch(/^fe80::5055:aff:fe00:202(%\S+)?:547$/);
    // From the gateway's link-local address to the guest's (RFC 8415 §18.3.10).
    expect(replies).toHaveLength(1);
    expect(replies[0]!.src).toBe('fe800000000000005055 0afffe000202'.replace(/ /g, ''));
    expect(replies[0]!.dst.slice(0, 16)).toBe('fe80000000000000');
    expect(sim.gateway.dhcp6!.counters).toMatchObject({ received: 1, replies: 1, malformed: 0 });
  });

  test('Information-requests naming another server or carrying an IA are discarded; a Solicit gets NoAddrsAvail; truncated and lease messages are counted', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64' });
    sim.guest.addIpv6Interface(sim.link.a);
    const got = await sim.run(async () => {
      await sim.delay(5000);
      const otherServer = await ask(sim, `0b000001${CLIENT_ID}0002000a00030001aabbccddeeff`);
      // IA_NA (3): IAID 1, T1 0, T2 0.
      const withIa = await ask(sim, `0b000002${CLIENT_ID}0003000c000000010000000000000000`);
      const truncated = await ask(sim, '0b0000030001000a0003');
      const request = await ask(sim, `03000004${CLIENT_ID}${SERVER_ID}`);
      const solicitWithoutClient = await ask(sim, '01000005000800020000');
      const solicit = await ask(sim, `01000006${CLIENT_ID}000600020017`);
      return { otherServer, withIa, truncated, request, solicitWithoutClient, solicit };
    });
    expect(got.otherServer).toEqual([]);
    expect(got.withIa).toEqual([]);
    expect(got.truncated).toEqual([]);
    expect(got.request).toEqual([]);
    expect(got.solicitWithoutClient).toEqual([]);
    // Advertise (2): Status Code (13) NoAddrsAvail (2) with its message, then DNS (RFC 8415 §18.3.9).
    const status = Buffer.from('addresses come from SLAAC on this link').toString('hex');
    const statusOption = `000d${(2 + status.length / 2).toString(16).padStart(4, '0')}0002${status}`;
    expect(got.solicit.map((r) => r.data)).toEqual([`02000006${SERVER_ID}${CLIENT_ID}${statusOption}${DNS}`]);
    expect(sim.gateway.dhcp6!.counters).toMatchObject({
      received: 6,
      malformed: 4,
      unanswered: 1,
      advertises: 1,
      replies: 0,
    });
  });

  test('without dhcp6 the RA leaves O clear and nothing listens on ff02::1:2', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', dhcp6: false });
    sim.guest.addIpv6Interface(sim.link.a);
    const flags = advertisementFlags(sim);
    const got = await sim.run(async () => {
      await sim.delay(5000);
      return ask(sim, `0b123456${CLIENT_ID}`);
    });
    expect(sim.gateway.dhcp6).toBeUndefined();
    expect(flags.length).toBeGreaterThan(0);
    expect(new Set(flags)).toEqual(new Set([0]));
    expect(got).toEqual([]);
  });
});

/** fd00:0:0:2::100, the first address of the stateful pool. */
const POOL_FIRST = 'fd000000000000020000000000000100';
const hex32 = (n: number) => n.toString(16).padStart(8, '0');
const hex16 = (n: number) => n.toString(16).padStart(4, '0');
/** An IA_NA (RFC 8415 §21.4) written out by hand: IAID, T1, T2, then an IAADDR and/or a status. */
function ia(
  iaid: number,
  t1: number,
  t2: number,
  address?: { address: string; preferred: number; valid: number },
  status?: { code: number; text: string },
): string {
  let inner = '';
  if (address !== undefined)
    inner += `00050018${address.address}${hex32(address.preferred)}${hex32(address.valid)}`;
  if (status !== undefined) {
    const text = Buffer.from(status.text).toString('hex');
    inner += `000d${hex16(2 + text.length / 2)}${hex16(status.code)}${text}`;
  }
  return `0003${hex16(12 + inner.length / 2)}${hex32(iaid)}${hex32(t1)}${hex32(t2)}${inner}`;
}
function status(code: number, text: string): string {
  const body = Buffer.from(text).toString('hex');
  return `000d${hex16(2 + body.length / 2)}${hex16(code)}${body}`;
}
/** What the server gives: preferred 14400 s, valid 86400 s, T1 0.5 and T2 0.8 of preferred. */
const granted = (address: string) => ia(1, 7200, 11_520, { address, preferred: 14_400, valid: 86_400 });
const OTHER_CLIENT_ID = '0001000a00030001020000000077';

describe('gateway DHCPv6 with addresses (stateful)', () => {
  test('Solicit, Request, Renew, Release: the exact Advertise and Replies; the RA sets M and O; a full pool answers NoAddrsAvail inside the IA', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', dhcp6: 'stateful', leaseCount: 1 });
    sim.guest.addIpv6Interface(sim.link.a);
    const flags = advertisementFlags(sim);
    const got = await sim.run(async () => {
      await sim.delay(5000);
      const advertise = await ask(sim, `01000010${CLIENT_ID}${ia(1, 0, 0)}`);
      const reply = await ask(sim, `03000011${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0)}`);
      const leases = sim.gateway.dhcp6!.list();
      const other = await ask(sim, `01000012${OTHER_CLIENT_ID}${ia(7, 0, 0)}`);
      const renew = await ask(
        sim,
        `05000013${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0, { address: POOL_FIRST, preferred: 0, valid: 0 })}`,
      );
      const renewOther = await ask(sim, `05000014${OTHER_CLIENT_ID}${SERVER_ID}${ia(7, 0, 0)}`);
      const release = await ask(
        sim,
        `08000015${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0, { address: POOL_FIRST, preferred: 0, valid: 0 })}`,
      );
      return { advertise, reply, leases, other, renew, renewOther, release };
    });
    expect(new Set(flags)).toEqual(new Set([0xc0]));
    expect(got.advertise.map((r) => r.data)).toEqual([
      `02000010${SERVER_ID}${CLIENT_ID}${granted(POOL_FIRST)}${DNS}`,
    ]);
    expect(got.reply.map((r) => r.data)).toEqual([
      `07000011${SERVER_ID}${CLIENT_ID}${granted(POOL_FIRST)}${DNS}`,
    ]);
    expect(got.leases).toEqual([
      {
        address: 0xfd00_0000_0000_0002_0000_0000_0000_0100n,
        client: CLIENT_ID.slice(8),
        iaid: 1,
        state: 'bound',
        expiresAt: expect.any(Number),
      },
    ]);
    // The one address is taken: the IA comes back empty with NoAddrsAvail (RFC 8415 §18.3.9).
    expect(got.other.map((r) => r.data)).toEqual([
      `02000012${SERVER_ID}${OTHER_CLIENT_ID}${ia(7, 0, 0, undefined, { code: 2, text: 'pool full' })}${DNS}`,
    ]);
    expect(got.renew.map((r) => r.data)).toEqual([
      `07000013${SERVER_ID}${CLIENT_ID}${granted(POOL_FIRST)}${DNS}`,
    ]);
    expect(got.renewOther.map((r) => r.data)).toEqual([
      `07000014${SERVER_ID}${OTHER_CLIENT_ID}${ia(7, 0, 0, undefined, { code: 3, text: 'no binding for this IA' })}${DNS}`,
    ]);
    expect(got.release.map((r) => r.data)).toEqual([
      `07000015${SERVER_ID}${CLIENT_ID}${status(0, 'released')}${DNS}`,
    ]);
    expect(sim.gateway.dhcp6!.list()).toEqual([]);
    expect(sim.gateway.dhcp6!.counters).toMatchObject({
      advertises: 2,
      bindings: 1,
      releases: 1,
      poolExhausted: 1,
    });
  });

  test('Decline takes the address out of the pool; Confirm is Success on the prefix, NotOnLink off it; Rebind of an unknown off-prefix address gets lifetimes 0; a Request naming another server is discarded', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', dhcp6: 'stateful', leaseCount: 2 });
    sim.guest.addIpv6Interface(sim.link.a);
    const second = 'fd000000000000020000000000000101';
    const offPrefix = 'fd000000000000090000000000000001';
    const got = await sim.run(async () => {
      await sim.delay(5000);
      await ask(sim, `03000020${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0)}`);
      const decline = await ask(
        sim,
        `09000021${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0, { address: POOL_FIRST, preferred: 0, valid: 0 })}`,
      );
      // The declined ::100 is skipped: the next Request gets ::101.
      const again = await ask(sim, `03000022${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0)}`);
      const confirm = await ask(
        sim,
        `04000023${CLIENT_ID}${ia(1, 0, 0, { address: second, preferred: 0, valid: 0 })}`,
      );
      const notOnLink = await ask(
        sim,
        `04000024${CLIENT_ID}${ia(1, 0, 0, { address: offPrefix, preferred: 0, valid: 0 })}`,
      );
      const rebind = await ask(
        sim,
        `06000025${OTHER_CLIENT_ID}${ia(9, 0, 0, { address: offPrefix, preferred: 0, valid: 0 })}`,
      );
      const foreign = await ask(sim, `03000026${OTHER_CLIENT_ID}0002000a00030001aabbccddeeff${ia(9, 0, 0)}`);
      return { decline, again, confirm, notOnLink, rebind, foreign };
    });
    expect(got.decline.map((r) => r.data)).toEqual([
      `07000021${SERVER_ID}${CLIENT_ID}${status(0, 'declined')}${DNS}`,
    ]);
    expect(got.again.map((r) => r.data)).toEqual([
      `07000022${SERVER_ID}${CLIENT_ID}${granted(second)}${DNS}`,
    ]);
    expect(got.confirm.map((r) => r.data)).toEqual([
      `07000023${SERVER_ID}${CLIENT_ID}${status(0, 'all addresses on link')}${DNS}`,
    ]);
    expect(got.notOnLink.map((r) => r.data)).toEqual([
      `07000024${SERVER_ID}${CLIENT_ID}${status(4, 'not this link')}${DNS}`,
    ]);
    expect(got.rebind.map((r) => r.data)).toEqual([
      `07000025${SERVER_ID}${OTHER_CLIENT_ID}${ia(9, 0, 0, { address: offPrefix, preferred: 0, valid: 0 })}${DNS}`,
    ]);
    expect(got.foreign).toEqual([]);
    expect(sim.gateway.dhcp6!.list().map((l) => [l.state, l.address.toString(16)])).toEqual([
      ['declined', 'fd000000000000020000000000000100'],
      ['bound', 'fd000000000000020000000000000101'],
    ]);
    expect(sim.gateway.dhcp6!.counters).toMatchObject({ declines: 1, bindings: 2, unanswered: 1 });
  });
});

describe('gateway DHCPv6 temporary addresses and prefixes', () => {
  test('a Solicit with IA_NA, IA_TA and IA_PD gets the address, and the IA_TA and IA_PD back empty with NoAddrsAvail and NoPrefixAvail', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', dhcp6: 'stateful' });
    sim.guest.addIpv6Interface(sim.link.a);
    // IA_TA (4): IAID 2. IA_PD (25): IAID 3, T1 100, T2 200.
    const iaTa = '0004000400000002';
    const iaPd = '0019000c00000003000000640000 00c8'.replace(/ /g, '');
    const got = await sim.run(async () => {
      await sim.delay(5000);
      return ask(sim, `01000040${CLIENT_ID}${iaTa}${ia(1, 0, 0)}${iaPd}`);
    });
    const noTemporary = status(2, 'no temporary addresses');
    const noPrefix = status(6, 'no prefixes delegated');
    const emptyTa = `0004${hex16(4 + noTemporary.length / 2)}00000002${noTemporary}`;
    const emptyPd = `0019${hex16(12 + noPrefix.length / 2)}000000030000000000000000${noPrefix}`;
    expect(got.map((r) => r.data)).toEqual([
      `02000040${SERVER_ID}${CLIENT_ID}${emptyTa}${granted(POOL_FIRST)}${emptyPd}${DNS}`,
    ]);
  });
});

describe('DHCPv6 robustness', () => {
  test('random bytes and every truncation of valid messages are counted, never thrown on; a valid request is still answered', async () => {
    const sim = simGateway({ ipv6Prefix: 'fd00:0:0:2::/64', dhcp6: 'stateful' });
    sim.guest.addIpv6Interface(sim.link.a);
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const messages: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.alloc(next() % 120);
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
      // Client message types 1-11 most of the time, so the option walk and the handlers run.
      if (bytes.length > 0 && i % 3 !== 0) bytes[0] = 1 + (next() % 11);
      messages.push(bytes);
    }
    const valid = [
      `01000031${CLIENT_ID}${ia(1, 0, 0)}`,
      `03000032${CLIENT_ID}${SERVER_ID}${ia(1, 0, 0, { address: POOL_FIRST, preferred: 0, valid: 0 })}`,
    ];
    for (const text of valid)
      for (let cut = 0; cut < text.length / 2; cut++)
        messages.push(Buffer.from(text, 'hex').subarray(0, cut));
    const got = await sim.run(async () => {
      await sim.delay(5000);
      const socket = sim.guest.dgram.createSocket('udp6');
      await new Promise<void>((resolve) => socket.bind(546, resolve));
      for (const message of messages) socket.send(message, 547, 'ff02::1:2');
      await sim.delay(1000);
      socket.close();
      return ask(sim, `0b000033${CLIENT_ID}`);
    });
    expect(sim.gateway.dhcp6!.counters.received).toBe(messages.length + 1);
    expect(got.map((r) => r.data)).toEqual([`07000033${SERVER_ID}${CLIENT_ID}${DNS}`]);
  });
});

describe('DHCPv6 messages', () => {
  test('parse and emit are inverse; options running past the end and relay messages are refused', () => {
    const bytes = Buffer.from(`0b123456${CLIENT_ID}000800020000`, 'hex');
    const parsed = parseDhcp6(bytes);
    expect(parsed.ok && parsed.value.type).toBe(11);
    expect(parsed.ok && parsed.value.transactionId).toBe(0x123456);
    expect(parsed.ok && parsed.value.options.map((o) => o.code)).toEqual([1, 8]);
    expect(parsed.ok && hex(emitDhcp6(parsed.value))).toBe(hex(bytes));
    const cut = parseDhcp6(Buffer.from('0b1234560001000a0003', 'hex'));
    expect(!cut.ok && cut.error.kind).toBe('bad-option');
    const relay = parseDhcp6(Buffer.from('0c00fe80', 'hex'));
    expect(!relay.ok && relay.error.kind).toBe('unsupported');
    expect(!parseDhcp6(Buffer.from('0b12', 'hex')).ok).toBe(true);
  });

  test('the domain list is DNS wire form, uncompressed (RFC 3646 §4, RFC 8415 §10)', () => {
    expect(hex(domainListOption(['example.com', 'lan.']))).toBe('076578616d706c6503636f6d00036c616e00');
  });
});
