/**
 * The timers the stacks are running, read from the connections themselves (`status().timers`, the
 * deadlines RFC 9293 §3.8 and RFC 6298 ask for) at every frame, and a sentence saying what the stack is
 * waiting for. TIME-WAIT is kept by the TCP layer in a record of its own once the connection is gone, so
 * its deadline is the moment of entering TIME-WAIT plus 2 x MSL from the configuration.
 *
 * Snapshots are kept with their times, so a rewound view shows the timers as they were.
 */
import type { TcpConnectionStatus } from '../src/tcp/connection.js';
import type { TcpLayer } from '../src/tcp/tcp-layer.js';
import type { TimerName } from '../src/tcp/timers.js';

export interface RunningTimer {
  readonly host: string;
  readonly name: TimerName;
  readonly deadline: number;
  /** When the timer was (re)armed to this deadline, as near as the frames saw it. */
  readonly armedAt: number;
}

export interface TimerSnapshot {
  readonly time: number;
  readonly timers: readonly RunningTimer[];
  /** Packets on the wire. */
  readonly travelling: number;
  /** Per host: what limits its sending, when something does. */
  readonly limits: readonly string[];
}

const TIMER_TEXT: Record<TimerName, string> = {
  retransmission: 'retransmission timer (RTO)',
  persist: 'persist timer (zero-window probe)',
  'delayed-ack': 'delayed ACK',
  keepalive: 'keepalive',
  'fin-wait-2': 'FIN-WAIT-2 timeout',
  'time-wait': 'TIME-WAIT (2×MSL)',
  pacing: 'pacing',
  reorder: 'RACK reordering timer',
  'loss-probe': 'tail loss probe',
  readable: "'readable' for the burst just received",
};

/** Timers worth a line in the panel (keepalive is off in these runs; pacing fires every few µs, 'readable' at once). */
const SHOWN = new Set<TimerName>([
  'retransmission',
  'persist',
  'delayed-ack',
  'fin-wait-2',
  'time-wait',
  'reorder',
  'loss-probe',
]);

export interface TimedHost {
  readonly name: string;
  readonly tcp: TcpLayer;
  readonly mslMs: number;
}

export class TimerWatch {
  readonly snapshots: TimerSnapshot[] = [];
  private readonly armed = new Map<string, { deadline: number; armedAt: number }>();
  /** TIME-WAIT deadlines by host (entered at a state change). */
  private readonly timeWait = new Map<string, { deadline: number; armedAt: number }>();

  constructor(private readonly hosts: readonly TimedHost[]) {}

  /** A connection of `host` entered (or left) TIME-WAIT at `time`. */
  stateChanged(host: string, to: string, time: number): void {
    const h = this.hosts.find((x) => x.name === host);
    if (!h) return;
    if (to === 'TIME-WAIT') this.timeWait.set(host, { deadline: time + 2 * h.mslMs, armedAt: time });
    else this.timeWait.delete(host);
  }

  sample(now: number, travelling: number): TimerSnapshot {
    const timers: RunningTimer[] = [];
    const limits: string[] = [];
    for (const host of this.hosts) {
      for (const conn of host.tcp.connections()) {
        const status = conn.status();
        for (const [name, deadline] of Object.entries(status.timers) as [TimerName, number][]) {
          if (!SHOWN.has(name) || !Number.isFinite(deadline)) continue;
          const key = `${host.name} ${status.local.port} ${name}`;
          let seen = this.armed.get(key);
          if (!seen || seen.deadline !== deadline) {
            seen = { deadline, armedAt: Math.min(now, deadline) };
            this.armed.set(key, seen);
          }
          timers.push({ host: host.name, name, deadline, armedAt: seen.armedAt });
        }
        const limit = sendingLimit(host.name, status);
        if (limit) limits.push(limit);
      }
      const tw = this.timeWait.get(host.name);
      if (tw && tw.deadline > now) timers.push({ host: host.name, name: 'time-wait', ...tw });
    }
    timers.sort((a, b) => a.deadline - b.deadline);
    const snapshot = { time: now, timers, travelling, limits };
    this.snapshots.push(snapshot);
    return snapshot;
  }

  /** The snapshot in force at `time` (the last taken at or before it). */
  at(time: number): TimerSnapshot | undefined {
    const list = this.snapshots;
    let lo = 0;
    let hi = list.length - 1;
    let found: TimerSnapshot | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.time <= time) {
        found = list[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

/** What holds a sender back, in words, when it has data it cannot send yet. */
function sendingLimit(host: string, s: TcpConnectionStatus): string | undefined {
  if (s.sendUnsent === 0) return undefined;
  if (s.sndWnd === 0) return `${host} has data to send but the peer's window is 0`;
  if (s.bytesInFlight + s.effectiveMss > s.sndWnd)
    return `${host} has filled the peer's window (${s.sndWnd} bytes in flight allowed) and waits for it to move`;
  if (s.bytesInFlight + s.effectiveMss > s.cwnd)
    return `${host} has filled its congestion window (cwnd ${s.cwnd} bytes) and waits for ACKs`;
  return undefined;
}

function formatLeft(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** One sentence: what the stacks are waiting for at `now`. */
export function waitingText(snapshot: TimerSnapshot | undefined, now: number): string {
  if (!snapshot) return '';
  const parts: string[] = [];
  if (snapshot.travelling > 0)
    parts.push(`${snapshot.travelling} packet${snapshot.travelling === 1 ? '' : 's'} on the wire`);
  parts.push(...snapshot.limits);
  const next = snapshot.timers.find((t) => t.deadline >= now);
  if (next) {
    const left = formatLeft(next.deadline - now);
    switch (next.name) {
      case 'retransmission':
        parts.push(`${next.host} waits for an ACK: its retransmission timer fires in ${left}`);
        break;
      case 'persist':
        parts.push(`${next.host}'s peer window is closed: it probes it in ${left}`);
        break;
      case 'delayed-ack':
        parts.push(`${next.host} holds its ACK back (delayed ACK) for ${left}`);
        break;
      case 'time-wait':
        parts.push(
          `${next.host} waits out TIME-WAIT (2×MSL) so no old segment hits a new connection: ${left} left`,
        );
        break;
      default:
        parts.push(`${next.host}: ${TIMER_TEXT[next.name]} in ${left}`);
    }
  }
  if (parts.length === 0) return 'nothing is pending';
  return parts.join('; ');
}

/** Draws the timers of a snapshot into `element`: one row per timer with a bar that runs down. */
export function renderTimers(element: HTMLElement, snapshot: TimerSnapshot | undefined, now: number): void {
  const rows: HTMLElement[] = [];
  for (const t of snapshot?.timers ?? []) {
    if (t.deadline < now) continue;
    const row = document.createElement('div');
    row.className = `timer timer-${t.name}`;
    const total = Math.max(t.deadline - t.armedAt, 1e-6);
    const left = t.deadline - now;
    const bar = document.createElement('span');
    bar.className = 'timer-bar';
    bar.style.setProperty('--left', String(Math.max(0, Math.min(1, left / total))));
    const text = document.createElement('span');
    text.className = 'timer-text';
    text.textContent = `${t.host}: ${TIMER_TEXT[t.name]} fires in ${formatLeft(left)} (at ${t.deadline.toFixed(1)} ms)`;
    row.append(bar, text);
    rows.push(row);
  }
  if (rows.length === 0) {
    const none = document.createElement('div');
    none.className = 'timer timer-none';
    none.textContent = 'no timer running';
    rows.push(none);
  }
  element.replaceChildren(...rows);
}
