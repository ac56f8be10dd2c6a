/**
 * Multicast and broadcast between two stacks on a simulated link (virtual time): what Node's dgram
 * options decide on the wire. A group member hears the group and a non-member does not; dropping the
 * membership stops delivery; a source-specific membership (RFC 4607) hears only its source; broadcasts
 * need setBroadcast() and reach the subnet's and the limited broadcast address; setMulticastTTL sets the
 * IP TTL of group datagrams and setTTL that of unicast ones (read from the frames on the link).
 */
import { expect, test } from 'vitest';
import '../../src/api/sockets-node.js';
import type { Socket as DgramSocket } from '../../src/api/dgram/socket.js';
import { simPair } from './helpers/sim-pair.js';

function bound(socket: DgramSocket, port: number): Promise<void> {
  return new Promise((resolve) => socket.bind(port, () => resolve()));
}

test('group membership decides delivery; source-specific memberships filter by source', async () => {
  const pair = simPair();
  await pair.run(async () => {
    const member = pair.server.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const other = pair.server.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await bound(member, 5000);
    await bound(other, 5001);
    member.addMembership('239.1.1.1');
    const heard: string[] = [];
    member.on('message', (msg, rinfo) => heard.push(`member ${msg} ${rinfo.address}`));
    other.on('message', (msg) => heard.push(`other ${msg}`));
    const sender = pair.client.dgram.createSocket('udp4');
    sender.send('to-group', 5000, '239.1.1.1');
    sender.send('to-group-other-port', 5001, '239.1.1.1');
    await pair.delay(20);
    // As on Linux (IP_MULTICAST_ALL, on by default), membership is the host's: every socket bound to
    // the port hears the group, whichever socket joined it.
    expect(heard).toEqual([`member to-group ${pair.clientAddress}`, 'other to-group-other-port']);
    member.dropMembership('239.1.1.1');
    sender.send('after-drop', 5000, '239.1.1.1');
    await pair.delay(20);
    expect(heard).toHaveLength(2);
    // Source-specific: 232.1.1.1 from the client only.
    member.addSourceSpecificMembership(pair.clientAddress, '232.1.1.1');
    sender.send('ssm', 5000, '232.1.1.1');
    await pair.delay(20);
    expect(heard.at(-1)).toBe(`member ssm ${pair.clientAddress}`);
    member.dropSourceSpecificMembership(pair.clientAddress, '232.1.1.1');
    member.addSourceSpecificMembership('10.0.0.99', '232.1.1.1');
    sender.send('ssm-wrong-source', 5000, '232.1.1.1');
    await pair.delay(20);
    expect(heard.at(-1)).toBe(`member ssm ${pair.clientAddress}`);
    for (const socket of [member, other, sender]) socket.close();
  });
});

test('broadcasts need setBroadcast() and reach the subnet and limited broadcast addresses', async () => {
  const pair = simPair();
  await pair.run(async () => {
    const listener = pair.server.dgram.createSocket('udp4');
    await bound(listener, 6000);
    const heard: string[] = [];
    listener.on('message', (msg) => heard.push(String(msg)));
    const sender = pair.client.dgram.createSocket('udp4');
    await bound(sender, 0);
    const refused = await new Promise<Error | null>((resolve) =>
      sender.send('no', 6000, '10.0.0.255', (error) => resolve(error)),
    );
    expect((refused as Error & { code: string }).code).toBe('EACCES');
    sender.setBroadcast(true);
    sender.send('subnet', 6000, '10.0.0.255');
    sender.send('limited', 6000, '255.255.255.255');
    await pair.delay(20);
    expect(heard).toEqual(['subnet', 'limited']);
    listener.close();
    sender.close();
  });
});

test('setMulticastTTL and setTTL set the IP TTL of the datagrams on the link', async () => {
  const pair = simPair();
  await pair.run(async () => {
    const ttls: Array<[string, number]> = [];
    // Raw UDP sockets of the server stack see each datagram's TTL.
    for (const port of [7000, 7001]) {
      pair.server.udp.bind(
        { port, reuseAddress: true },
        { message: (payload, info) => ttls.push([Buffer.from(payload).toString(), info.ttl]) },
      );
    }
    const member = pair.server.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await bound(member, 7001);
    member.addMembership('239.2.2.2');
    const sender = pair.client.dgram.createSocket('udp4');
    await bound(sender, 0);
    sender.setTTL(17);
    sender.setMulticastTTL(3);
    sender.send('unicast', 7000, pair.serverAddress);
    sender.send('group', 7001, '239.2.2.2');
    await pair.delay(20);
    // (The unicast one waits for ARP, so it may arrive second.)
    expect(new Map(ttls)).toEqual(
      new Map([
        ['unicast', 17],
        ['group', 3],
      ]),
    );
    member.close();
    sender.close();
  });
});

test('a host hears its own group datagrams (IP_MULTICAST_LOOP, on by default) and broadcasts', async () => {
  const pair = simPair();
  await pair.run(async () => {
    const sender = pair.client.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const neighbour = pair.client.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await bound(sender, 8000);
    await bound(neighbour, 8000);
    neighbour.addMembership('239.3.3.3');
    const heard: string[] = [];
    for (const [name, socket] of [
      ['sender', sender],
      ['neighbour', neighbour],
    ] as const) {
      socket.on('message', (msg, rinfo) => heard.push(`${name} ${msg} ${rinfo.address}:${rinfo.port}`));
    }
    sender.send('loop', 8000, '239.3.3.3');
    await pair.delay(5);
    expect(heard.sort()).toEqual([
      `neighbour loop ${pair.clientAddress}:8000`,
      `sender loop ${pair.clientAddress}:8000`,
    ]);
    heard.length = 0;
    // TTL 0 keeps a group datagram on this host (RFC 1112 §6.1): looped back, never on the link.
    const remote = pair.server.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await bound(remote, 8000);
    remote.addMembership('239.3.3.3');
    remote.on('message', (msg) => heard.push(`remote ${msg}`));
    sender.setMulticastTTL(0);
    await new Promise((resolve) => sender.send('ttl-0', 8000, '239.3.3.3', resolve));
    sender.setMulticastTTL(1);
    sender.send('ttl-1', 8000, '239.3.3.3');
    await pair.delay(5);
    expect(heard.sort()).toEqual([
      `neighbour ttl-0 ${pair.clientAddress}:8000`,
      `neighbour ttl-1 ${pair.clientAddress}:8000`,
      'remote ttl-1',
      `sender ttl-0 ${pair.clientAddress}:8000`,
      `sender ttl-1 ${pair.clientAddress}:8000`,
    ]);
    remote.close();
    heard.length = 0;
    expect(sender.setMulticastLoopback(false)).toBe(false);
    sender.send('no-loop', 8000, '239.3.3.3');
    await pair.delay(5);
    expect(heard).toEqual([]);
    // A group the host has not joined is not looped back.
    neighbour.dropMembership('239.3.3.3');
    sender.setMulticastLoopback(true);
    sender.send('not-joined', 8000, '239.3.3.3');
    await pair.delay(5);
    expect(heard).toEqual([]);
    sender.setBroadcast(true);
    sender.send('broadcast', 8000, '10.0.0.255');
    await pair.delay(5);
    expect(heard.sort()).toEqual([
      `neighbour broadcast ${pair.clientAddress}:8000`,
      `sender broadcast ${pair.clientAddress}:8000`,
    ]);
    sender.close();
    neighbour.close();
  });
});

test('IPv6: a host hears its own group datagrams (IPV6_MULTICAST_LOOP, on by default), even at hop limit 0 and fragmented', async () => {
  const pair = simPair({ family: 6 });
  await pair.run(async () => {
    const sender = pair.client.dgram.createSocket({ type: 'udp6', reuseAddr: true });
    const neighbour = pair.client.dgram.createSocket({ type: 'udp6', reuseAddr: true });
    const remote = pair.server.dgram.createSocket({ type: 'udp6', reuseAddr: true });
    await bound(sender, 8000);
    await bound(neighbour, 8000);
    await bound(remote, 8000);
    neighbour.addMembership('ff15::33');
    remote.addMembership('ff15::33');
    const heard: string[] = [];
    for (const [name, socket] of [
      ['sender', sender],
      ['neighbour', neighbour],
      ['remote', remote],
    ] as const) {
      socket.on('message', (msg, rinfo) =>
        heard.push(`${name} ${msg.length > 20 ? msg.length : msg} ${rinfo.address}:${rinfo.port}`),
      );
    }
    sender.send('loop', 8000, 'ff15::33');
    await pair.delay(5);
    // Every socket on the port of the sending host hears it (the host joined; IPV6_MULTICAST_ALL), and
    // the wire still carries it to the other member.
    expect(heard.sort()).toEqual([
      `neighbour loop ${pair.clientAddress}:8000`,
      `remote loop ${pair.clientAddress}:8000`,
      `sender loop ${pair.clientAddress}:8000`,
    ]);
    heard.length = 0;
    // Hop limit 0: the copy for this host is delivered, nothing leaves the host.
    sender.setMulticastTTL(0);
    sender.send('hop-limit-0', 8000, 'ff15::33');
    await pair.delay(5);
    expect(heard.sort()).toEqual([
      `neighbour hop-limit-0 ${pair.clientAddress}:8000`,
      `sender hop-limit-0 ${pair.clientAddress}:8000`,
    ]);
    heard.length = 0;
    sender.setMulticastTTL(1);
    // Larger than the link MTU: each fragment is looped and the copy reassembled.
    sender.send(Buffer.alloc(3000, 7), 8000, 'ff15::33');
    await pair.delay(5);
    expect(heard.sort()).toEqual([
      `neighbour 3000 ${pair.clientAddress}:8000`,
      `remote 3000 ${pair.clientAddress}:8000`,
      `sender 3000 ${pair.clientAddress}:8000`,
    ]);
    heard.length = 0;
    expect(sender.setMulticastLoopback(false)).toBe(false);
    sender.send('no-loop', 8000, 'ff15::33');
    await pair.delay(5);
    expect(heard).toEqual([`remote no-loop ${pair.clientAddress}:8000`]);
    heard.length = 0;
    // A group this host has not joined is not looped back.
    neighbour.dropMembership('ff15::33');
    sender.setMulticastLoopback(true);
    sender.send('not-joined', 8000, 'ff15::33');
    await pair.delay(5);
    expect(heard).toEqual([`remote not-joined ${pair.clientAddress}:8000`]);
    for (const socket of [sender, neighbour, remote]) socket.close();
  });
});

for (const family of [4, 6] as const) {
  test(`IPv${family}: a socket's source-specific membership filters what it receives; another socket's membership for every source does not widen it`, async () => {
    const pair = simPair({ family });
    const type = family === 4 ? 'udp4' : 'udp6';
    const group = family === 4 ? '232.5.5.5' : 'ff3e::8000:5';
    const elsewhere = family === 4 ? '10.0.0.99' : 'fd00::99';
    await pair.run(async () => {
      const anySource = pair.server.dgram.createSocket({ type, reuseAddr: true });
      const specific = pair.server.dgram.createSocket({ type, reuseAddr: true });
      await bound(anySource, 9000);
      await bound(specific, 9000);
      const heard: string[] = [];
      anySource.on('message', (msg) => heard.push(`any ${msg}`));
      specific.on('message', (msg) => heard.push(`specific ${msg}`));
      const sender = pair.client.dgram.createSocket(type);
      const send = (text: string) =>
        new Promise((resolve) => sender.send(text, 9000, group, resolve)).then(() => pair.delay(5));
      // Only a source-specific membership from elsewhere: the host filters the client out.
      specific.addSourceSpecificMembership(elsewhere, group);
      await send('one');
      expect(heard).toEqual([]);
      expect(pair.server.counters.dropCount(`ipv${family}`, 'multicast-source-filtered')).toBe(1);
      // The other socket joins for every source: the host takes the group from anyone, the
      // source-specific socket still hears its own sources only.
      anySource.addMembership(group);
      await send('two');
      expect(heard).toEqual(['any two']);
      specific.addSourceSpecificMembership(pair.clientAddress, group);
      await send('three');
      expect(heard.sort()).toEqual(['any three', 'any two', 'specific three']);
      for (const socket of [anySource, specific, sender]) socket.close();
    });
  });
}
