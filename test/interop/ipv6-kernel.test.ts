/**
 * tcpts's IPv6 against the Linux kernel over a TAP device, in a namespace the test creates with IPv6
 * enabled on the kernel end and ULA addresses only (fd00::/8): ping both ways (neighbor discovery in both
 * directions), duplicate address detection both ways (tcpts finds the kernel's address taken; the kernel
 * finds tcpts's address taken), a large ping fragmented and reassembled by each side, `tcpts ping` with an
 * IPv6 --ip, and Packet Too Big from a kernel router lowering the path MTU (RFC 8201).
 */
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ipv6ToString, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NetworkNamespace, uniqueInterfaceName } from '../tap/helpers/namespace.js';
import { CliLink, removeAllLinks } from './helpers/cli-link.js';
import { explainSkip, KernelPeer, oneConnectionServer, removeAllPeers } from './helpers/kernel-peer.js';

const skip = explainSkip('IPv6 interop kernel tests');

afterAll(() => {
  removeAllPeers();
  removeAllLinks();
});

/** A kernel peer whose TAP end also runs IPv6 with `prefix::1/64`; tcpts gets `prefix::2/64`. */
async function ipv6Peer(): Promise<{ peer: KernelPeer; prefix: string; kernel: string; tcpts: string }> {
  const prefix = `fd00:${randomInt(1, 0xffff).toString(16)}:${randomInt(1, 0xffff).toString(16)}:`;
  const peer = new KernelPeer();
  const kernel = `${prefix}:1`;
  const tcpts = `${prefix}:2`;
  peer.namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${peer.ifname}.disable_ipv6=0`);
  peer.namespace.ip('addr', 'add', `${kernel}/64`, 'dev', peer.ifname, 'nodad');
  peer.host.stack.addIpv6Interface(peer.host.device, { addresses: [`${tcpts}/64`] });
  await until(() => peer.host.stack.ipv6.isLocalAddress(parseIpv6(tcpts)!), 5000);
  return { peer, prefix, kernel, tcpts };
}

/** Polls `condition` every 50 ms (DAD runs on the real clock here) until true or `ms` have passed. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(skip)('tcpts IPv6 and the Linux kernel over TAP', () => {
  it('ping6 both ways, each side resolving the other with neighbor discovery', async () => {
    const { peer, kernel, tcpts } = await ipv6Peer();
    try {
      for (let i = 0; i < 3; i++) {
        const reply = await peer.host.stack.ping6(kernel, { timeoutMs: 3000 });
        expect([ipv6ToString(reply.from), reply.hopLimit, reply.bytes]).toEqual([kernel, 64, 64]);
      }
      const ping = await peer.run(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', tcpts]);
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 received/);
      expect(ping.code).toBe(0);
      const neighbours = await peer.run(['ip', '-6', 'neigh', 'show', 'dev', peer.ifname]);
      expect(neighbours.stdout).toMatch(new RegExp(`${tcpts} lladdr [0-9a-f:]+ (REACHABLE|STALE|DELAY)`));
      expect(peer.host.stack.ipv6.neighbors().map((n) => ipv6ToString(n.address))).toContain(kernel);
    } finally {
      peer.close();
    }
  });

  it('large pings are fragmented by the sender and reassembled by the receiver, both ways', async () => {
    const { peer, kernel, tcpts } = await ipv6Peer();
    try {
      const reply = await peer.host.stack.ping6(kernel, { size: 4000, timeoutMs: 3000 });
      expect(reply.bytes).toBe(4008);
      const ping = await peer.run(['ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '-s', '4000', tcpts]);
      expect(ping.stdout).toMatch(/2 packets transmitted, 2 received/);
    } finally {
      peer.close();
    }
  });

  it('DAD: tcpts does not use an address the kernel holds, and the kernel marks ours dadfailed', async () => {
    const { peer, prefix, tcpts } = await ipv6Peer();
    try {
      const taken = `${prefix}:3`;
      peer.namespace.ip('addr', 'add', `${taken}/64`, 'dev', peer.ifname, 'nodad');
      const iface = peer.host.stack.ipv6.interfaces[0]!;
      peer.host.stack.addIpv6Interface(peer.host.device, { addresses: [`${taken}/64`] });
      const entry = iface.find(parseIpv6(taken)!)!;
      await until(() => entry.state !== 'tentative', 5000);
      expect(entry.state).toBe('duplicate');
      // The kernel probes for tcpts's address; tcpts defends it.
      peer.namespace.ip('addr', 'add', `${tcpts}/64`, 'dev', peer.ifname);
      let shown = '';
      await until(() => {
        shown = peer.namespace.ip('-6', 'addr', 'show', 'dev', peer.ifname);
        return /dadfailed/.test(shown) || !/tentative/.test(shown);
      }, 5000);
      expect(shown).toMatch(new RegExp(`inet6 ${tcpts}/64 scope global dadfailed tentative`));
      expect(peer.host.stack.ipv6.isLocalAddress(parseIpv6(tcpts)!)).toBe(true);
    } finally {
      peer.close();
    }
  });

  it('tcpts ping with a second, IPv6 --ip pings an IPv6 host with ICMPv6 echo', async () => {
    const link = new CliLink();
    try {
      link.namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${link.ifname}.disable_ipv6=0`);
      link.namespace.ip('addr', 'add', 'fd00:9::1/64', 'dev', link.ifname, 'nodad');
      const ping = link.tcpts([
        'ping',
        ...link.tapArguments,
        '--ip',
        'fd00:9::2/64',
        'fd00:9::1',
        '-c',
        '3',
        '-i',
        '0.2',
      ]);
      const exit = await ping.finish(20_000);
      expect(exit.code).toBe(0);
      const lines = ping.stdout.split('\n');
      expect(lines[0]).toBe('PING fd00:9::1 (fd00:9::1) 56 data bytes');
      for (let seq = 1; seq <= 3; seq++) {
        expect(lines[seq]).toMatch(
          new RegExp(`^64 bytes from fd00:9::1: icmp_seq=${seq} ttl=64 time=\\d+(\\.\\d+)? ms$`),
        );
      }
      expect(lines[6]).toMatch(/^3 packets transmitted, 3 received, 0% packet loss/);
    } finally {
      link.close();
    }
  });

  it('tcpts nc with an IPv6 --ip connects to a kernel listener on [fd00:9::1], sends stdin and prints the reply', async () => {
    const link = new CliLink();
    try {
      link.namespace.exec('sysctl', '-q', '-w', `net.ipv6.conf.${link.ifname}.disable_ipv6=0`);
      link.namespace.ip('addr', 'add', 'fd00:9::1/64', 'dev', link.ifname, 'nodad');
      // Reads to EOF, answers with the byte count and the peer's address, closes.
      const server = link.start([
        'python3',
        '-c',
        oneConnectionServer(`n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
c.sendall(('%d from %s\\n' % (n, _[0])).encode())
c.close()
`),
        'fd00:9::1',
        '5001',
      ]);
      await server.waitFor(/listening/);
      const nc = link.tcpts(
        ['nc', ...link.tapArguments, '--ip', 'fd00:9::2/64', '--msl', '1', 'fd00:9::1', '5001'],
        'pipe',
      );
      await nc.waitFor(/connected to \[fd00:9::1\]:5001/, 20_000, 'stderr');
      nc.endInput(new Uint8Array(100_000).fill(7));
      const exit = await nc.finish(20_000);
      expect(exit.code).toBe(0);
      expect(nc.stdout).toBe('100000 from fd00:9::2\n');
      await server.finish(5000);
    } finally {
      link.close();
    }
  }, 40_000);

  it('Packet Too Big from a kernel router with a 1280-byte link behind it lowers the path MTU', async () => {
    const { peer, prefix, kernel } = await ipv6Peer();
    const far = NetworkNamespace.create();
    try {
      // The TAP's namespace routes (IPv6 forwarding) to a second namespace over a veth pair of MTU 1280.
      const farPrefix = `${prefix}1:`;
      const routerEnd = uniqueInterfaceName();
      const farEnd = uniqueInterfaceName();
      peer.namespace.ip('link', 'add', routerEnd, 'mtu', '1280', 'type', 'veth', 'peer', 'name', farEnd);
      peer.namespace.ip('link', 'set', farEnd, 'netns', far.name);
      peer.namespace.exec('sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
      peer.namespace.ip('addr', 'add', `${farPrefix}:1/64`, 'dev', routerEnd, 'nodad');
      peer.namespace.ip('link', 'set', routerEnd, 'up');
      far.ip('link', 'set', 'lo', 'up');
      far.ip('link', 'set', farEnd, 'mtu', '1280');
      far.ip('addr', 'add', `${farPrefix}:2/64`, 'dev', farEnd, 'nodad');
      far.ip('link', 'set', farEnd, 'up');
      far.ip('-6', 'route', 'add', 'default', 'via', `${farPrefix}:1`);
      const stack = peer.host.stack;
      stack.ipv6.interfaces[0]!.routers.push({
        address: parseIpv6(kernel)!,
        validUntil: Number.POSITIVE_INFINITY,
      });
      const target = `${farPrefix}:2`;
      const first = await stack
        .ping6(target, { size: 1400, timeoutMs: 1500 })
        .catch((e: { code: string }) => e.code);
      expect(first).toBe('ETIMEDOUT'); // the router dropped it and said why
      expect(stack.ipv6.mtuFor(parseIpv6(target)!)).toBe(1280);
      const second = await stack.ping6(target, { size: 1400, timeoutMs: 3000 });
      expect([ipv6ToString(second.from), second.bytes, second.hopLimit]).toEqual([target, 1408, 63]);
    } finally {
      far.delete();
      peer.close();
    }
  });
});
