/**
 * A fuzz campaign against a live network: two stacks on a simulated link carry several TCP flows in both
 * directions while mutated copies of the frames the link just delivered (bytes changed, truncated,
 * extended, checksums repaired half of the time) are injected in both directions. No exception may escape
 * a stack, no internal error may be counted, and every flow must deliver its bytes exactly.
 *
 * A mutated copy that still parses as a segment of one of the live flows keeps a broken TCP checksum: with
 * a valid one it would be a forged in-window segment, which no TCP can tell from the real thing.
 *
 * Shared by the test suite (a few seconds) and `npm run fuzz -- --frames N`.
 */
import { SimulatedNetwork } from '../../src/sim/network.js';
import { Random } from '../../src/util/random.js';
import { repairChecksums } from '../helpers/frame-checksums.js';

export interface LiveFuzzResult {
  seed: number;
  framesInjected: number;
  /** Exceptions that escaped a stack (must be empty). */
  escaped: string[];
  internalErrors: number;
  flows: number;
  flowsExact: number;
  virtualMs: number;
}

const FLOWS = 4;
const FLOW_BYTES = 200_000;

function content(flow: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + flow * 7 + (i >>> 9)) & 0xff;
  return out;
}

export function runLiveFuzz(seed: number, frames: number): LiveFuzzResult {
  const random = new Random(seed);
  const net = new SimulatedNetwork({ seed, trace: false });
  const a = net.host('a', '10.0.0.1/24');
  const b = net.host('b', '10.0.0.2/24');
  const link = net.link(a, b, { delayMs: 2 });
  const escaped: string[] = [];
  const flowPorts = new Set<number>();
  let exact = 0;
  let finished = 0;
  const expected = Array.from({ length: FLOWS }, (_, i) => content(i, FLOW_BYTES));
  b.tcp.listen({ port: 80 }).on('connection', (conn) => {
    const chunks: number[] = [];
    conn.on('readable', () => {
      for (let d = conn.receive(net.clock.now()); d && d.length > 0; d = conn.receive(net.clock.now())) {
        for (const byte of d) chunks.push(byte);
      }
    });
    conn.on('end', () => {
      const index = chunks[0] ?? -1;
      const body = Uint8Array.from(chunks.slice(1));
      const want = expected[index];
      if (want !== undefined && body.length === want.length && body.every((x, i) => x === want[i])) exact++;
      finished++;
      conn.close(net.clock.now());
    });
  });
  for (let i = 0; i < FLOWS; i++) {
    const conn = a.tcp.connect({ remoteAddress: 0x0a000002, remotePort: 80 });
    flowPorts.add(conn.local.port);
    const data = Uint8Array.from([i, ...expected[i]!]);
    let sent = 0;
    const pump = (): void => {
      while (sent < data.length) {
        const n = conn.send(data.subarray(sent), net.clock.now());
        if (n === 0) return;
        sent += n;
      }
      conn.close(net.clock.now());
    };
    conn.on('connected', pump);
    conn.on('drain', pump);
  }
  // Recently delivered frames, the material the mutations start from.
  const recent: Uint8Array[] = [];
  link.link.tap(
    (_t, frame) => {
      if (frame.length < 14) return;
      if (recent.length < 64) recent.push(frame.slice());
      else recent[random.int(64)] = frame.slice();
    },
    { point: 'delivered' },
  );
  let injected = 0;
  const perTick = 20;
  const inject = (): void => {
    for (let i = 0; i < perTick && injected < frames && recent.length > 0; i++) {
      const frame = mutate(random, random.pick(recent), flowPorts);
      try {
        link.link.path(random.chance(0.5) ? 'a->b' : 'b->a').send(frame);
      } catch (error) {
        escaped.push(String(error));
      }
      injected++;
    }
  };
  const deadline = 600_000;
  while ((injected < frames || finished < FLOWS) && net.clock.now() < deadline) {
    inject();
    try {
      net.run(1);
    } catch (error) {
      escaped.push(String(error));
    }
  }
  return {
    seed,
    framesInjected: injected,
    escaped,
    internalErrors: a.tcp.counters.internalErrors + b.tcp.counters.internalErrors,
    flows: FLOWS,
    flowsExact: exact,
    virtualMs: net.clock.now(),
  };
}

function mutate(random: Random, original: Uint8Array, flowPorts: Set<number>): Uint8Array {
  let frame: Uint8Array;
  switch (random.int(6)) {
    case 0:
      frame = original.slice(0, random.int(original.length + 1));
      break;
    case 1:
      frame = Uint8Array.from([...original, ...random.bytes(1 + random.int(64))]);
      break;
    default: {
      frame = original.slice();
      const changes = 1 + random.int(4);
      for (let i = 0; i < changes; i++) {
        const at = random.chance(0.8) ? random.int(Math.min(frame.length, 80)) : random.int(frame.length);
        frame[at] = random.int(256);
      }
    }
  }
  if (random.chance(0.5)) repairChecksums(frame);
  if (isFlowSegment(frame, flowPorts)) frame[frame.length - 1] = (frame[frame.length - 1]! ^ 0xff) & 0xff;
  return frame;
}

/** An IPv4 TCP segment between the flows' ports: its checksum must stay broken (see the file comment). */
function isFlowSegment(frame: Uint8Array, flowPorts: Set<number>): boolean {
  if (frame.length < 14 + 20 + 20 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 6)
    return false;
  const ihl = (frame[14]! & 0x0f) * 4;
  if (frame.length < 14 + ihl + 4) return false;
  const sport = (frame[14 + ihl]! << 8) | frame[15 + ihl]!;
  const dport = (frame[16 + ihl]! << 8) | frame[17 + ihl]!;
  return flowPorts.has(sport) || flowPorts.has(dport) || sport === 80 || dport === 80;
}
