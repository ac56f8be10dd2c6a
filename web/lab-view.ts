/**
 * What the lab shows of one conversation: the ladder, the charts and the event list, fed from a
 * LiveConversation by cursors, so each frame hands over only what is new. The same view plays a live run
 * (the model grows as the simulation goes) and a story chapter (the model is complete; the view plays a
 * window of it), and can go back to any event (rewind) and return.
 */
import { countPackets, countsText } from '../src/viz/conversation-counts.js';
import { packetLabel } from '../src/viz/packet-label.js';
import { formatBytes, LiveChart, type SeriesSpec, type SeriesStyle } from './live-chart.js';
import type { LiveConversation, LiveEvent, LiveMetrics, LiveRttSample } from './live-conversation.js';
import { formatClock, type LadderLayout, LiveLadder } from './live-ladder.js';

/** Rows in the event list when it stands still (paused, finished, an event selected). */
const EVENT_ROWS = 300;
/**
 * Rows kept while a run goes: a few more than the list's box shows. New rows go in at the top of the
 * list's DOM, so every row already there moves and is laid out and painted again in each frame: with
 * 300 rows that was a third of a frame's rendering (16 MiB run: 4-6 ms of layout, pre-paint and paint).
 * The rest are put back when the list stands still (`settle`).
 */
const LIVE_ROWS = 40;
/** Rows and ladder items drawn per frame at most: a frame's work must not grow with the run's speed. */
const ROWS_PER_FRAME = 12;
const LADDER_PER_FRAME = 20;
/** Real ms between two drawings of the charts. */
const CHART_INTERVAL = 100;
const FLOW_COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df'];

/** A series of a chart drawn as `style`: dots('sample', '#0969da'), step('RTO', '#cf222e', [6, 4]). */
const drawnAs =
  (style: SeriesStyle) =>
  (name: string, color: string, dash?: readonly number[]): SeriesSpec =>
    dash ? { name, color, style, dash } : { name, color, style };
const dots = drawnAs('dots');
const step = drawnAs('step');
const bars = drawnAs('bars');

export interface ViewFocus {
  /** The flow whose charts are drawn, and its data sender. */
  flowId: number;
  sender: string;
}

/** Queue occupancy of the bottleneck, sampled by the run. */
export interface QueueSample {
  readonly time: number;
  readonly bytes: number;
}

export class LabView {
  readonly ladder: LiveLadder;
  readonly sequence: LiveChart;
  readonly window: LiveChart;
  readonly rtt: LiveChart;
  readonly queue: LiveChart;
  /** Each flow's congestion window, when several share the bottleneck. */
  readonly flows: LiveChart;
  private eventCursor = 0;
  private metricsCursor = 0;
  private rttCursor = 0;
  private queueCursor = 0;
  /** ACKs to the sender waiting to be charted when they arrive. */
  private acksOnTheWay: LiveEvent[] = [];
  private focus: ViewFocus | undefined;
  private from = 0;
  private to = Number.POSITIVE_INFINITY;
  /** Index into model.events of the selected event (rewind), or undefined when live. */
  selected: number | undefined;
  relative = true;
  /** Labels carry the ports (several connections between the same hosts). */
  ports = false;
  readonly queueSamples: QueueSample[] = [];
  private chartsDrawn = Number.NEGATIVE_INFINITY;
  /** The animation frame that writes the next batch of older rows (`settle`), or 0. */
  private filling = 0;

  constructor(
    private model: LiveConversation,
    layout: LadderLayout,
    private readonly list: HTMLOListElement,
    charts: HTMLElement,
    private readonly onSelect: (index: number) => void,
  ) {
    this.ladder = new LiveLadder(document.querySelector<HTMLElement>('#ladder')!, layout);
    charts.replaceChildren();
    // Measured once: reading a size after changing the page would make the browser lay it out again.
    const width = Math.max(320, (charts.clientWidth || 900) - 20);
    this.sequence = new LiveChart(charts, width, {
      title: 'Time-sequence',
      caption:
        'Each dot is a data segment at the sequence number of its last byte (relative), when it was sent; ' +
        'the staircase is what the ACKs acknowledged when they arrived, the dashed line the right edge of the ' +
        "receiver's window (ACK + window): the sender may not go above it. Bars are SACKed ranges.",
      series: [
        dots('data sent', '#0969da'),
        dots('retransmitted', '#d4a72c'),
        step('acknowledged', '#1a7f37'),
        step('window edge', '#8250df', [5, 4]),
        bars('SACKed', '#bf8700'),
      ],
      format: formatBytes,
    });
    this.window = new LiveChart(charts, width, {
      title: 'Windows and bytes in flight (sender)',
      caption:
        "The sender's congestion window (cwnd) and slow-start threshold, the receiver's window (rwnd) and the " +
        'bytes in flight: the flight stays under the smaller of cwnd and rwnd.',
      series: [
        step('cwnd', '#0969da'),
        step('ssthresh', '#cf222e', [6, 4]),
        step('rwnd', '#8250df', [2, 3]),
        step('in flight', '#1a7f37'),
      ],
      format: formatBytes,
    });
    this.rtt = new LiveChart(charts, width, {
      title: 'Round-trip time (sender)',
      caption:
        'Dots: RTT samples measured from the packets (a segment sent once, to the first ACK covering it). ' +
        "Lines: the sender's smoothed RTT and its retransmission timeout (RFC 6298).",
      series: [dots('sample', '#0969da'), step('SRTT', '#1a7f37'), step('RTO', '#cf222e', [6, 4])],
      format: (v) => `${+v.toFixed(1)} ms`,
    });
    this.queue = new LiveChart(charts, width, {
      title: 'Bottleneck queue',
      caption:
        'Bytes waiting in the queue of the rate-limited link (data direction): it fills when the senders ' +
        'put more in flight than the path carries; when it is full, frames are dropped (queue-full).',
      series: [step('queued', '#bc4c00')],
      format: formatBytes,
      height: 120,
    });
    this.queue.element.hidden = true;
    this.flows = new LiveChart(charts, width, {
      title: 'Congestion window of each flow',
      caption:
        'Flows sharing one bottleneck: each sender finds its share by its own algorithm. Equal windows at ' +
        'equal round-trip times mean equal shares of the link.',
      series: FLOW_COLORS.map((color, i) => step(`flow ${i + 1}`, color)),
      format: formatBytes,
    });
    this.flows.element.hidden = true;
  }

  /**
   * Starts over on `model` (a new run) or on a window of it (a story chapter): the charts' time axis is
   * fixed to [from, to] when `to` is given.
   */
  reset(model: LiveConversation, layout: LadderLayout, from = 0, to?: number): void {
    this.model = model;
    this.from = from;
    this.to = to ?? Number.POSITIVE_INFINITY;
    this.eventCursor = 0;
    while (this.eventCursor < model.events.length && model.events[this.eventCursor]!.time < from)
      this.eventCursor++;
    this.metricsCursor = firstAtOrAfter(model.metrics, from);
    this.rttCursor = firstAtOrAfter(model.rttSamples, from);
    this.queueCursor = 0;
    this.queueSamples.length = 0;
    this.acksOnTheWay = [];
    this.focus = undefined;
    this.selected = undefined;
    this.ports = false;
    this.ladder.reset(layout);
    for (const chart of this.charts()) chart.reset(from, to);
    for (const chart of this.charts()) chart.expectSpan(layout.gapMs);
    this.queue.element.hidden = true;
    this.flows.element.hidden = true;
    this.stopFilling();
    this.list.replaceChildren();
  }

  /** How long the charts' time axis should be at first (it grows by half again when exceeded). */
  expectSpan(ms: number): void {
    for (const chart of this.charts()) chart.expectSpan(ms);
  }

  setFocus(focus: ViewFocus): void {
    this.focus = focus;
  }

  private charts(): LiveChart[] {
    return [this.sequence, this.window, this.rtt, this.queue, this.flows];
  }

  /** Hands everything up to `until` to the ladder, the charts and the list. */
  feed(until: number): void {
    const m = this.model;
    const end = Math.min(until, this.to);
    const first = this.eventCursor;
    let last = first;
    while (last < m.events.length && m.events[last]!.time <= end) last++;
    // More new items than a frame can draw: the older ones are laid out without being drawn.
    const drawFrom = Math.max(first, last - LADDER_PER_FRAME);
    for (let i = first; i < last; i++) {
      const e = m.events[i]!;
      this.ladder.render = i >= drawFrom;
      if (i === drawFrom && drawFrom > first) this.ladder.notDrawn(drawFrom - first, e.time);
      if (e.kind === 'packet') {
        this.ladder.packetSent(e.packet);
        this.chartPacket(e);
      } else this.ladder.stateChanged(e.host, e.to, e.time);
    }
    this.ladder.render = true;
    if (this.selected === undefined) this.appendRows(first, last);
    this.eventCursor = last;
    this.chartAcks(end);
    const focus = this.focus;
    while (this.metricsCursor < m.metrics.length && m.metrics[this.metricsCursor]!.time <= end) {
      const sample = m.metrics[this.metricsCursor++]!;
      if (focus && sample.host === focus.sender && sample.flowId === focus.flowId) this.chartMetrics(sample);
      if (this.ports && sample.host === focus?.sender && sample.flowId !== undefined && sample.flowId < 4) {
        this.flows.add(sample.flowId, sample.time, sample.cwnd);
        this.flows.element.hidden = false;
      }
    }
    while (this.rttCursor < m.rttSamples.length && m.rttSamples[this.rttCursor]!.time <= end) {
      const sample = m.rttSamples[this.rttCursor++]!;
      if (focus && sample.host === focus.sender && sample.flowId === focus.flowId) this.chartRtt(sample);
    }
    while (this.queueCursor < this.queueSamples.length && this.queueSamples[this.queueCursor]!.time <= end) {
      const q = this.queueSamples[this.queueCursor++]!;
      this.queue.add(0, q.time, q.bytes);
      this.queue.element.hidden = false;
    }
  }

  private chartPacket(e: Extract<LiveEvent, { kind: 'packet' }>): void {
    const focus = this.focus;
    const s = e.packet.tcp;
    if (!focus || !s || s.flowId !== focus.flowId) return;
    if (e.packet.from === focus.sender) {
      if (s.length > 0) {
        this.sequence.add(s.retransmission ? 1 : 0, e.time, s.relativeSeq + s.length);
      }
    } else if (s.ack !== undefined) this.acksOnTheWay.push(e);
  }

  private chartAcks(until: number): void {
    let kept = 0;
    for (const e of this.acksOnTheWay) {
      if (e.kind !== 'packet') continue;
      const p = e.packet;
      if (p.dropped) continue;
      if (p.arrivedAt === undefined || p.arrivedAt > until) {
        this.acksOnTheWay[kept++] = e;
        continue;
      }
      const s = p.tcp!;
      const ack = s.relativeAck ?? 0;
      this.sequence.add(2, p.arrivedAt, ack);
      this.sequence.add(3, p.arrivedAt, ack + s.effectiveWindow);
      for (const block of s.sack ?? []) this.sequence.add(4, p.arrivedAt, block.left, block.right);
    }
    this.acksOnTheWay.length = kept;
  }

  private chartMetrics(m: LiveMetrics): void {
    this.window.add(0, m.time, m.cwnd);
    // Before the first loss ssthresh is "infinite": left out rather than drawn off the chart.
    if (m.ssthresh < 1e9) this.window.add(1, m.time, m.ssthresh);
    this.window.add(2, m.time, m.sendWindow);
    this.window.add(3, m.time, m.bytesInFlight);
    if (m.srtt > 0) this.rtt.add(1, m.time, m.srtt);
    this.rtt.add(2, m.time, m.rto);
  }

  private chartRtt(s: LiveRttSample): void {
    this.rtt.add(0, s.time, s.rtt);
  }

  /**
   * Moves the pictures to `now` (the live clock, a chapter's clock, or a rewound instant). The charts
   * follow about ten times a second (each drawing is a canvas the browser must copy to the screen);
   * `all` draws them now.
   */
  show(now: number, waiting = '', all = false): void {
    this.ladder.update(now, waiting);
    const real = performance.now();
    if (!all && real - this.chartsDrawn < CHART_INTERVAL) return;
    this.chartsDrawn = real;
    for (const chart of this.charts()) if (!chart.element.hidden) chart.drawUntil(now);
  }

  /** The numbering of every label (live setting). */
  setRelative(relative: boolean): void {
    this.relative = relative;
    this.ladder.relabel({ relative, ports: this.ports });
    for (const row of this.list.querySelectorAll<HTMLLIElement>('li[data-index]')) {
      const e = this.model.events[Number(row.dataset.index)];
      if (e) row.querySelector('.what')!.textContent = this.describe(e);
    }
  }

  private describe(e: LiveEvent): string {
    if (e.kind === 'state') return `${e.host}: ${e.from} → ${e.to}`;
    const p = e.packet;
    const label = packetLabel(p, { relative: this.relative, ports: this.ports });
    return `${p.from} → ${p.to} ${label}${p.dropped ? ' (lost)' : ''}`;
  }

  private row(index: number): HTMLLIElement {
    const e = this.model.events[index]!;
    const li = document.createElement('li');
    li.dataset.index = String(index);
    li.className = e.kind === 'state' ? 'event-state' : 'event-packet';
    if (e.kind === 'packet' && e.packet.tcp?.retransmission) li.classList.add('event-retransmission');
    const time = document.createElement('span');
    time.className = 'when';
    time.textContent = formatClock(e.time);
    const what = document.createElement('span');
    what.className = 'what';
    what.textContent = this.describe(e);
    li.append(time, what);
    return li;
  }

  private appendRows(from: number, to: number): void {
    if (from >= to) return;
    this.stopFilling();
    const rows: HTMLLIElement[] = [];
    const shown = Math.max(from, to - ROWS_PER_FRAME);
    if (shown > from) {
      const skipped = document.createElement('li');
      skipped.className = 'event-skipped';
      skipped.textContent = `… ${shown - from} events (pause and step to see each)`;
      rows.push(skipped);
    }
    for (let i = shown; i < to; i++) rows.push(this.row(i));
    // The list is drawn bottom-up (column-reverse): its first child is the newest row, and the view
    // stays on the newest rows without being scrolled from script (which would force a layout).
    this.list.prepend(...rows.reverse());
    while (this.list.childElementCount > LIVE_ROWS) this.list.lastElementChild!.remove();
  }

  /**
   * The list as it stands still (the run paused or ended, the chapter played): the last EVENT_ROWS
   * events, each with its row, none skipped. The newest LIVE_ROWS rows are written at once; unless `now`
   * is set, the older ones follow in batches, one per animation frame, below what the box shows (300
   * new rows at once took 20-25 ms of style and layout in one frame).
   */
  settle(now = false): void {
    this.stopFilling();
    if (this.selected !== undefined) return;
    const first = this.firstIndex();
    let oldest = Math.max(first, this.eventCursor - (now ? EVENT_ROWS : LIVE_ROWS));
    const rows: HTMLLIElement[] = [];
    for (let i = this.eventCursor - 1; i >= oldest; i--) rows.push(this.row(i));
    this.list.replaceChildren(...rows);
    const fill = (): void => {
      this.filling = 0;
      const from = Math.max(first, this.eventCursor - EVENT_ROWS, oldest - LIVE_ROWS);
      if (from >= oldest) return;
      const older: HTMLLIElement[] = [];
      for (let i = oldest - 1; i >= from; i--) older.push(this.row(i));
      // Older rows go to the end of the list's DOM: above what is shown, moving none of it.
      this.list.append(...older);
      oldest = from;
      this.filling = requestAnimationFrame(fill);
    };
    if (!now) this.filling = requestAnimationFrame(fill);
  }

  private stopFilling(): void {
    if (this.filling) cancelAnimationFrame(this.filling);
    this.filling = 0;
  }

  /**
   * Shows the instant of event `index`: the ladder as it was then, the charts up to it, the list around
   * it. The model keeps growing meanwhile if the run is not paused.
   */
  select(index: number): number {
    const events = this.model.events;
    const clamped = Math.max(this.firstIndex(), Math.min(index, this.eventCursor - 1));
    const e = events[clamped];
    if (!e) return this.from;
    this.selected = clamped;
    const window = events.slice(this.firstIndex(), this.eventCursor);
    this.ladder.replay(window, e.time, e.kind === 'packet' ? e.packet.id : undefined);
    for (const chart of this.charts()) if (!chart.element.hidden) chart.drawUntil(e.time);
    const from = Math.max(this.firstIndex(), clamped - EVENT_ROWS / 2);
    const to = Math.min(this.eventCursor, from + EVENT_ROWS);
    const rows: HTMLLIElement[] = [];
    for (let i = from; i < to; i++) rows.push(this.row(i));
    this.stopFilling();
    this.list.replaceChildren(...rows.reverse());
    const chosen = this.list.querySelector<HTMLLIElement>(`li[data-index="${clamped}"]`);
    chosen?.classList.add('selected');
    chosen?.scrollIntoView({ block: 'center' });
    return e.time;
  }

  /** Back to the present after a rewind. */
  live(now: number): void {
    this.selected = undefined;
    const events = this.model.events.slice(this.firstIndex(), this.eventCursor);
    this.ladder.replay(events, now);
    this.settle();
    this.show(now, '', true);
  }

  private firstIndex(): number {
    const events = this.model.events;
    let i = 0;
    while (i < events.length && events[i]!.time < this.from) i++;
    return i;
  }

  /** Number of events handed over so far (the end of the event list). */
  get eventCount(): number {
    return this.eventCursor;
  }

  /** Counts of what has been drawn, as every picture counts them. */
  countsText(): string {
    return countsText(countPackets(this.model.packets, { flows: this.model.flows() }));
  }

  bindList(): void {
    this.list.addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest<HTMLLIElement>('li[data-index]');
      if (row) this.onSelect(Number(row.dataset.index));
    });
  }
}

function firstAtOrAfter(list: readonly { time: number }[], t: number): number {
  let i = 0;
  while (i < list.length && list[i]!.time < t) i++;
  return i;
}
