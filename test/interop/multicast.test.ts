/**
 * Source-specific multicast with the Linux kernel over TAP, in a namespace of the test's own: the
 * kernel sends to a group (232.7.7.7; ff3e::8000:7) from two addresses of its own, and a tcpts dgram
 * socket that joined the group for one of them hears that one only; the kernel itself, joined
 * source-specifically, hears tcpts's datagrams to the group from the source it asked for.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RemoteInfo } from '../../src/api/dgram/socket.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { explainSkip, KernelPeer, removeAllPeers } from './helpers/kernel-peer.js';

const skip = explainSkip('multicast interop');

afterAll(() => removeAllPeers());

/** Sends one datagram per source given: `python3 -c SEND GROUP PORT SOURCE...` (TTL 1). */
const SEND_FROM_EACH = `
import socket, sys
group, port = sys.argv[1], int(sys.argv[2])
for source in sys.argv[3:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    s.bind((source, 0))
    s.sendto(('from ' + source).encode(), (group, port))
    s.close()
`;

/** The same over IPv6: `python3 -c SEND6 GROUP PORT IFNAME SOURCE...` (hop limit 1). */
const SEND6_FROM_EACH = `
import socket, sys
group, port, ifname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for source in sys.argv[4:]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(ifname))
    s.bind((source, 0))
    s.sendto(('from ' + source).encode(), (group, port))
    s.close()
`;

/** Joins GROUP from SOURCE on the interface with address IFACE, prints 'joined', then every datagram. */
const RECEIVE_FROM_SOURCE = `
import socket, struct, sys
group, port, source, iface = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('', port))
# struct ip_mreq_source (Linux order): group, interface, source; IP_ADD_SOURCE_MEMBERSHIP is 39 on Linux.
s.setsockopt(socket.IPPROTO_IP, getattr(socket, 'IP_ADD_SOURCE_MEMBERSHIP', 39),
             socket.inet_aton(group) + socket.inet_aton(iface) + socket.inet_aton(source))
print('joined', flush=True)
s.settimeout(5)
while True:
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        break
    print(data.decode(), peer[0], flush=True)
`;

describe.skipIf(skip)('source-specific multicast with the Linux kernel', () => {
  it('over IPv6: a tcpts udp6 socket joined for one source hears that source only', async () => {
    const peer = new KernelPeer({ ipv6Only: true });
    try {
      const kernel = peer.kernelIpv6Address!;
      const other = kernel.replace(/:1$/, ':3');
      peer.namespace.ip('addr', 'add', `${other}/64`, 'dev', peer.ifname, 'nodad');
      const ours = parseIpv6(peer.tcptsIpv6Address!)!;
      for (let i = 0; i < 100 && !peer.host.stack.ipv6.isLocalAddress(ours); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(peer.host.stack.ipv6.isLocalAddress(ours)).toBe(true);
      const socket = peer.host.dgram.createSocket('udp6');
      const heard: string[] = [];
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => heard.push(`${msg} ${rinfo.address}`));
      await new Promise<void>((resolve) => socket.bind(7779, resolve));
      socket.addSourceSpecificMembership(kernel, 'ff3e::8000:7');
      const sent = await peer.run([
        'python3',
        '-c',
        SEND6_FROM_EACH,
        'ff3e::8000:7',
        '7779',
        peer.ifname,
        other,
        kernel,
      ]);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      const filtered = () => peer.host.stack.counters.dropCount('ipv6', 'multicast-source-filtered');
      for (let i = 0; i < 60 && (heard.length < 1 || filtered() < 1); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toEqual([`from ${kernel} ${kernel}`]);
      expect(filtered()).toBe(1);
      socket.close();
    } finally {
      peer.close();
    }
  }, 30_000);

  it('a tcpts socket joined for one source hears that source only; the kernel joined for tcpts hears it', async () => {
    const peer = new KernelPeer();
    try {
      const other = peer.kernelAddress.replace(/\.1$/, '.3');
      peer.namespace.ip('addr', 'add', `${other}/24`, 'dev', peer.ifname);
      peer.namespace.ip('route', 'add', '232.0.0.0/8', 'dev', peer.ifname);

      // Kernel -> tcpts.
      const socket = peer.host.dgram.createSocket('udp4');
      const heard: string[] = [];
      socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => heard.push(`${msg} ${rinfo.address}`));
      await new Promise<void>((resolve) => socket.bind(7777, resolve));
      socket.addSourceSpecificMembership(peer.kernelAddress, '232.7.7.7');
      const sent = await peer.run([
        'python3',
        '-c',
        SEND_FROM_EACH,
        '232.7.7.7',
        '7777',
        other,
        peer.kernelAddress,
      ]);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      const filtered = () => peer.host.stack.counters.dropCount('ipv4', 'multicast-source-filtered');
      for (let i = 0; i < 60 && (heard.length < 1 || filtered() < 1); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toEqual([`from ${peer.kernelAddress} ${peer.kernelAddress}`]);
      expect(filtered()).toBe(1);

      // tcpts -> kernel: the kernel's own source filter lets tcpts's address through.
      const receiver = peer.start([
        'python3',
        '-c',
        RECEIVE_FROM_SOURCE,
        '232.7.7.8',
        '7778',
        peer.tcptsAddress,
        peer.kernelAddress,
      ]);
      await receiver.waitFor(/joined/);
      const sender = peer.host.dgram.createSocket('udp4');
      await new Promise((resolve) => sender.send('to the kernel', 7778, '232.7.7.8', resolve));
      await receiver.waitFor(/to the kernel/, 5000);
      expect(receiver.stdout).toContain(`to the kernel ${peer.tcptsAddress}`);
      socket.close();
      sender.close();
    } finally {
      peer.close();
    }
  }, 30_000);
});
