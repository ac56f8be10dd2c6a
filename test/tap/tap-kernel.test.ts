/**
 * A TAP device against the real Linux kernel, inside a network namespace the test creates and deletes.
 * The kernel side of each TAP gets a 10.88.x.1/24 address; tcpts's side plays 10.88.x.2 with its own MAC.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTap, type TapDevice, type TapOptions, tapAvailability } from '../../src/link/tap/index.js';
import { MAC_BROADCAST, macToString, parseIpv4, parseMac, readMac } from '../../src/wire/address.js';
import {
  arpReply,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  etherType,
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_UDP,
  icmpEchoReplyFor,
  readArp,
  readIpv4Header,
  readU16,
  udpChecksumValid,
  udpFrame,
} from './helpers/frames.js';
import { NetworkNamespace, rootLink, run, runAsync, uniqueInterfaceName } from './helpers/namespace.js';

const availability = tapAvailability();
if (!availability.ok) console.warn(`TAP tests skipped: ${availability.reason}`);

const OUR_MAC = parseMac('02:74:63:70:74:73')!;

function ip(text: string): number {
  return parseIpv4(text)!;
}

/** Collects received frames and lets a test wait for one that matches. */
class FrameCollector {
  readonly frames: Uint8Array[] = [];
  private waiter: { match: (f: Uint8Array) => boolean; resolve: (f: Uint8Array) => void } | undefined;

  constructor(device: TapDevice) {
    device.setReceiver((frame) => {
      this.frames.push(frame);
      if (this.waiter?.match(frame)) {
        this.waiter.resolve(frame);
        this.waiter = undefined;
      }
    });
  }

  waitFor(match: (frame: Uint8Array) => boolean, timeoutMs = 5000): Promise<Uint8Array> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching frame arrived')), timeoutMs);
      this.waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
    });
  }
}

/** Resolves once `condition` holds, checked whenever a frame arrives; rejects after `timeoutMs`. */
function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not reached in time'));
      else setTimeout(check, 2);
    };
    check();
  });
}

const UDP_SENDER = `
import socket, struct, sys
count, port = int(sys.argv[1]), int(sys.argv[2])
pattern = bytes(range(256)) * 8
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    size = (i * 37) % 1400
    s.sendto(struct.pack('!I', i) + pattern[i % 256:i % 256 + size], (sys.argv[3], port))
`;

const UDP_RECEIVER = `
import socket, struct, sys
count, port = int(sys.argv[1]), int(sys.argv[2])
pattern = bytes(range(256)) * 8
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE: hold every datagram of the burst
s.bind((sys.argv[3], port))
s.settimeout(5)
print('ready', flush=True)
seen, bad = set(), 0
try:
    while len(seen) < count:
        data = s.recv(2048)
        i = struct.unpack('!I', data[:4])[0]
        size = (i * 37) % 1400
        if data[4:] != pattern[i % 256:i % 256 + size] or i in seen:
            bad += 1
        seen.add(i)
except socket.timeout:
    pass
print(len(seen), bad, flush=True)
`;

/** Checks a frame the kernel's UDP_SENDER produced and returns its sequence number, or -1 if it is wrong. */
function checkSenderFrame(frame: Uint8Array, kernelMac: number, subnet: string): number {
  if (readMac(frame, 0) !== OUR_MAC || readMac(frame, 6) !== kernelMac) return -1;
  if (etherType(frame) !== ETHERTYPE_IPV4) return -1;
  const header = readIpv4Header(frame);
  if (!header.headerChecksumValid || header.protocol !== IP_PROTOCOL_UDP) return -1;
  if (header.src !== ip(`${subnet}.1`) || header.dst !== ip(`${subnet}.2`)) return -1;
  if (frame.length !== 14 + header.totalLength || !udpChecksumValid(frame)) return -1;
  const udp = 14 + header.headerLength;
  if (readU16(frame, udp + 2) !== 9999) return -1;
  const seq =
    ((frame[udp + 8]! << 24) | (frame[udp + 9]! << 16) | (frame[udp + 10]! << 8) | frame[udp + 11]!) >>> 0;
  const size = (seq * 37) % 1400;
  if (header.totalLength !== 20 + 8 + 4 + size) return -1;
  for (let k = 0; k < size; k++) if (frame[udp + 12 + k] !== ((seq + k) & 0xff)) return -1;
  return seq;
}

describe.skipIf(!availability.ok)('TAP device against the Linux kernel', () => {
  let ns: NetworkNamespace;
  const devices: TapDevice[] = [];
  const persistentNames: string[] = [];

  function open(options: TapOptions): TapDevice {
    const device = openTap(options);
    devices.push(device);
    return device;
  }

  beforeAll(() => {
    ns = NetworkNamespace.create();
  });

  afterEach(() => {
    for (const device of devices.splice(0)) device.close();
    for (const name of persistentNames.splice(0)) {
      if (rootLink(name)) run('ip', ['link', 'delete', name]);
    }
  });

  afterAll(() => {
    ns?.delete();
  });

  it('creates an interface with the requested MTU and queue length, up, with its own MAC apart from ours', () => {
    const name = uniqueInterfaceName();
    const tap = open({ name, mac: OUR_MAC, mtu: 1400, kernelQueueLength: 4096 });
    expect(tap.name).toBe(name);
    expect(tap.created).toBe(true);
    expect(tap.mtu).toBe(1400);
    expect(tap.mac).toBe(OUR_MAC);
    expect(tap.checksumOffload).toBe(false);
    const link = rootLink(name)!;
    expect(link.mtu).toBe(1400);
    expect(link.txqlen).toBe(4096);
    expect(link.flags).toContain('UP');
    expect(parseMac(link.address)).toBe(tap.kernelMac);
    expect(tap.kernelMac).not.toBe(OUR_MAC);

    tap.close();
    expect(tap.closed).toBe(true);
    // Not persistent: the kernel deletes the interface with its last descriptor.
    expect(rootLink(name)).toBeUndefined();
  });

  it('picks a random locally administered unicast MAC by default, and a kernel-chosen name for tap%d', () => {
    const a = open({});
    const b = open({ name: 'tcpts%d' });
    expect(a.name).toMatch(/^tap\d+$/);
    expect(b.name).toMatch(/^tcpts\d+$/);
    for (const tap of [a, b]) {
      const firstOctet = Math.floor(tap.mac / 2 ** 40);
      expect(firstOctet & 0x03).toBe(0x02); // locally administered, unicast
      expect(tap.mac).not.toBe(tap.kernelMac);
    }
    expect(a.mac).not.toBe(b.mac);
  });

  it('keeps a persistent interface after close, attaches to it, and refuses what the kernel refuses', () => {
    const name = uniqueInterfaceName();
    persistentNames.push(name);
    expect(() => openTap({ name, mode: 'attach' })).toThrow(expect.objectContaining({ code: 'ENODEV' }));

    const first = open({ name, persistent: true, mtu: 1280 });
    expect(first.created).toBe(true);
    // A single-queue TAP has one reader: a second attach is refused.
    expect(() => openTap({ name })).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    first.close();
    expect(rootLink(name)?.mtu).toBe(1280);

    expect(() => openTap({ name, mode: 'create' })).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    const again = open({ name, mode: 'attach', persistent: false });
    expect(again.created).toBe(false);
    expect(again.mtu).toBe(1280);
    again.close();
    expect(rootLink(name)).toBeUndefined();
  });

  it('refuses to attach to a TUN interface', () => {
    const name = uniqueInterfaceName();
    persistentNames.push(name);
    run('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tun']);
    expect(() => openTap({ name, mode: 'attach' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('answers the kernel ARP request and echo request by hand, and the kernel ping succeeds', async () => {
    const name = uniqueInterfaceName();
    const tap = open({ name, mac: OUR_MAC, up: false });
    ns.adopt(name, '10.88.1.1/24');
    const kernelMac = parseMac(ns.link(name).address)!;
    expect(kernelMac).toBe(tap.kernelMac);
    const frames = new FrameCollector(tap);

    const ping = ns.execAsync(['ping', '-c', '1', '-W', '5', '10.88.1.2']);

    const request = await frames.waitFor((f) => etherType(f) === ETHERTYPE_ARP);
    expect(request.length).toBe(42);
    expect(readArp(request)).toEqual({
      dst: MAC_BROADCAST,
      src: kernelMac,
      hardwareType: 1,
      protocolType: ETHERTYPE_IPV4,
      hardwareLength: 6,
      protocolLength: 4,
      operation: 1,
      senderMac: kernelMac,
      senderIp: ip('10.88.1.1'),
      targetMac: 0,
      targetIp: ip('10.88.1.2'),
    });
    tap.send(arpReply(OUR_MAC, ip('10.88.1.2'), kernelMac, ip('10.88.1.1')));

    const echo = await frames.waitFor((f) => etherType(f) === ETHERTYPE_IPV4);
    expect(readMac(echo, 0)).toBe(OUR_MAC);
    expect(readMac(echo, 6)).toBe(kernelMac);
    const header = readIpv4Header(echo);
    expect(header).toMatchObject({
      version: 4,
      protocol: IP_PROTOCOL_ICMP,
      src: ip('10.88.1.1'),
      dst: ip('10.88.1.2'),
      headerChecksumValid: true,
    });
    const icmp = 14 + header.headerLength;
    expect([echo[icmp], echo[icmp + 1]]).toEqual([8, 0]); // echo request, code 0

    // The reply goes out as a view into a larger buffer: the device must write exactly the view's bytes.
    const reply = icmpEchoReplyFor(echo, OUR_MAC);
    const carrier = new Uint8Array(reply.length + 100).fill(0xee);
    carrier.set(reply, 37);
    tap.send(carrier.subarray(37, 37 + reply.length));

    const result = await ping;
    expect(result.stdout).toContain('1 packets transmitted, 1 received');
    expect(result.code).toBe(0);
    expect(tap.stats).toMatchObject({ framesReceived: 2, framesSent: 2, framesUnclaimed: 0, sendErrors: 0 });
    expect(frames.frames.length).toBe(2);
  });

  it('receives a flood of 10,000 kernel UDP datagrams, every one intact', async () => {
    const count = 10_000;
    const name = uniqueInterfaceName();
    // The kernel queue holds the whole flood, so nothing is lost even if the reader falls behind.
    const tap = open({ name, mac: OUR_MAC, up: false, kernelQueueLength: 16384 });
    ns.adopt(name, '10.88.2.1/24');
    ns.ip('neigh', 'replace', '10.88.2.2', 'lladdr', macToString(OUR_MAC), 'dev', name, 'nud', 'permanent');

    const seen = new Uint8Array(count);
    let valid = 0;
    let invalid = 0;
    let firstAt = 0;
    let lastAt = 0;
    tap.setReceiver((frame) => {
      const seq = checkSenderFrame(frame, tap.kernelMac, '10.88.2');
      if (seq < 0 || seq >= count || seen[seq]) {
        invalid++;
        return;
      }
      seen[seq] = 1;
      if (valid++ === 0) firstAt = performance.now();
      lastAt = performance.now();
    });

    const sender = await ns.execAsync(['python3', '-c', UDP_SENDER, String(count), '9999', '10.88.2.2']);
    expect(sender.code, sender.stderr).toBe(0);
    await until(() => valid + invalid >= count, 5000);

    expect(invalid).toBe(0);
    expect(valid).toBe(count);
    const perSecond = Math.round(count / ((lastAt - firstAt) / 1000));
    console.info(
      `TAP receive, kernel flooding concurrently, every byte checked: ${perSecond} frames/s, ` +
        `${(tap.stats.framesReceived / tap.stats.receiveWakeups).toFixed(1)} frames per wake-up`,
    );
  });

  it('drains a queued burst at up to receiveBudget frames per wake-up', async () => {
    const count = 10_000;
    const budget = 256;
    const name = uniqueInterfaceName();
    const tap = open({ name, mac: OUR_MAC, up: false, kernelQueueLength: 16384, receiveBudget: budget });
    ns.adopt(name, '10.88.3.1/24');
    ns.ip('neigh', 'replace', '10.88.3.2', 'lladdr', macToString(OUR_MAC), 'dev', name, 'nud', 'permanent');

    // Frames are only kept while draining, so the rate is the device's; they are checked afterwards,
    // which also proves that later reads never overwrite the views handed out earlier.
    const received: Uint8Array[] = [];
    tap.setReceiver((frame) => received.push(frame));
    tap.pause();
    const sender = await ns.execAsync(['python3', '-c', UDP_SENDER, String(count), '9999', '10.88.3.2']);
    expect(sender.code, sender.stderr).toBe(0);
    expect(tap.stats.framesReceived).toBe(0);

    const started = performance.now();
    tap.resume();
    await until(() => received.length >= count, 5000);
    const elapsed = performance.now() - started;

    expect(received.map((frame) => checkSenderFrame(frame, tap.kernelMac, '10.88.3'))).toEqual(
      Array.from({ length: count }, (_, i) => i),
    );
    expect(tap.stats.framesReceived).toBe(count);
    // Each wake-up reads a full budget until the queue runs dry: 39 x 256 + 16.
    expect(tap.stats.receiveWakeups).toBe(Math.ceil(count / budget));
    console.info(
      `TAP receive, draining a queued burst: ${Math.round(count / (elapsed / 1000))} frames/s ` +
        `(${count} frames, ${tap.stats.receiveWakeups} wake-ups)`,
    );
  });

  it('sends 10,000 UDP datagrams that the kernel delivers intact to a socket', async () => {
    const count = 10_000;
    const name = uniqueInterfaceName();
    const tap = open({ name, mac: OUR_MAC, up: false });
    ns.adopt(name, '10.88.4.1/24');
    const kernelMac = tap.kernelMac;

    let announced: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      announced = resolve;
    });
    const receiver = runAsync(
      'ip',
      ['netns', 'exec', ns.name, 'python3', '-c', UDP_RECEIVER, String(count), '7777', '10.88.4.1'],
      15_000,
      (chunk) => {
        if (chunk.includes('ready')) announced();
      },
    );
    await ready;

    const pattern = new Uint8Array(2048).map((_, i) => i & 0xff);
    const outgoing: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const size = (i * 37) % 1400;
      const payload = new Uint8Array(4 + size);
      new DataView(payload.buffer).setUint32(0, i);
      payload.set(pattern.subarray(i % 256, (i % 256) + size), 4);
      outgoing.push(
        udpFrame({
          dstMac: kernelMac,
          srcMac: OUR_MAC,
          src: ip('10.88.4.2'),
          dst: ip('10.88.4.1'),
          srcPort: 40000,
          dstPort: 7777,
          id: i & 0xffff,
          payload,
        }),
      );
    }
    const started = performance.now();
    for (const frame of outgoing) tap.send(frame);
    const elapsed = performance.now() - started;

    const result = await receiver;
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n').at(-1)).toBe(`${count} 0`);
    expect(tap.stats).toMatchObject({
      framesSent: count,
      sendQueueDrops: 0,
      sendErrors: 0,
      framesLinkDown: 0,
    });
    console.info(`TAP send: ${Math.round(count / (elapsed / 1000))} frames/s into the kernel`);
  });

  it('drops frames larger than the MTU and counts writes to a down interface', () => {
    const name = uniqueInterfaceName();
    const tap = open({ name, mac: OUR_MAC, mtu: 1000, up: false });
    const payload = new Uint8Array(1000 - 28);
    const fits = udpFrame({
      dstMac: tap.kernelMac,
      srcMac: OUR_MAC,
      src: ip('10.88.5.2'),
      dst: ip('10.88.5.1'),
      srcPort: 1,
      dstPort: 2,
      id: 1,
      payload,
    });
    const tooBig = udpFrame({
      dstMac: tap.kernelMac,
      srcMac: OUR_MAC,
      src: ip('10.88.5.2'),
      dst: ip('10.88.5.1'),
      srcPort: 1,
      dstPort: 2,
      id: 2,
      payload: new Uint8Array(payload.length + 1),
    });
    tap.send(tooBig);
    expect(tap.stats.framesOversize).toBe(1);
    // The interface is administratively down: the kernel refuses the write with EIO.
    tap.send(fits);
    expect(tap.stats).toMatchObject({ framesLinkDown: 1, framesSent: 0 });
    run('ip', ['link', 'set', name, 'up']);
    tap.send(fits);
    expect(tap.stats).toMatchObject({ framesLinkDown: 1, framesSent: 1, bytesSent: fits.length });
  });

  it('reports the interface being deleted with an ENODEV error and closes', async () => {
    const name = uniqueInterfaceName();
    const tap = open({ name, persistent: true });
    persistentNames.push(name);
    const events: string[] = [];
    const closed = new Promise<void>((resolve) => tap.on('close', resolve));
    tap.on('error', (error: Error & { code?: string }) => events.push(`error ${error.code}`));
    run('ip', ['link', 'delete', name]);
    await closed;
    expect(events).toEqual(['error ENODEV']);
    expect(tap.closed).toBe(true);
  });

  it('lets the process exit once closed, keeps it alive while open, and not when unref()ed', async () => {
    const child = (scenario: string, ...extra: string[]) =>
      runAsync(
        'node',
        ['--import', 'tsx', 'test/tap/helpers/tap-child.ts', scenario, uniqueInterfaceName(), ...extra],
        // Generous: starting Node with tsx takes seconds on a loaded machine; a child that wrongly stays
        // alive is still caught (it is killed and its exit code is null).
        30_000,
      );
    const [closedChild, openChild, unrefChild, pendingChild] = await Promise.all([
      child('open-then-close'),
      child('open-stays-alive'),
      child('open-unref'),
      child('exit-with-frame-waiting', ns.name),
    ]);
    expect(closedChild).toMatchObject({ code: 0, stdout: 'closed\n', stderr: '' });
    expect(openChild).toMatchObject({ code: 0, stdout: 'still alive\n', stderr: '' });
    expect(unrefChild).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // Exiting with an unref'd device open and a frame waiting on it: a clean exit, not an abort.
    expect(pendingChild).toMatchObject({ code: 0, stdout: 'frame sent\n', stderr: '' });
  });

  it('tells a process without CAP_NET_ADMIN why it cannot open a TAP device', async () => {
    const name = uniqueInterfaceName();
    const result = await runAsync(
      'setpriv',
      [
        '--inh-caps=-net_admin',
        '--bounding-set=-net_admin',
        'node',
        '--import',
        'tsx',
        'test/tap/helpers/tap-child.ts',
        'unprivileged',
        name,
      ],
      10_000,
    );
    expect(result.stderr).toBe('');
    const [availabilityLine, openLine] = result.stdout.trim().split('\n');
    expect(JSON.parse(availabilityLine!)).toEqual({
      ok: false,
      code: 'EPERM',
      reason: 'this process lacks CAP_NET_ADMIN, which creating TAP interfaces needs (run as root)',
    });
    const failure = JSON.parse(openLine!) as { code: string; message: string };
    expect(failure.code).toBe('EPERM');
    expect(failure.message).toContain('CAP_NET_ADMIN');
    expect(rootLink(name)).toBeUndefined();
  });
});

describe('TAP options', () => {
  it('rejects bad options with EINVAL before touching the kernel', () => {
    expect(() => openTap({ name: 'has/slash' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ name: 'a-name-too-long-x' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ mtu: 67 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ mtu: 1500.5 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ mac: parseMac('01:00:5e:00:00:01')! })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => openTap({ mac: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ receiveBudget: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ sendQueueLimit: -1 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => openTap({ name: 'tap%d', mode: 'attach' })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
