/**
 * Several flows through one bottleneck, run in slices like TransferScenario so a live view can draw them:
 * the client opens one connection per entry of `flows` (each with its own congestion control), a little
 * apart, and each sends its share of bytes to the server over the same rate-limited, drop-tail (or ECN
 * marking) queue. Every byte is checked on arrival. The run ends when every connection is closed.
 *
 * `runBulkFlows` (bulk-flows.ts) measures the same kind of path for a fixed time without a trace, for
 * goodput figures; this one keeps the trace and the capture, for pictures.
 */
import type { LinkImpairments } from '../../link/impairments.js';
import type { TcpConfig } from '../../tcp/config.js';
import type { CongestionControlName } from '../../tcp/congestion/registry.js';
import type { TcpConnection } from '../../tcp/connection.js';
import type { TcpStateName } from '../../trace/events.js';
import { bdpQueueFrames } from './bulk-flows.js';
import { PatternReceiver, PatternSender, runSlice, type TransferProgress } from './transfer.js';
import { TwoHostNetwork } from './two-hosts.js';

export interface SharedBottleneckOptions {
  /** One entry per flow: its congestion control. */
  flows: readonly CongestionControlName[];
  /** Bytes each flow sends from client to server. */
  bytesPerFlow: number;
  /** Bottleneck rate, bits per second, each direction. */
  rateBitsPerSecond: number;
  /** One-way delay, ms. */
  delayMs: number;
  /** Frames the bottleneck queue holds. Default: one bandwidth-delay product (bdpQueueFrames). */
  queueFrames?: number;
  /** Mark ECN-capable packets CE when this many frames are queued (the hosts need tcp.ecn). */
  ecnMarkFrames?: number;
  /** Random loss per frame, each direction. Default 0. */
  loss?: number;
  /** MTU of the cable. Default 1500. */
  mtu?: number;
  /** Virtual ms between the starts of two flows. Default one round trip. */
  staggerMs?: number;
  /** TCP settings of both hosts (the algorithm of each flow comes from `flows`). */
  tcp?: Partial<TcpConfig>;
  seed?: number;
  /** Give up after this much virtual time, ms. Default 600 000. */
  timeLimitMs?: number;
}

const PORT = 5001;
const SALT = 17;

interface Flow {
  readonly client: TcpConnection;
  sender: PatternSender | undefined;
  server: TcpConnection | undefined;
  receiver: PatternReceiver | undefined;
}

export class SharedBottleneckScenario {
  readonly network: TwoHostNetwork;
  readonly queueFrames: number;
  private readonly flows: Flow[] = [];
  private failure: string | undefined;
  private readonly startTime: number;
  private readonly timeLimitMs: number;

  constructor(private readonly options: SharedBottleneckOptions) {
    if (options.flows.length === 0) throw Object.assign(new Error('no flows'), { code: 'EINVAL' });
    this.queueFrames = options.queueFrames ?? bdpQueueFrames(options.rateBitsPerSecond, options.delayMs);
    this.timeLimitMs = options.timeLimitMs ?? 600_000;
    const path: LinkImpairments = {
      delayMs: options.delayMs,
      rateBitsPerSecond: options.rateBitsPerSecond,
      queueLimitFrames: this.queueFrames,
      ...(options.loss ? { loss: options.loss } : {}),
    };
    this.network = new TwoHostNetwork({
      seed: options.seed ?? 1,
      delayMs: options.delayMs,
      mtu: options.mtu ?? 1500,
      impairments: path,
      clientToServer: {
        ...path,
        ...(options.ecnMarkFrames ? { ecnMarkThresholdFrames: options.ecnMarkFrames } : {}),
      },
      tcp: options.tcp ?? {},
    });
    const now = () => this.network.now();
    const listener = this.network.serverTcp.listen({ port: PORT, backlog: options.flows.length });
    let accepted = 0;
    listener.on('connection', (conn) => {
      // Connections are opened one after the other, so they are accepted in flow order.
      const flow = this.flows[accepted++];
      if (!flow) return;
      flow.server = conn;
      conn.on('error', (error) => {
        this.failure ??= error.code;
      });
      flow.receiver = new PatternReceiver(conn, SALT, now, () => conn.close(now()));
    });
    this.startTime = now();
    const stagger = options.staggerMs ?? 2 * options.delayMs;
    options.flows.forEach((congestionControl, index) => {
      const start = () => {
        const client = this.network.clientTcp.connect({
          remoteAddress: this.network.serverAddress,
          remotePort: PORT,
          config: { congestionControl },
        });
        const flow: Flow = { client, sender: undefined, server: undefined, receiver: undefined };
        this.flows.push(flow);
        client.on('error', (error) => {
          this.failure ??= error.code;
        });
        client.on('connected', () => {
          flow.sender = new PatternSender(client, options.bytesPerFlow, SALT, now, () => client.close(now()));
          flow.sender.pump();
        });
      };
      if (index === 0) start();
      else this.network.clock.setTimer(stagger * index, start);
    });
  }

  get finished(): boolean {
    const phase = this.phase();
    return phase === 'done' || phase === 'failed';
  }

  /** As TransferScenario.advance: up to `ms` of virtual time, or until `enough()`; true when finished. */
  advance(ms: number, enough?: () => boolean): boolean {
    const clock = this.network.clock;
    const stop = Math.min(clock.now() + ms, this.startTime + this.timeLimitMs);
    runSlice(clock, stop, () => this.finished, enough);
    if (!this.finished && clock.now() >= this.startTime + this.timeLimitMs) this.failure ??= 'time limit';
    return this.finished;
  }

  private phase(): TransferProgress['phase'] {
    if (this.failure !== undefined) return 'failed';
    if (this.flows.length < this.options.flows.length || this.flows.some((f) => !f.server))
      return this.flows.some((f) => f.receiver) ? 'transferring' : 'connecting';
    const closed = (state: TcpStateName | undefined) => state === 'CLOSED' || state === 'TIME-WAIT';
    if (this.flows.every((f) => closed(f.client.state) && closed(f.server?.state))) return 'done';
    if (this.flows.some((f) => f.receiver?.ended)) return 'closing';
    return 'transferring';
  }

  /** Bytes each flow's server has read so far. */
  delivered(): number[] {
    return this.options.flows.map((_, i) => this.flows[i]?.receiver?.received ?? 0);
  }

  progress(): TransferProgress {
    const total = this.options.bytesPerFlow * this.options.flows.length;
    const received = this.delivered().reduce((a, b) => a + b, 0);
    const sent = this.flows.reduce((n, f) => n + (f.sender?.sent ?? 0), 0);
    const progress: TransferProgress = {
      phase: this.phase(),
      time: this.network.now(),
      clientBytesSent: sent,
      serverBytesReceived: received,
      serverBytesSent: 0,
      clientBytesReceived: 0,
      totalBytes: total,
      fraction: total === 0 ? 1 : received / total,
    };
    return this.failure !== undefined ? { ...progress, failure: this.failure } : progress;
  }

  /** Every byte of every flow arrived once, in order, unchanged. */
  intact(): boolean {
    return this.flows.every(
      (f) => f.receiver?.intact === true && f.receiver.received === this.options.bytesPerFlow,
    );
  }
}
