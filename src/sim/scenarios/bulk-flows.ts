/**
 * Several bulk flows through one bottleneck: N connections from `client` to `server` over the same
 * simulated cable, whose rate limiter and drop-tail queue they share, each with its own congestion
 * control. Each sender writes as fast as its send buffer takes; the run lasts a fixed virtual time and
 * reports every flow's goodput (bytes the server application read) over a measurement window after a
 * warm-up, its retransmissions, and how evenly the flows shared the link (Jain's fairness index).
 *
 * Used by `tcpts sim --flows`, the goodput benchmarks and the tests that a path is filled.
 */

import { tcpLayerOf } from '../../api/tcp-layer-of-stack.js';
import type { LinkImpairments } from '../../link/impairments.js';
import type { TcpConfig } from '../../tcp/config.js';
import type { CongestionControlName } from '../../tcp/congestion/registry.js';
import type { TcpConnection } from '../../tcp/connection.js';
import { parseIpv4 } from '../../wire/address.js';
import { type SimulatedLink, SimulatedNetwork } from '../network.js';

export interface BulkFlowsOptions {
  /** One entry per flow: its congestion control. */
  flows: readonly CongestionControlName[];
  /** Bottleneck rate, bits per second, each direction. */
  rateBitsPerSecond: number;
  /** One-way delay, ms (the RTT is twice this). */
  delayMs: number;
  /** Bottleneck queue in frames; default one bandwidth-delay product of 1514-byte frames. */
  queueFrames?: number;
  /**
   * ECN marking at the bottleneck (data direction): ECN-capable packets that find at least this many
   * frames queued are marked CE (LinkImpairments.ecnMarkThresholdFrames). Default: none, drop-tail only.
   * The hosts use ECN only if `tcp.ecn` says so.
   */
  ecnMarkThresholdFrames?: number;
  /** Random loss per frame, data direction. Default 0. */
  loss?: number;
  /** Random loss per frame on the ACK direction. Default 0. */
  ackLoss?: number;
  /** Virtual time the flows run, ms. */
  durationMs: number;
  /** Goodput is measured from this virtual time on (after slow start), ms. Default durationMs / 2. */
  measureFromMs?: number;
  /**
   * TCP settings of both hosts beyond the algorithm (buffers default to a fixed 8 MiB, enough for
   * 1 Gbit/s x 50 ms, unless `autotunedBuffers`).
   */
  tcp?: Partial<TcpConfig>;
  /** Called with the bottleneck link once it exists (to tap or capture it). */
  observe?: (link: SimulatedLink) => void;
  /** Leave the buffers at their defaults (autotuned) instead of a fixed 8 MiB. Default false. */
  autotunedBuffers?: boolean;
  seed?: number;
  /**
   * Time from one flow's open to the next one's, ms. Default four one-way delays plus 10 ms (the
   * handshake and address resolution are over); a gap shorter than that is lengthened to it, so each
   * flow is established before the next opens. 0 opens every flow at the same instant instead, as a
   * real-time benchmark that starts its senders together does (the kernel pairs in the goodput bench).
   */
  startGapMs?: number;
  /**
   * Called every `sampleEveryMs` of virtual time (default 100) with the senders, in flow order: to
   * follow cwnd, pacing rate and state over a run.
   */
  onSample?: (nowMs: number, senders: readonly TcpConnection[]) => void;
  sampleEveryMs?: number;
}

export interface FlowResult {
  congestionControl: CongestionControlName;
  /**
   * Goodput over the measurement window, bits per second; for a connection established only after the
   * window began (its SYN or SYN-ACK lost), over the part of the window after the server accepted it, as
   * a receiver timing from accept() measures it.
   */
  goodputBitsPerSecond: number;
  /** Bytes the server read over the whole run. */
  bytes: number;
  retransmissions: number;
}

export interface BulkFlowsResult {
  flows: FlowResult[];
  /** All flows' goodput over the window, bits per second. */
  totalBitsPerSecond: number;
  /** Total goodput over the bottleneck rate. */
  linkShare: number;
  /** Jain's fairness index of the flows' goodputs: 1 when equal, 1/N when one flow takes everything. */
  fairness: number;
  /** Frames the bottleneck dropped (queue full) and the random loss dropped, data direction. */
  queueDrops: number;
  randomDrops: number;
  /** Packets the bottleneck marked CE, data direction. */
  ceMarks: number;
  /** Window reductions the senders made for ECE (RFC 3168 §6.1.2), all flows. */
  ecnReductions: number;
}

const PORT = 5201;
const BIG_BUFFER = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** The default bottleneck queue: one bandwidth-delay product of 1514-byte frames, at least 2. */
export function bdpQueueFrames(rateBitsPerSecond: number, delayMs: number): number {
  return Math.max(2, Math.ceil((rateBitsPerSecond * 2 * delayMs) / 1000 / 8 / 1514));
}

export function runBulkFlows(options: BulkFlowsOptions): BulkFlowsResult {
  const bdpFrames = bdpQueueFrames(options.rateBitsPerSecond, options.delayMs);
  const dataPath: LinkImpairments = {
    rateBitsPerSecond: options.rateBitsPerSecond,
    queueLimitFrames: options.queueFrames ?? bdpFrames,
    ...(options.loss ? { loss: options.loss } : {}),
    ...(options.ecnMarkThresholdFrames ? { ecnMarkThresholdFrames: options.ecnMarkThresholdFrames } : {}),
  };
  const ackPath: LinkImpairments = {
    rateBitsPerSecond: options.rateBitsPerSecond,
    queueLimitFrames: options.queueFrames ?? bdpFrames,
    ...(options.ackLoss ? { loss: options.ackLoss } : {}),
  };
  const tcp: Partial<TcpConfig> = {
    ...(options.autotunedBuffers ? {} : { receiveBufferSize: BIG_BUFFER, sendBufferSize: BIG_BUFFER }),
    ...options.tcp,
  };
  // No trace and no capture: these runs move gigabytes.
  const net = new SimulatedNetwork({ seed: options.seed ?? 1, trace: false });
  const client = net.host('client', '10.0.0.1/24', { tcp });
  const server = net.host('server', '10.0.0.2/24', { tcp });
  const cable = net.link(client, server, {
    delayMs: options.delayMs,
    aToB: { delayMs: options.delayMs, ...dataPath },
    bToA: { delayMs: options.delayMs, ...ackPath },
  });
  options.observe?.(cable);
  const clientTcp = tcpLayerOf(client);
  const serverTcp = tcpLayerOf(server);
  const serverAddress = parseIpv4('10.0.0.2')!;
  const now = () => net.clock.now();
  const senders: TcpConnection[] = [];
  const sampleEvery = options.sampleEveryMs ?? 100;
  let nextSample = now();
  const runUntil = (t: number) => {
    if (options.onSample !== undefined) {
      while (nextSample <= t) {
        if (nextSample > now()) net.clock.runUntil(nextSample);
        options.onSample(now(), senders);
        nextSample += sampleEvery;
      }
    }
    if (t > now()) net.clock.runUntil(t);
  };
  const received = options.flows.map(() => 0);
  const atWindowStart = options.flows.map(() => 0);
  const acceptedAt = options.flows.map(() => Number.POSITIVE_INFINITY);
  const listener = serverTcp.listen({ port: PORT });
  /** Flow index by the client's port: handshakes may overlap, so accept order need not be flow order. */
  const flowByPort = new Map<number, number>();
  listener.on('connection', (conn) => {
    const index = flowByPort.get(conn.remote.port);
    if (index === undefined) return;
    acceptedAt[index] = now();
    conn.on('readable', () => {
      for (;;) {
        const data = conn.receive(now());
        if (data === null || data.length === 0) return;
        received[index]! += data.length;
      }
    });
  });
  const chunk = new Uint8Array(CHUNK);
  options.flows.forEach((congestionControl, index) => {
    const conn = clientTcp.connect({
      remoteAddress: serverAddress,
      remotePort: PORT,
      config: { congestionControl },
    });
    senders[index] = conn;
    flowByPort.set(conn.local.port, index);
    const pump = () => {
      while (conn.send(chunk, now()) === CHUNK) {}
    };
    conn.on('connected', pump);
    conn.on('drain', pump);
    // Four one-way delays and 10 ms: the handshake and address resolution are over. The window is timed
    // from there after the last open.
    const handshakeMs = 4 * options.delayMs + 10;
    const together = options.startGapMs === 0 && index < options.flows.length - 1;
    if (!together) runUntil(now() + Math.max(handshakeMs, options.startGapMs ?? 0));
  });
  const start = now();
  const measureFrom = start + (options.measureFromMs ?? options.durationMs / 2);
  runUntil(measureFrom);
  for (let i = 0; i < received.length; i++) atWindowStart[i] = received[i]!;
  runUntil(start + options.durationMs);
  const end = start + options.durationMs;
  // Before it was accepted a connection received nothing, so its bytes at the window's start are 0.
  const windowMs = (i: number) => end - Math.min(end, Math.max(measureFrom, acceptedAt[i]!));
  const flows: FlowResult[] = options.flows.map((congestionControl, i) => ({
    congestionControl,
    goodputBitsPerSecond: windowMs(i) > 0 ? ((received[i]! - atWindowStart[i]!) * 8 * 1000) / windowMs(i) : 0,
    bytes: received[i]!,
    retransmissions: senders[i]!.status().retransmissions,
  }));
  const rates = flows.map((f) => f.goodputBitsPerSecond);
  const total = rates.reduce((a, b) => a + b, 0);
  const squares = rates.reduce((a, b) => a + b * b, 0);
  const counters = cable.link.counters('a->b');
  for (const conn of senders) conn.abort(now());
  return {
    flows,
    totalBitsPerSecond: total,
    linkShare: total / options.rateBitsPerSecond,
    fairness: squares > 0 ? (total * total) / (rates.length * squares) : 0,
    queueDrops: counters.dropped['queue-full'],
    randomDrops: counters.dropped.loss,
    ceMarks: counters.ceMarked,
    ecnReductions: clientTcp.counters.ecnReductions,
  };
}
