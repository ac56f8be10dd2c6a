/**
 * The `tcpts nc` and `tcpts ping` commands, run as child processes exactly as a user types them, against
 * kernel programs in a namespace of the test's own holding the TAP interface.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command-line.js';
import { runCli } from '../../src/cli/run-cli.js';
import { macToString } from '../../src/wire/address.js';
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../../src/wire/tcp.js';
import { readCapture } from './helpers/capture.js';
import { CliLink, removeAllLinks } from './helpers/cli-link.js';
import { explainSkip, oneConnectionServer, UDP_CLIENT, UDP_ECHO_SERVER } from './helpers/kernel-peer.js';
import { sha256sumOutput, TempDirectory } from './helpers/test-data.js';

const skip = explainSkip('interop CLI tests');
const directory = new TempDirectory();

afterAll(() => {
  removeAllLinks();
  directory.remove();
});

function regexpLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The kernel's neighbour entry (MAC) for `address`, as `ip neigh` shows it. */
async function kernelNeighbour(link: CliLink, address: string): Promise<string | undefined> {
  const neigh = await link.run(['ip', '-j', 'neigh', 'show', address]);
  const entries = JSON.parse(neigh.stdout || '[]') as Array<{ lladdr?: string }>;
  return entries[0]?.lladdr;
}

/** Accepts one connection, reads to EOF, answers with the SHA-256 of what it read, and closes. */
const SHA_SERVER = oneConnectionServer(
  `l.close()
h = hashlib.sha256()
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
c.sendall((h.hexdigest() + '\\n').encode())
c.close()
`,
  ['hashlib'],
);

/** Accepts one connection and resets it (SO_LINGER 0). */
const RESET_SERVER = oneConnectionServer(
  `time.sleep(0.2)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
`,
  ['struct', 'time'],
);

/** Connects and writes without blocking for a while; prints how many bytes the kernel took. */
const FLOOD_CLIENT = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setblocking(False)
total = 0
end = time.time() + float(sys.argv[3])
while time.time() < end:
    try:
        total += s.send(b'x' * 65536)
    except BlockingIOError:
        time.sleep(0.02)
print(total, flush=True)
`;

describe.skipIf(skip)('tcpts nc and tcpts ping against the kernel', () => {
  it('nc -l PORT --echo: serves the kernel, records a pcap, uses a MAC of its own, exits at once on SIGINT', async () => {
    const link = new CliLink();
    try {
      const pcap = directory.file('echo.pcap');
      const nc = link.tcpts([
        'nc',
        ...link.tapArguments,
        '--pcap',
        pcap,
        '-l',
        '8080',
        '--echo',
        '--rcvbuf',
        '8192',
        '--sndbuf',
        '4096',
      ]);
      await nc.waitFor(new RegExp(`listening on ${regexpLiteral(link.tcptsAddress)}:8080`), 20_000, 'stderr');
      const data = randomBytes(1024 * 1024);
      const input = directory.file('echo-input.bin');
      writeFileSync(input, data);
      // socat ends its sending side at the file's end and exits once tcpts has closed its side too.
      const socat = await link.run([
        'bash',
        '-c',
        `set -o pipefail; socat -t 30 OPEN:${input},rdonly!!STDOUT TCP:${link.tcptsAddress}:8080 | sha256sum`,
      ]);
      expect(socat.code).toBe(0);
      expect(sha256sumOutput(socat.stdout)).toBe(sha256(data));
      await nc.waitFor(/connection from .* closed/, 10_000, 'stderr');
      expect(nc.stderr).toMatch(new RegExp(`connection from ${regexpLiteral(link.kernelAddress)}:\\d+\n`));

      // tcpts's own MAC: random, unicast, locally administered, not the TAP interface's. (Asked while nc
      // runs: when its descriptor closes the interface loses carrier and the kernel forgets its neighbours.)
      const tapMac = link.namespace.link(link.ifname).address;
      const ours = await kernelNeighbour(link, link.tcptsAddress);
      expect(ours).toBeDefined();
      expect(ours).not.toBe(tapMac);
      const firstOctet = Number.parseInt(ours!.slice(0, 2), 16);
      expect(firstOctet & 0x03).toBe(0x02);

      const signalled = performance.now();
      nc.kill('SIGINT');
      const exit = await nc.finish(5000);
      expect(exit.code).toBe(130);
      expect(exit.at - signalled).toBeLessThan(2000);

      const frames = readCapture(pcap);
      const syn = frames.find(
        (f) => f.tcp !== undefined && f.tcp.flags === TCP_SYN && f.tcp.dstPort === 8080,
      );
      expect(syn?.src).toBe(link.kernelAddress);
      // --rcvbuf is the window tcpts offers (without window scaling, the SYN-ACK's window field itself).
      const synAck = frames.find((f) => f.src === link.tcptsAddress && f.tcp?.flags === (TCP_SYN | TCP_ACK));
      expect(synAck?.tcp?.window).toBe(8192);
      expect(
        Math.max(...frames.filter((f) => f.src === link.tcptsAddress).map((f) => f.tcp?.window ?? 0)),
      ).toBe(8192);
      expect(
        frames.some(
          (f) => f.src === link.tcptsAddress && f.tcp !== undefined && (f.tcp.flags & TCP_FIN) !== 0,
        ),
      ).toBe(true);
      for (const frame of frames.filter((f) => f.src === link.tcptsAddress)) {
        expect(macToString(frame.srcMac)).toBe(ours);
      }
    } finally {
      link.close();
    }
  });

  it('nc -l PORT --discard --mac MAC: reads and drops, closes after the FIN, answers ARP with that MAC', async () => {
    const link = new CliLink();
    try {
      const nc = link.tcpts([
        'nc',
        ...link.tapArguments,
        '--mac',
        '02:aa:bb:cc:dd:ee',
        '-l',
        '9',
        '--discard',
      ]);
      await nc.waitFor(/listening on/, 20_000, 'stderr');
      const socat = await link.run([
        'bash',
        '-c',
        `set -o pipefail; head -c 1000000 /dev/zero | socat -t 30 - TCP:${link.tcptsAddress}:9 | wc -c`,
      ]);
      expect(socat.code).toBe(0);
      expect(socat.stdout.trim()).toBe('0');
      expect(await kernelNeighbour(link, link.tcptsAddress)).toBe('02:aa:bb:cc:dd:ee');
      nc.kill('SIGTERM');
      expect((await nc.finish(5000)).code).toBe(143);
    } finally {
      link.close();
    }
  });

  it('nc -l PORT --hold --rcvbuf BYTES: never reads, so the window closes at exactly the buffer size', async () => {
    const link = new CliLink();
    try {
      const pcap = directory.file('hold.pcap');
      const nc = link.tcpts([
        'nc',
        ...link.tapArguments,
        '--pcap',
        pcap,
        '-l',
        '7000',
        '--hold',
        '--rcvbuf',
        '20000',
      ]);
      await nc.waitFor(/listening on/, 20_000, 'stderr');
      const flood = await link.run(['python3', '-c', FLOOD_CLIENT, link.tcptsAddress, '7000', '1.5']);
      expect(flood.code).toBe(0);
      // The kernel buffered far more than tcpts took: the rest waits behind the closed window.
      expect(Number(flood.stdout.trim())).toBeGreaterThan(20000);
      nc.kill('SIGINT');
      await nc.finish(5000);
      const frames = readCapture(pcap);
      const synAck = frames.find((f) => f.src === link.tcptsAddress && f.tcp?.flags === (TCP_SYN | TCP_ACK));
      expect(synAck).toBeDefined();
      const peerIsn = (synAck!.tcp!.ack - 1) >>> 0;
      const ours = frames.filter(
        (f) => f.src === link.tcptsAddress && f.tcp !== undefined && (f.tcp.flags & 0x04) === 0,
      );
      const received = (f: (typeof ours)[number]) => ((f.tcp!.ack - peerIsn - 1) >>> 0) % 2 ** 32;
      expect(Math.max(...ours.map(received))).toBe(20000);
      const closing = ours.find((f) => received(f) === 20000);
      expect(closing?.tcp?.window).toBe(0);
    } finally {
      link.close();
    }
  });

  it('nc HOST PORT: sends stdin, half-closes at its end, prints the reply, stays 2*MSL, exits 0', async () => {
    const link = new CliLink();
    try {
      const server = link.start(['python3', '-c', SHA_SERVER, link.kernelAddress, '5000']);
      await server.waitFor(/listening/);
      const nc = link.tcpts(['nc', ...link.tapArguments, '--msl', '1', link.kernelAddress, '5000'], 'pipe');
      await nc.waitFor(
        new RegExp(`connected to ${regexpLiteral(link.kernelAddress)}:5000`),
        20_000,
        'stderr',
      );
      const data = randomBytes(1024 * 1024);
      nc.endInput(data);
      // The server answers only after tcpts's FIN: the reply proves reading went on after the half-close.
      await nc.waitFor(/both directions closed/, 20_000, 'stderr');
      const closedAt = performance.now();
      const exit = await nc.finish(10_000);
      expect(nc.stdout).toBe(`${sha256(data)}\n`);
      expect(exit.code).toBe(0);
      // 2*MSL = 2 s after saying so (minus the time the message took to reach us).
      expect(exit.at - closedAt).toBeGreaterThan(1900);
      expect(exit.at - closedAt).toBeLessThan(5000);
      // tcpts closed first: the kernel went through LAST-ACK and keeps nothing.
      const ss = await link.run(['ss', '-tanH']);
      expect(ss.stdout.trim()).toBe('');
      await server.finish(5000);
    } finally {
      link.close();
    }
  });

  it('nc HOST PORT: refusal, reset and timeout exit 1 with the error on stderr', async () => {
    const link = new CliLink();
    try {
      const refused = link.tcpts(['nc', ...link.tapArguments, link.kernelAddress, '9'], 'pipe');
      const refusedExit = await refused.finish(20_000);
      expect(refusedExit.code).toBe(1);
      expect(refused.stderr).toContain(`ECONNREFUSED ${link.kernelAddress}:9`);

      const server = link.start(['python3', '-c', RESET_SERVER, link.kernelAddress, '5001']);
      await server.waitFor(/listening/);
      const reset = link.tcpts(['nc', ...link.tapArguments, link.kernelAddress, '5001'], 'pipe');
      const resetExit = await reset.finish(20_000);
      expect(resetExit.code).toBe(1);
      expect(reset.stderr).toContain('connected to');
      expect(reset.stderr).toContain('ECONNRESET');

      // Nobody has this address: ARP goes unanswered and -w gives up.
      const subnet = link.kernelAddress.slice(0, link.kernelAddress.lastIndexOf('.'));
      const timedOut = link.tcpts(['nc', ...link.tapArguments, '-w', '1', `${subnet}.77`, '80'], 'pipe');
      const timedOutExit = await timedOut.finish(20_000);
      expect(timedOutExit.code).toBe(1);
      expect(timedOut.stderr).toContain(`ETIMEDOUT ${subnet}.77:80`);
    } finally {
      link.close();
    }
  });

  it('nc -u -l PORT --echo and nc -u HOST PORT', async () => {
    const link = new CliLink();
    try {
      const echo = link.tcpts(['nc', ...link.tapArguments, '-u', '-l', '5353', '--echo']);
      await echo.waitFor(/listening on .*:5353/, 20_000, 'stderr');
      const client = await link.run([
        'python3',
        '-c',
        UDP_CLIENT,
        link.tcptsAddress,
        '5353',
        '1',
        '1472',
        '4000',
      ]);
      expect(client.stdout).toBe('ok 1 1\nok 1472 1472\nok 4000 4000\n');
      echo.kill('SIGINT');
      await echo.finish(5000);

      const server = link.start(['python3', '-c', UDP_ECHO_SERVER, link.kernelAddress, '5354']);
      await server.waitFor(/ready/);
      const nc = link.tcpts(['nc', ...link.tapArguments, '-u', link.kernelAddress, '5354'], 'pipe');
      await nc.waitFor(/connected to .*:5354/, 20_000, 'stderr');
      nc.endInput('hello over udp\n');
      const exit = await nc.finish(10_000);
      expect(nc.stdout).toBe('hello over udp\n');
      expect(exit.code).toBe(0);
    } finally {
      link.close();
    }
  });

  it('ping HOST -c COUNT prints like ping(8) and records a pcap', async () => {
    const link = new CliLink();
    try {
      const pcap = directory.file('ping.pcap');
      const ping = link.tcpts([
        'ping',
        ...link.tapArguments,
        '--pcap',
        pcap,
        link.kernelAddress,
        '-c',
        '3',
        '-i',
        '0.2',
      ]);
      const exit = await ping.finish(20_000);
      expect(exit.code).toBe(0);
      const k = regexpLiteral(link.kernelAddress);
      const lines = ping.stdout.split('\n');
      expect(lines[0]).toBe(`PING ${link.kernelAddress} (${link.kernelAddress}) 56(84) bytes of data.`);
      for (let seq = 1; seq <= 3; seq++) {
        expect(lines[seq]).toMatch(
          new RegExp(`^64 bytes from ${k}: icmp_seq=${seq} ttl=64 time=\\d+(\\.\\d+)? ms$`),
        );
      }
      expect(lines[4]).toBe('');
      expect(lines[5]).toBe(`--- ${link.kernelAddress} ping statistics ---`);
      expect(lines[6]).toMatch(/^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$/);
      expect(lines[7]).toMatch(
        /^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/,
      );
      const frames = readCapture(pcap);
      expect(
        frames.filter((f) => f.icmp?.kind === 'echo-request' && f.dst === link.kernelAddress),
      ).toHaveLength(3);
      expect(
        frames.filter((f) => f.icmp?.kind === 'echo-reply' && f.src === link.kernelAddress),
      ).toHaveLength(3);
    } finally {
      link.close();
    }
  });
});

describe('tcpts nc and ping command lines', () => {
  function io(): CliIo & { out: string; err: string } {
    const captured = {
      out: '',
      err: '',
      env: {},
      cwd: directory.path,
      stdout: { write: (text: string) => (captured.out += text) },
      stderr: { write: (text: string) => (captured.err += text) },
    };
    return captured;
  }

  it.each([
    [['nc', '-l', '80'], '--tap IFNAME is required'],
    [['nc', '--tap', 'tap0', '-l', '80'], '--ip ADDR/PREFIX is required'],
    [
      ['nc', '--tap', 'tap0', '--ip', '10.0.0.2', '-l', '80'],
      "--ip wants ADDR/PREFIX, e.g. 10.9.0.2/24; got '10.0.0.2'",
    ],
    [['nc', '--tap', 'tap0', '--ip', '10.0.0.2/24'], 'give -l PORT to listen, or HOST PORT to connect'],
    [
      ['nc', '--tap', 'tap0', '--ip', '10.0.0.2/24', '-l', '80', '--echo', '--hold'],
      'choose one of --echo, --discard, --hold',
    ],
    [
      ['nc', '--tap', 'tap0', '--ip', '10.0.0.2/24', '10.0.0.1', '80', '--echo'],
      '--echo is for listening (-l PORT)',
    ],
    [['nc', '--tap', 'tap0', '--ip', '10.0.0.2/24', '-u', '-l', '80', '--hold'], '--hold is for TCP'],
    [
      ['nc', '--tap', 'tap0', '--ip', '10.0.0.2/24', '-l', '70000'],
      '--listen wants an integer from 1 to 65535',
    ],
    [
      ['nc', '--tap', 'tap0', '--ip', '10.0.0.2/24', '--mtu', '40', '-l', '80'],
      '--mtu wants an integer from 68 to 65535',
    ],
    [['ping', '--tap', 'tap0', '--ip', '10.0.0.2/24'], 'give exactly one HOST to ping'],
    [
      ['ping', '--tap', 'tap0', '--ip', '10.0.0.2/24', 'example.com'],
      "HOST must be an IPv4 or IPv6 address; got 'example.com'",
    ],
    [
      ['ping', '--tap', 'tap0', '--ip', '10.0.0.2/24', '10.0.0.1', '-c', '0'],
      '--count wants an integer from 1',
    ],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const out = io();
    expect(await runCli(args, out)).toBe(2);
    expect(out.err).toContain(message);
    expect(out.err).toContain(`Try 'tcpts ${args[0]} --help'.`);
  });

  it('--help lists the forms of the issue', async () => {
    const out = io();
    expect(await runCli(['nc', '--help'], out)).toBe(0);
    expect(out.out).toContain(
      'tcpts nc --tap IFNAME --ip ADDR/PREFIX [--gateway ADDR] [--mtu N] [--pcap FILE] -l PORT [--echo | --discard | --hold] [--rcvbuf BYTES] [--sndbuf BYTES]',
    );
    expect(out.out).toContain(
      'tcpts nc --tap IFNAME --ip ADDR/PREFIX -u [options] (-l PORT [--echo] | HOST PORT)',
    );
    const ping = io();
    expect(await runCli(['ping', '--help'], ping)).toBe(0);
    expect(ping.out).toContain('tcpts ping --tap IFNAME --ip ADDR/PREFIX [options] HOST [-c COUNT]');
  });

  it('a MAC address that is not unicast is refused before anything is opened', async () => {
    const out = io();
    expect(
      await runCli(
        ['nc', '--tap', 'tcptsnever0', '--ip', '10.0.0.2/24', '--mac', '01:00:5e:00:00:01', '-l', '80'],
        out,
      ),
    ).toBe(1);
    expect(out.err).toContain('EINVAL');
    expect(existsSync('/sys/class/net/tcptsnever0')).toBe(false);
  });
});
