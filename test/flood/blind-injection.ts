/**
 * Blind injection against a live transfer (RFC 5961): an off-path attacker who knows the 4-tuple but not
 * the sequence numbers sends RSTs, SYNs and data segments with random sequence and acknowledgment
 * numbers to both ends while a bulk transfer runs. Run once without and once with the attack, same
 * seed: the answers the attack draws are the extra segments each end sent, and goodput is compared.
 * Shared by the test suite (scaled down) and `npm run flood`.
 */
import { Random } from '../../src/util/random.js';
import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/wire/tcp.js';
import { FakeNetwork, ip } from '../tcp/network.js';

export interface TransferRun {
  /** Virtual ms from connect to the last byte read. */
  durationMs: number;
  bytesOk: boolean;
  segmentsOut: { sender: number; receiver: number };
  challengeAcks: number;
  skipped: number;
  connectionAlive: boolean;
}

function transfer(bytes: number, injected: number, attackSpanMs: number, seed: number): TransferRun {
  const net = new FakeNetwork();
  net.delay = 5;
  const random = new Random(seed);
  // Without timestamps: with them (RFC 7323 §3.2) every blind segment but the RSTs lacks the option the
  // connection negotiated and is dropped unanswered, and the answer limits would never be exercised.
  // Fixed buffers: the replies are counted as the segments the attacked run sent beyond the baseline's,
  // which only works when both runs exchange the same data segments and ACKs; autotuning would size the
  // windows from the read times, which the attack shifts.
  const config = { timestamps: false, receiveBufferAutotuning: false, sendBufferAutotuning: false };
  const a = net.addHost(['10.0.0.1'], { config });
  const b = net.addHost(['10.0.0.2'], { config });
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + (i >>> 8)) & 0xff;
  let received = 0;
  let bytesOk = true;
  let doneAt = Number.POSITIVE_INFINITY;
  b.listen({ port: 80 }).on('connection', (c) => {
    // The attack targets an established flow: it starts once the server side is established.
    if (injected > 0) net.clock.setTimer(1, tick);
    c.on('readable', () => {
      for (let d = c.receive(net.clock.now()); d && d.length > 0; d = c.receive(net.clock.now())) {
        for (let i = 0; i < d.length; i++) if (d[i] !== data[received + i]) bytesOk = false;
        received += d.length;
        if (received === bytes) doneAt = net.clock.now();
      }
    });
  });
  const client = a.connect({ remoteAddress: ip('10.0.0.2'), remotePort: 80, localPort: 40000 });
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes) {
      const n = client.send(data.subarray(sent, Math.min(bytes, sent + 65536)), net.clock.now());
      if (n === 0) return;
      sent += n;
    }
  };
  client.on('connected', pump);
  client.on('drain', pump);
  // The attack: `injected` segments spread evenly over `attackSpanMs`, alternately at each end.
  const kinds = [TCP_RST, TCP_SYN, TCP_ACK];
  const perMs = injected / attackSpanMs;
  let due = 0;
  let done = 0;
  const tick = (): void => {
    due += perMs;
    while (done < injected && done < due) {
      const toReceiver = (done & 1) === 0;
      const flags = kinds[done % 3]!;
      const seg: TcpSegment = {
        srcPort: toReceiver ? 40000 : 80,
        dstPort: toReceiver ? 80 : 40000,
        seq: random.next(),
        ack: random.next(),
        flags,
        window: 65535,
        urgentPointer: 0,
        options: {},
        payload: flags === TCP_ACK ? data.subarray(0, 100) : new Uint8Array(0),
      };
      if (toReceiver) b.receive(ip('10.0.0.1'), ip('10.0.0.2'), seg);
      else a.receive(ip('10.0.0.2'), ip('10.0.0.1'), seg);
      done++;
    }
    if (done < injected) net.clock.setTimer(1, tick);
  };
  net.drop = () => {
    net.packets.length = 0;
    return false;
  };
  while (received < bytes && net.clock.now() < 600_000) net.run(100);
  const skipped = (l: typeof a) =>
    l.counters.ackSkippedSeq + l.counters.ackSkippedChallenge + l.counters.challengeAcksOverLimit;
  return {
    durationMs: doneAt,
    bytesOk: bytesOk && received === bytes,
    segmentsOut: { sender: a.counters.segmentsOut, receiver: b.counters.segmentsOut },
    challengeAcks: a.counters.challengeAcks + b.counters.challengeAcks,
    skipped: skipped(a) + skipped(b),
    connectionAlive: client.state === 'ESTABLISHED' || client.state === 'FIN-WAIT-1',
  };
}

export interface BlindInjectionResult {
  injected: number;
  baseline: TransferRun;
  attacked: TransferRun;
  /** Extra segments both ends sent under attack: the answers the attack drew. */
  replies: number;
  /** Most answers the per-connection limit allows in the attacked run (one per 500 ms per end, plus one). */
  allowed: number;
  /** Attacked goodput as a fraction of the baseline's. */
  goodputRatio: number;
}

export function runBlindInjection(bytes: number, injected: number, seed = 1): BlindInjectionResult {
  const baseline = transfer(bytes, 0, 1, seed);
  const attacked = transfer(bytes, injected, Math.max(1, Math.floor(baseline.durationMs)), seed);
  const replies =
    attacked.segmentsOut.sender +
    attacked.segmentsOut.receiver -
    baseline.segmentsOut.sender -
    baseline.segmentsOut.receiver;
  return {
    injected,
    baseline,
    attacked,
    replies,
    allowed: 2 * (Math.floor(attacked.durationMs / 500) + 1),
    goodputRatio: baseline.durationMs / attacked.durationMs,
  };
}
