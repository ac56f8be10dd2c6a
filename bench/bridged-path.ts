/**
 * A real-time emulated path between two network namespaces, for kernel goodput figures: `tcpts bridge`
 * runs as its own process (its own event loop, so nothing measured here slows it) joining a TAP interface
 * in namespace A to one in namespace B, with delay, rate, a drop-tail queue and seeded loss.
 *
 *   namespace A: Linux bridge br0 (10.88.210.1/24)      namespace B: 10.88.210.2/24 on the TAP
 *                  |-- TAP a <== tcpts bridge ==> TAP b
 *                  |-- TAP t: a tcpts host (10.88.210.3/24), when a case wants one
 *
 * The Linux bridge in A lets a tcpts host and A's kernel share the emulated path's near end, so one path
 * serves kernel-to-kernel runs and tcpts-to-kernel runs alike. The kernel ends are small Python programs
 * (the congestion control chosen per socket with TCP_CONGESTION, retransmissions read from TCP_INFO).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTapHost, type TapHost } from '../src/cli/tap-host.js';
import { openTap } from '../src/link/tap/index.js';
import type { TcpConfig } from '../src/tcp/config.js';
import { pythonIn, runAsync, runListening, sh, uniqueName } from './processes.js';

export interface PathSettings {
  rateBitsPerSecond: number;
  /** One-way delay, ms. */
  delayMs: number;
  loss: number;
}

export const NEAR_KERNEL = '10.88.210.1';
export const FAR_KERNEL = '10.88.210.2';
export const TCPTS = '10.88.210.3';

/**
 * Seconds a sender waits, after its last write, for the receiver to take what is still queued before it
 * resets the connection: a case never runs much longer than asked, however slowly its flow drains.
 */
export const DRAIN_GRACE_SECONDS = 5;

/**
 * Sends for `seconds` with the given congestion control; prints bytes sent and tcpi_total_retrans. If the
 * receiver has not closed its side DRAIN_GRACE_SECONDS after the last write, the connection is reset
 * (SO_LINGER 0), so a slow flow does not hold the suite for as long as its send buffer takes to drain.
 */
const SENDER = `
import socket, sys, time, struct
host, port, cc, secs, grace = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), float(sys.argv[4]), float(sys.argv[5])
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc)
s.connect((host, port))
block = bytes(1 << 16)
end = time.perf_counter() + secs
sent = 0
s.settimeout(0.5)
while time.perf_counter() < end:
    try:
        sent += s.send(block)
    except socket.timeout:
        pass
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
s.shutdown(socket.SHUT_WR)
s.settimeout(grace)
try:
    s.recv(1)
except socket.timeout:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()
print(sent, struct.unpack_from('I', info, 100)[0], flush=True)
`;

/**
 * Accepts one connection per port given; prints 'listening', then per connection: bytes, seconds from
 * accept to EOF (or to the sender's reset), and the bytes received from second MARK to second UNTIL after
 * the accept. Goodput is taken over that window, not to EOF: what the sender still had buffered when it
 * stopped writing drains afterwards at the full rate of the path, and dividing by the time to EOF counted
 * that tail too, where the simulation counts exactly the bytes delivered in its window.
 */
const RECEIVER = `
import socket, sys, time, threading
host, mark, until, ports = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), [int(p) for p in sys.argv[4:]]
listeners = []
for p in ports:
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, p))
    l.listen(1)
    listeners.append(l)
print('listening', flush=True)
results = [None] * len(ports)
def serve(i):
    c, _ = listeners[i].accept()
    start = time.perf_counter()
    buf = bytearray(1 << 20)
    total = 0
    at_mark = 0
    at_until = 0
    while True:
        try:
            n = c.recv_into(buf)
        except ConnectionResetError:
            # The sender gave up waiting for its queue to drain (DRAIN_GRACE_SECONDS): the flow ends here.
            n = 0
        if n == 0:
            break
        total += n
        t = time.perf_counter() - start
        if t <= mark:
            at_mark = total
        if t <= until:
            at_until = total
    c.close()
    elapsed = time.perf_counter() - start
    results[i] = (total, elapsed, at_until - at_mark, min(until, elapsed) - mark)
threads = [threading.Thread(target=serve, args=(i,)) for i in range(len(ports))]
for t in threads: t.start()
for t in threads: t.join()
for r in results: print(*r, flush=True)
`;

export interface ReceivedFlow {
  /** Bytes received from accept to EOF (or the sender's reset), and the seconds that took. */
  bytes: number;
  seconds: number;
  /** Bytes received in the measurement window (from second `mark` to second `until` after accept). */
  windowBytes: number;
  /** The window's length: `until - mark`, or less if the flow ended before `until`. */
  windowSeconds: number;
}

export class BridgedPath {
  private constructor(
    readonly nsA: string,
    readonly nsB: string,
    private readonly bridgeStats: string[],
    private readonly stopBridge: () => Promise<void>,
  ) {}

  /** Sets the path up, runs `body`, and removes everything (namespaces, bridge process) even on failure. */
  static async with<T>(path: PathSettings, body: (p: BridgedPath) => Promise<T>): Promise<T> {
    const nsA = uniqueName('tcpts-gp-a-');
    const nsB = uniqueName('tcpts-gp-b-');
    const tapA = uniqueName('gpa');
    const tapB = uniqueName('gpb');
    sh('ip', ['netns', 'add', nsA]);
    sh('ip', ['netns', 'add', nsB]);
    let stop: (() => Promise<void>) | undefined;
    try {
      const bin = fileURLToPath(new URL('../bin/tcpts.js', import.meta.url));
      const args = [
        bin,
        'bridge',
        ...['--a', tapA, '--b', tapB, '--netns-a', nsA, '--netns-b', nsB],
        ...['--delay', String(path.delayMs), '--rate', String(path.rateBitsPerSecond)],
        ...(path.loss > 0 ? ['--loss', String(path.loss)] : []),
        ...['--seed', '1', '--stats', '1'],
      ];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const stats: string[] = [];
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (text: string) => {
          if (text.includes('<->')) resolve();
          else reject(new Error(`tcpts bridge: ${text.trim()}`));
        });
        child.on('close', (code) => reject(new Error(`tcpts bridge exited with ${code}`)));
      });
      child.stdout.setEncoding('utf8').on('data', (text: string) => stats.push(...text.split('\n')));
      stop = async () => {
        child.kill('SIGTERM');
        await exited;
      };
      for (const ns of [nsA, nsB])
        sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      sh('ip', ['-n', nsA, 'link', 'add', 'br0', 'type', 'bridge']);
      sh('ip', ['-n', nsA, 'link', 'set', tapA, 'master', 'br0']);
      sh('ip', ['-n', nsA, 'addr', 'add', `${NEAR_KERNEL}/24`, 'dev', 'br0']);
      sh('ip', ['-n', nsA, 'link', 'set', 'br0', 'up']);
      sh('ip', ['-n', nsB, 'addr', 'add', `${FAR_KERNEL}/24`, 'dev', tapB]);
      sh('ip', ['netns', 'exec', nsA, 'ping', '-c', '1', '-W', '5', FAR_KERNEL]);
      return await body(new BridgedPath(nsA, nsB, stats, stop));
    } finally {
      await stop?.();
      sh('ip', ['netns', 'delete', nsA]);
      sh('ip', ['netns', 'delete', nsB]);
    }
  }

  /** The bridge's last statistics line (per direction: rate, drops, lateness), for notes. */
  lastBridgeStats(): string {
    return this.bridgeStats.filter((line) => line !== '').at(-1) ?? '';
  }

  /**
   * Starts receivers in `ns` on `ports`, each measuring from second `markSeconds` to `untilSeconds` after
   * its accept; `done` gives one result per port.
   */
  receive(
    ns: string,
    address: string,
    ports: readonly number[],
    markSeconds: number,
    untilSeconds: number,
  ): { ready: Promise<void>; done: Promise<ReceivedFlow[]> } {
    const server = runListening(pythonIn(ns, RECEIVER, address, markSeconds, untilSeconds, ...ports));
    const done = server.done.then((output) =>
      output
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => {
          const [bytes, seconds, windowBytes, windowSeconds] = line.split(' ').map(Number) as [
            number,
            number,
            number,
            number,
          ];
          return { bytes, seconds, windowBytes, windowSeconds };
        }),
    );
    return { ready: server.ready, done };
  }

  /** A kernel sender in `ns`; resolves with its retransmissions (tcpi_total_retrans). */
  async kernelSend(ns: string, to: string, port: number, cc: string, seconds: number): Promise<number> {
    const out = await runAsync(pythonIn(ns, SENDER, to, port, cc, seconds, DRAIN_GRACE_SECONDS));
    return Number(out.trim().split(' ')[1]);
  }

  /** A tcpts host on a TAP interface joined to namespace A's bridge. */
  tcptsHost(tcp: Partial<TcpConfig>): TapHost {
    const name = uniqueName('gpt');
    const tap = openTap({ name, up: false });
    sh('ip', ['link', 'set', name, 'netns', this.nsA]);
    sh('ip', ['-n', this.nsA, 'link', 'set', name, 'master', 'br0']);
    sh('ip', ['-n', this.nsA, 'link', 'set', name, 'up']);
    // Each host comes with a new MAC address for the same IP address: the far kernel must ask again.
    sh('ip', ['-n', this.nsB, 'neigh', 'flush', 'all']);
    return createTapHost({ tap, ip: `${TCPTS}/24`, tcp });
  }

  async close(): Promise<void> {
    await this.stopBridge();
  }
}

/**
 * tcpts sends for `seconds` to a receiver already listening; resolves with its retransmissions. Like the
 * kernel sender, it resets the connection if the receiver has not taken everything DRAIN_GRACE_SECONDS
 * after the last write.
 */
export async function tcptsSend(host: TapHost, to: string, port: number, seconds: number): Promise<number> {
  const block = Buffer.alloc(1 << 16);
  const socket = host.net.connect({ host: to, port });
  return new Promise<number>((resolve, reject) => {
    let end = 0;
    const pump = (): void => {
      while (performance.now() < end) {
        if (!socket.write(block)) {
          // Without a drain by the end of the interval the pump still has to stop on time.
          const late = setTimeout(finish, Math.max(0, end - performance.now()));
          socket.once('drain', () => {
            clearTimeout(late);
            pump();
          });
          return;
        }
      }
      finish();
    };
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const retransmissions = socket.tcpInfo()?.retransmissions ?? Number.NaN;
      const giveUp = setTimeout(() => {
        socket.resetAndDestroy();
        resolve(retransmissions);
      }, DRAIN_GRACE_SECONDS * 1000);
      // end()'s callback comes once the bytes are in the send buffer; the flow is over when the receiver,
      // having read them all, closes its side too.
      socket.once('close', () => {
        clearTimeout(giveUp);
        resolve(retransmissions);
      });
      socket.resume();
      socket.end();
    };
    socket.once('connect', () => {
      end = performance.now() + seconds * 1000;
      pump();
    });
    socket.once('error', reject);
  });
}

/**
 * tcpts receives one connection on `port`; resolves with what arrived, timed from accept to EOF or reset,
 * and what arrived in the first `untilSeconds` after accept (the measurement window, as the kernel
 * receiver takes it; by default the whole flow).
 */
export function tcptsReceive(
  host: TapHost,
  port: number,
  untilSeconds = Number.POSITIVE_INFINITY,
): { ready: Promise<void>; done: Promise<ReceivedFlow> } {
  const server = host.net.createServer();
  const done = new Promise<ReceivedFlow>((resolve, reject) => {
    server.once('connection', (socket) => {
      const started = performance.now();
      let bytes = 0;
      let windowBytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (performance.now() - started <= untilSeconds * 1000) windowBytes = bytes;
      });
      let closed = false;
      const ended = (): void => {
        if (closed) return;
        closed = true;
        server.close();
        const seconds = (performance.now() - started) / 1000;
        resolve({ bytes, seconds, windowBytes, windowSeconds: Math.min(untilSeconds, seconds) });
      };
      socket.on('end', ended);
      // The kernel sender resets a flow that has not drained DRAIN_GRACE_SECONDS after its last write.
      socket.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNRESET' ? ended() : reject(error),
      );
    });
  });
  const ready = new Promise<void>((resolve) => server.listen(port, resolve));
  return { ready, done };
}
