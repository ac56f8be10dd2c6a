/**
 * The tcpts web lab: runs the stack in the page. A transfer is simulated in slices that each end after a
 * few milliseconds of real time, one slice per animation frame, so the page never stops answering; each
 * frame draws only what happened in its slice (web/lab-view.ts). The story of `tcpts demo` is played
 * chapter by chapter from its recorded trace.
 *
 * Settings come from the form and are mirrored in the address (?bytes=0&relative=0&autorun=0), so a
 * view can be shared, and tests can set it up without clicking. Speed and numbering apply at once, even
 * while a run goes.
 */

import { bdpQueueFrames } from '../src/sim/scenarios/bulk-flows.js';
import { runSeedStory, type SeedStory } from '../src/sim/scenarios/seed-story/seed-story.js';
import { renderStoryReport } from '../src/sim/scenarios/seed-story/story-report.js';
import { SharedBottleneckScenario } from '../src/sim/scenarios/shared-bottleneck.js';
import {
  type TransferOptions,
  type TransferProgress,
  TransferScenario,
} from '../src/sim/scenarios/transfer.js';
import { CLIENT, SERVER, type TwoHostNetwork } from '../src/sim/scenarios/two-hosts.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../src/tcp/config.js';
import { CONGESTION_CONTROL_NAMES, type CongestionControlName } from '../src/tcp/congestion/registry.js';
import { renderHtmlReport } from '../src/viz/index.js';
import { LabView } from './lab-view.js';
import { LiveConversation } from './live-conversation.js';
import type { LadderLayout } from './live-ladder.js';
import { renderTimers, type TimerSnapshot, TimerWatch, waitingText } from './timer-panel.js';

/** Real ms of simulation per frame: short enough that a frame stays far under the 50 ms of a long task. */
const SLICE_MS = 6;
/** With speed "at once": more per frame, still well under a long task. */
const FAST_SLICE_MS = 6;
/** Real ms a frame should take at most, all work included (a long task is 50). */
const FRAME_BUDGET_MS = 12;
/** The simulation always gets this much, so a run makes progress on a slow machine. */
const MIN_SLICE_MS = 2;
/** A silence with nothing on the wire is crossed in about this much real time, however long it is. */
const SILENCE_REAL_MS = 900;

interface LabSettings {
  scenario: 'transfer' | 'story';
  bytes: number;
  reply: number;
  delay: number;
  /** Percent. */
  loss: number;
  /** Mbit/s; 0 = unlimited. */
  rate: number;
  mtu: number;
  window: number;
  cc: CongestionControlName;
  /** Flows on the bottleneck (1 = one connection, the transfer above). */
  flows: number;
  /** Congestion control of the second and later flows. */
  cc2: CongestionControlName;
  /** Frames the bottleneck queue holds; 0 = one bandwidth-delay product. */
  queue: number;
  ecn: boolean;
  sack: boolean;
  timestamps: boolean;
  wscale: boolean;
  seed: number;
  /** Virtual ms per real second; 0 = as fast as possible. */
  speed: number;
  relative: boolean;
}

const $ = <T extends HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
};

const form = $<HTMLFormElement>('#controls');
const runButton = $<HTMLButtonElement>('#run');
const pauseButton = $<HTMLButtonElement>('#pause');
const statusText = $<HTMLParagraphElement>('#status-text');
const waitingLine = $<HTMLParagraphElement>('#waiting');
const timersPanel = $<HTMLDivElement>('#timers');
const progressBar = $<HTMLDivElement>('#progress-bar');
const pcapButton = $<HTMLButtonElement>('#download-pcap');
const reportButton = $<HTMLButtonElement>('#download-report');
const storySection = $<HTMLElement>('#story');
const chapterSelect = $<HTMLSelectElement>('#chapter');
const eventList = $<HTMLOListElement>('#events');
const stepBack = $<HTMLButtonElement>('#step-back');
const stepForward = $<HTMLButtonElement>('#step-forward');
const liveButton = $<HTMLButtonElement>('#live');
const rewindText = $<HTMLSpanElement>('#rewind-text');

const NUMBER_FIELDS = [
  'bytes',
  'reply',
  'delay',
  'loss',
  'rate',
  'queue',
  'mtu',
  'window',
  'flows',
  'seed',
  'speed',
] as const;
const CHECKBOXES = ['relative', 'sack', 'timestamps', 'wscale', 'ecn'] as const;
const TCP_OPTIONS = ['sack', 'timestamps', 'wscale', 'ecn'] as const;

function field(name: string): HTMLInputElement | HTMLSelectElement {
  const element = form.elements.namedItem(name);
  if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement)) {
    throw new Error(`the form has no field ${name}`);
  }
  return element;
}

function checked(name: string): boolean {
  return (field(name) as HTMLInputElement).checked;
}

function readSettings(): LabSettings {
  const number = (name: string, min: number, max: number): number => {
    const value = Number(field(name).value);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(`${name} must be a number from ${min} to ${max}`);
    }
    return value;
  };
  const algorithm = (name: string): CongestionControlName => {
    const value = field(name).value;
    if (!(CONGESTION_CONTROL_NAMES as readonly string[]).includes(value))
      throw new RangeError(`unknown congestion control ${value}`);
    return value as CongestionControlName;
  };
  const flows = Math.round(number('flows', 1, 4));
  const rate = number('rate', 0, 100_000);
  if (flows > 1 && rate === 0) throw new RangeError('two or more flows share a bottleneck: set a rate');
  return {
    scenario: field('scenario').value === 'story' ? 'story' : 'transfer',
    bytes: Math.round(number('bytes', 0, 16 * 1024 * 1024)),
    reply: Math.round(number('reply', 0, 16 * 1024 * 1024)),
    delay: number('delay', 0, 10_000),
    loss: number('loss', 0, 100),
    rate,
    queue: Math.round(number('queue', 0, 100_000)),
    mtu: Math.round(number('mtu', 576, 9000)),
    window: Math.round(number('window', 1, 16 * 1024 * 1024)),
    cc: algorithm('cc'),
    flows,
    cc2: algorithm('cc2'),
    ecn: checked('ecn'),
    sack: checked('sack'),
    timestamps: checked('timestamps'),
    wscale: checked('wscale'),
    seed: Math.round(number('seed', 0, 2 ** 32 - 1)),
    speed: number('speed', 0, 1e9),
    relative: checked('relative'),
  };
}

/** Fills the form from the address: ?bytes=0&loss=2&relative=0 ... */
function applyQuery(query: URLSearchParams): void {
  for (const name of [...NUMBER_FIELDS, 'cc', 'cc2', 'scenario']) {
    const value = query.get(name);
    if (value !== null) field(name).value = value;
  }
  for (const name of CHECKBOXES) {
    const value = query.get(name);
    if (value !== null) (field(name) as HTMLInputElement).checked = value !== '0' && value !== 'false';
  }
}

function writeQuery(s: LabSettings): void {
  const query = new URLSearchParams();
  query.set('scenario', s.scenario);
  if (s.scenario === 'transfer') {
    for (const name of NUMBER_FIELDS) query.set(name, String(s[name]));
    query.set('cc', s.cc);
    query.set('cc2', s.cc2);
    for (const name of TCP_OPTIONS) query.set(name, s[name] ? '1' : '0');
  }
  query.set('relative', s.relative ? '1' : '0');
  history.replaceState(null, '', `?${query}`);
}

function tcpOptions(s: LabSettings): Partial<TcpConfig> {
  return { sack: s.sack, timestamps: s.timestamps, windowScaling: s.wscale, ecn: s.ecn };
}

/** The bottleneck queue in frames: as set, or one bandwidth-delay product. */
function queueFrames(s: LabSettings): number {
  return s.queue > 0 ? s.queue : bdpQueueFrames(s.rate * 1e6, s.delay);
}

function transferOptions(s: LabSettings): TransferOptions {
  const tcp = tcpOptions(s);
  const options: TransferOptions = {
    clientBytes: s.bytes,
    serverBytes: s.reply,
    delayMs: s.delay,
    loss: s.loss / 100,
    mtu: s.mtu,
    serverReceiveBuffer: s.wscale ? s.window : Math.min(s.window, 65_535),
    seed: s.seed,
    congestionControl: s.cc,
    tcp,
  };
  if (s.rate > 0) {
    options.rateBitsPerSecond = s.rate * 1e6;
    options.queueFrames = queueFrames(s);
    // With ECN the queue marks instead of dropping once it is half full (RFC 3168 §5).
    if (s.ecn) options.ecnMarkFrames = Math.max(1, Math.floor(options.queueFrames / 2));
  }
  return options;
}

/** What a live run simulates: one transfer, or several flows on one bottleneck. */
interface LabScenario {
  readonly network: TwoHostNetwork;
  advance(ms: number, enough?: () => boolean): boolean;
  progress(): TransferProgress;
  intact(): boolean;
}

function labScenario(s: LabSettings): LabScenario {
  if (s.flows === 1) return new TransferScenario(transferOptions(s));
  const queue = queueFrames(s);
  return new SharedBottleneckScenario({
    flows: Array.from({ length: s.flows }, (_, i) => (i === 0 ? s.cc : s.cc2)),
    bytesPerFlow: s.bytes,
    rateBitsPerSecond: s.rate * 1e6,
    delayMs: s.delay,
    queueFrames: queue,
    ...(s.ecn ? { ecnMarkFrames: Math.max(1, Math.floor(queue / 2)) } : {}),
    loss: s.loss / 100,
    mtu: s.mtu,
    tcp: { ...tcpOptions(s), receiveBufferSize: s.window },
    seed: s.seed,
  });
}

function setPhase(phase: string): void {
  document.body.dataset.phase = phase;
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** The ladder's layout for a link with one-way delay `delayMs`: a round trip is about 90 px. */
function ladderLayout(delayMs: number): LadderLayout {
  const rtt = Math.max(2 * delayMs, 0.2);
  return {
    hosts: [CLIENT, SERVER],
    scale: Math.min(40, 90 / rtt),
    gapMs: Math.max(4 * rtt, 5),
    delayMs: Math.max(delayMs, 0.05),
  };
}

/** What the download buttons save: the last run's capture and report (made when asked for). */
let downloads: { pcap: () => Uint8Array; report: () => string } | undefined;

function offerDownloads(network: TwoHostNetwork, report: () => string): void {
  downloads = { pcap: () => network.pcap(), report };
  pcapButton.disabled = false;
  reportButton.disabled = false;
}

function clearDownloads(): void {
  downloads = undefined;
  pcapButton.disabled = true;
  reportButton.disabled = true;
}

function save(name: string, type: string, content: BlobPart): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** What the page is playing: a live transfer or a story chapter. Both run on animation frames. */
interface Player {
  /** Virtual time shown. */
  now(): number;
  togglePause(): boolean;
  readonly paused: boolean;
  stop(): void;
  /** Rewind to event `index` of the view (pauses). */
  select(index: number): void;
  /** Back to the present. */
  resume(): void;
  timersAt(time: number): TimerSnapshot | undefined;
}

let view: LabView | undefined;
let player: Player | undefined;
let settings: LabSettings | undefined;

function labView(model: LiveConversation, layout: LadderLayout): LabView {
  if (!view) {
    view = new LabView(model, layout, eventList, $('#graphs-body'), (index) => player?.select(index));
    view.bindList();
  } else view.reset(model, layout);
  return view;
}

function showTimers(snapshot: TimerSnapshot | undefined, now: number): string {
  renderTimers(timersPanel, snapshot, now);
  const text = waitingText(snapshot, now);
  waitingLine.textContent = `Waiting for: ${text}`;
  return text;
}

/** A watch on the timers of both hosts' TCP (TIME-WAIT lasts 2 x MSL of the default configuration). */
function hostTimers(network: TwoHostNetwork): TimerWatch {
  const msl = DEFAULT_TCP_CONFIG.mslMs;
  return new TimerWatch([
    { name: CLIENT, tcp: network.clientTcp, mslMs: msl },
    { name: SERVER, tcp: network.serverTcp, mslMs: msl },
  ]);
}

/** One transfer, simulated a slice per animation frame. */
class LiveTransfer implements Player {
  private readonly scenario: LabScenario;
  private readonly model: LiveConversation;
  private readonly view: LabView;
  private readonly timers: TimerWatch;
  private readonly layout: LadderLayout;
  paused = false;
  private stopped = false;
  private finished = false;
  private lastFrame: number | undefined;
  private lastStatus = 0;
  /** The status line's counts of the packets, as of the last slice that read the trace. */
  private counts = '';
  private countsAt = Number.NEGATIVE_INFINITY;
  /** Real ms the last frame spent drawing (its script; style, layout and paint come after). */
  private drawCost = 0;
  /** Slices of simulation run as tasks of their own, posted through this channel (see `frame`). */
  private readonly sliceChannel = new MessageChannel();
  private slicePending = false;
  /** Real ms of frames since the last slice ran: what the next slice simulates at the current speed. */
  private elapsedSinceSlice = 0;
  private focused = false;

  constructor(private readonly settings: LabSettings) {
    this.scenario = labScenario(settings);
    const network = this.scenario.network;
    this.model = new LiveConversation(network.net.trace.events);
    this.layout = ladderLayout(settings.delay);
    this.view = labView(this.model, this.layout);
    this.view.relative = settings.relative;
    // Several connections between the same two hosts: the labels say which by their ports.
    this.view.ports = settings.flows > 1;
    this.view.ladder.labels = { relative: settings.relative, ports: settings.flows > 1 };
    this.view.flows.limitLegend(settings.flows);
    // A first guess of the run's length, so the charts' time axis rarely has to grow.
    const rtt = 2 * settings.delay;
    const bits = (settings.bytes * settings.flows + settings.reply) * 8;
    this.view.expectSpan(10 * rtt + (settings.rate > 0 ? (bits / (settings.rate * 1e6)) * 1000 * 1.2 : 0));
    this.timers = hostTimers(network);
    this.counts = this.view.countsText();
    this.model.onState = (e) => this.timers.stateChanged(e.host, e.to, e.time);
    this.sliceChannel.port1.onmessage = this.slice;
  }

  now(): number {
    return this.scenario.network.now();
  }

  start(): void {
    setPhase('running');
    this.step(false);
    requestAnimationFrame(this.frame);
  }

  stop(): void {
    this.stopped = true;
    this.sliceChannel.port1.close();
  }

  togglePause(): boolean {
    if (this.finished) return true;
    this.paused = !this.paused;
    if (!this.paused) {
      if (this.view.selected !== undefined) this.view.live(this.now());
      this.lastFrame = undefined;
      requestAnimationFrame(this.frame);
    } else this.view.settle();
    setPhase(this.paused ? 'paused' : 'running');
    return this.paused;
  }

  select(index: number): void {
    if (!this.paused && !this.finished) {
      this.paused = true;
      setPhase('paused');
      pauseButton.textContent = 'Resume';
    }
    const time = this.view.select(index);
    const snapshot = this.timers.at(time);
    showTimers(snapshot, time);
    rewindText.textContent = `Showing ${time.toFixed(3)} ms (event ${index + 1} of ${this.view.eventCount}).`;
    liveButton.disabled = false;
  }

  resume(): void {
    this.view.live(this.now());
    rewindText.textContent = '';
    liveButton.disabled = true;
    this.draw(true);
  }

  timersAt(time: number): TimerSnapshot | undefined {
    return this.timers.at(time);
  }

  /** Loss applies to the cable at once (each direction), as a netem change would. */
  setLoss(percent: number): void {
    this.scenario.network.link.updateImpairments('both', { loss: percent / 100 });
    this.settings.loss = percent;
  }

  /**
   * One animation frame: draws what the last slice of simulation produced, then queues the next slice as
   * a task of its own (`slice`). The simulation's few milliseconds and the frame's drawing, style, layout
   * and paint are then two tasks, not one: the Long Tasks API times each task's wall clock, which on a
   * busy machine includes the time the page's thread waits for a core, so each must stay well short.
   */
  private readonly frame = (time: number): void => {
    if (this.stopped || this.paused) return;
    try {
      const elapsed = this.lastFrame === undefined ? 16 : Math.min(100, time - this.lastFrame);
      this.lastFrame = time;
      this.render();
      if (this.finished) {
        this.finish();
        return;
      }
      this.elapsedSinceSlice = Math.min(100, this.elapsedSinceSlice + elapsed);
      if (!this.slicePending) {
        this.slicePending = true;
        this.sliceChannel.port2.postMessage(null);
      }
      requestAnimationFrame(this.frame);
    } catch (error) {
      fail(error);
    }
  };

  /** The slice of simulation queued by the last frame (see `frame`). */
  private readonly slice = (): void => {
    this.slicePending = false;
    if (this.stopped || this.paused || this.finished) return;
    try {
      const elapsed = this.elapsedSinceSlice;
      this.elapsedSinceSlice = 0;
      this.simulate(elapsed);
      this.read();
    } catch (error) {
      fail(error);
    }
  };

  /** Simulates one slice (with `simulate`) and draws what it produced. */
  private step(simulate: boolean, elapsed = 16): void {
    if (simulate) this.simulate(elapsed);
    this.render();
  }

  /** Advances the simulation by what `elapsed` real ms at the current speed stand for, within the budget. */
  private simulate(elapsed: number): void {
    const speed = currentSpeed();
    const clock = this.scenario.network.clock;
    const now = clock.now();
    let ms = speed === 0 ? Number.POSITIVE_INFINITY : (speed * elapsed) / 1000;
    // A long silence (a timer running out, nothing on the wire) is crossed in about a second.
    const next = clock.nextTimerTime();
    if (
      speed > 0 &&
      next !== undefined &&
      next - now > this.layout.gapMs &&
      this.view.ladder.travelling === 0
    ) {
      ms = Math.max(ms, ((next - now + this.layout.gapMs) * elapsed) / SILENCE_REAL_MS);
    }
    // What the previous frame spent drawing is taken from this slice, so a frame's whole work stays
    // near FRAME_BUDGET however much each simulated millisecond gives to draw.
    const slice = speed === 0 ? FAST_SLICE_MS : SLICE_MS;
    const budget = Math.max(MIN_SLICE_MS, Math.min(slice, FRAME_BUDGET_MS - this.drawCost));
    const budgetEnd = performance.now() + budget;
    this.finished = this.scenario.advance(ms, () => performance.now() > budgetEnd);
  }

  /**
   * Reads what the simulation produced: the trace decoded into the model, and the status line's counts
   * (a pass over every packet) four times a second. Done in the slice's task, after the simulation, so
   * the frame's task only draws: decoding allocates, and the garbage collector's pauses then mostly
   * fall in the short slices rather than in a frame already holding style, layout and paint.
   */
  private read(): void {
    this.model.pump();
    const real = performance.now();
    if (real - this.countsAt > 250) {
      this.countsAt = real;
      this.counts = this.view.countsText();
    }
  }

  /** Draws what the simulation produced since the last frame. */
  private render(): void {
    const drawStart = performance.now();
    // Nothing left to read after a slice; at the start and the end of a run, what there is.
    this.model.pump();
    if (!this.focused) this.focus();
    this.sampleQueue();
    this.draw(false);
    this.drawCost = performance.now() - drawStart;
  }

  /** The charts follow the flow's data sender (the side with more to send). */
  private focus(): void {
    const flow = this.model.flows()[0];
    if (!flow) return;
    const s = this.settings;
    this.view.setFocus({ flowId: flow.id, sender: s.bytes >= s.reply ? flow.a.host : flow.b.host });
    this.focused = true;
  }

  private sampleQueue(): void {
    if (this.settings.rate <= 0) return;
    const sender = this.settings.bytes >= this.settings.reply || this.settings.flows > 1 ? 'a->b' : 'b->a';
    const { bytes } = this.scenario.network.link.queueOccupancy(sender);
    this.view.queueSamples.push({ time: this.now(), bytes });
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (this.view.selected !== undefined && !force) return;
    this.view.feed(now);
    const snapshot = this.timers.sample(now, this.view.ladder.travelling);
    const waiting = showTimers(snapshot, now);
    this.view.show(now, waiting, force);
    const real = performance.now();
    if (force || this.finished || real - this.lastStatus > 250) {
      this.lastStatus = real;
      if (force || this.finished) this.counts = this.view.countsText();
      const p = this.scenario.progress();
      progressBar.style.width = `${Math.round(p.fraction * 100)}%`;
      const delivered = p.serverBytesReceived + p.clientBytesReceived;
      statusText.textContent =
        `${p.phase} · ${formatSize(delivered)} of ${formatSize(p.totalBytes)} delivered · ` +
        `${(p.time / 1000).toFixed(3)} s simulated · ${this.counts}` +
        (p.failure ? ` · failed: ${p.failure}` : '');
    }
  }

  private finish(): void {
    this.draw(true);
    this.view.settle();
    const progress = this.scenario.progress();
    const network = this.scenario.network;
    offerDownloads(network, () =>
      renderHtmlReport(network.conversation(), {
        title: 'tcpts lab',
        description: `A transfer simulated in the browser: ${JSON.stringify(transferOptions(this.settings))}.`,
        hosts: [CLIENT, SERVER],
        counters: network.counters(),
      }),
    );
    statusText.textContent +=
      progress.phase === 'failed'
        ? ''
        : this.scenario.intact()
          ? ' · every byte arrived intact'
          : ' · the data was damaged';
    pauseButton.disabled = true;
    setPhase(progress.phase === 'failed' ? 'failed' : 'done');
  }
}

const speedField = field('speed');

/** The speed field, read at every frame so a change applies at once. */
function currentSpeed(): number {
  const value = Number(speedField.value);
  return Number.isFinite(value) && value >= 0 ? value : 250;
}

/** The story, played chapter by chapter from its recorded trace. */
class StoryPlayer implements Player {
  private readonly story: SeedStory;
  private readonly model: LiveConversation;
  private chapter = 0;
  private clock = 0;
  paused = false;
  private stopped = false;
  private lastFrame: number | undefined;
  private frameRequested = false;
  private view: LabView;

  /** The stacks' timers, sampled at every instant of the story while it ran. */
  private readonly timers: TimerWatch;

  constructor() {
    let watch: { model: LiveConversation; timers: TimerWatch } | undefined;
    // The story runs to its end before it is played: its timers are read at each of its instants as it
    // runs, and shown as they were at the instant played.
    this.story = runSeedStory({}, (stage) => {
      const network = stage.network;
      const model = new LiveConversation(network.net.trace.events);
      const timers = hostTimers(network);
      model.onState = (e) => timers.stateChanged(e.host, e.to, e.time);
      stage.onInstant = (time) => {
        model.pump();
        timers.sample(time, 0);
      };
      watch = { model, timers };
    });
    this.story.stage.onInstant = undefined;
    this.model = watch!.model;
    this.timers = watch!.timers;
    this.model.pump();
    this.view = labView(this.model, ladderLayout(10));
    const s = this.story;
    chapterSelect.replaceChildren(
      ...s.chapters.map((c, i) => {
        const option = document.createElement('option');
        option.value = String(i);
        option.textContent = `${c.number}. ${c.title}`;
        return option;
      }),
    );
    storySection.hidden = false;
    offerDownloads(s.stage.network, () => renderStoryReport(s));
  }

  get chapters(): number {
    return this.story.chapters.length;
  }

  now(): number {
    return this.clock;
  }

  /** Plays chapter `index` from its beginning. */
  play(index: number): void {
    const chapter = this.story.chapters[index];
    if (!chapter) return;
    this.chapter = index;
    chapterSelect.value = String(index);
    $('#chapter-title').textContent = `${chapter.number}. ${chapter.title}`;
    $('#chapter-text').textContent = `${chapter.summary} ${chapter.explanation}`;
    $<HTMLButtonElement>('#chapter-prev').disabled = index === 0;
    $<HTMLButtonElement>('#chapter-next').disabled = index === this.story.chapters.length - 1;
    const relative = (settings?.relative ?? true) && !chapter.absolute;
    this.view = labView(this.model, ladderLayout(10));
    this.view.reset(this.model, ladderLayout(10), chapter.from, chapter.to);
    this.view.relative = relative;
    this.view.ladder.labels = { relative };
    // The charts follow the chapter's data sender: the side that sent most payload in the chapter.
    const sent = new Map<string, number>();
    for (const p of this.model.packets) {
      if (p.sentAt < chapter.from || p.sentAt >= chapter.to || !p.tcp) continue;
      const key = `${p.tcp.flowId} ${p.from}`;
      sent.set(key, (sent.get(key) ?? 0) + p.tcp.length + 1);
    }
    const top = [...sent].sort((a, b) => b[1] - a[1])[0];
    if (top) {
      const [flowId, sender] = top[0].split(' ');
      this.view.setFocus({ flowId: Number(flowId), sender: sender! });
    }
    this.clock = chapter.from;
    this.paused = false;
    pauseButton.disabled = false;
    pauseButton.textContent = 'Pause';
    liveButton.disabled = true;
    rewindText.textContent = '';
    setPhase('running');
    this.view.feed(this.clock);
    this.view.show(this.clock);
    this.lastFrame = undefined;
    this.request();
  }

  private request(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(this.frame);
  }

  private readonly frame = (time: number): void => {
    this.frameRequested = false;
    if (this.stopped || this.paused) return;
    try {
      const elapsed = this.lastFrame === undefined ? 16 : Math.min(100, time - this.lastFrame);
      this.lastFrame = time;
      const chapter = this.story.chapters[this.chapter]!;
      const speed = currentSpeed() || 1e9;
      let ms = (speed * elapsed) / 1000;
      // Silences are crossed in about a second, as in a live run.
      const next = this.nextEventTime();
      const gap = ladderLayout(10).gapMs;
      if (next !== undefined && next - this.clock > gap && this.view.ladder.travelling === 0)
        ms = Math.max(ms, ((next - this.clock + gap) * elapsed) / SILENCE_REAL_MS);
      this.clock = Math.min(chapter.to, this.clock + ms);
      this.view.feed(this.clock);
      const waiting = showTimers(this.timersAt(this.clock), this.clock);
      // At the chapter's end the charts are drawn at once, whatever their pace.
      this.view.show(this.clock, waiting, this.clock >= chapter.to);
      progressBar.style.width = `${Math.round(((this.clock - chapter.from) / (chapter.to - chapter.from)) * 100)}%`;
      statusText.textContent = `Chapter ${chapter.number} of ${this.story.chapters.length} · ${(this.clock - chapter.from).toFixed(1)} ms into the chapter`;
      if (this.clock >= chapter.to) {
        // A chapter is short: all its rows at once.
        this.view.settle(true);
        pauseButton.disabled = true;
        setPhase('done');
        statusText.textContent = `Chapter ${chapter.number} of ${this.story.chapters.length} played: ${chapter.summary}`;
        return;
      }
      this.request();
    } catch (error) {
      fail(error);
    }
  };

  private nextEventTime(): number | undefined {
    let next: number | undefined;
    for (const p of this.model.packets) {
      if (p.sentAt > this.clock) {
        next = p.sentAt;
        break;
      }
    }
    return next;
  }

  togglePause(): boolean {
    this.paused = !this.paused;
    if (!this.paused) {
      if (this.view.selected !== undefined) this.view.live(this.clock);
      this.lastFrame = undefined;
      this.request();
    } else this.view.settle();
    setPhase(this.paused ? 'paused' : 'running');
    return this.paused;
  }

  stop(): void {
    this.stopped = true;
  }

  select(index: number): void {
    this.paused = true;
    pauseButton.textContent = 'Resume';
    const time = this.view.select(index);
    this.showTimers(time);
    rewindText.textContent = `Showing ${time.toFixed(3)} ms.`;
    liveButton.disabled = false;
  }

  resume(): void {
    this.view.live(this.clock);
    this.showTimers(this.clock);
    rewindText.textContent = '';
    liveButton.disabled = true;
  }

  /** The timers as they ran at `time`, with the packets then on the wire as the ladder shows them. */
  timersAt(time: number): TimerSnapshot | undefined {
    const snapshot = this.timers.at(time);
    return snapshot && { ...snapshot, travelling: this.view.ladder.travelling };
  }

  private showTimers(time: number): void {
    showTimers(this.timersAt(time), time);
  }
}

function fail(error: unknown): void {
  player?.stop();
  pauseButton.disabled = true;
  statusText.textContent = `Error: ${error instanceof Error ? error.message : String(error)}`;
  setPhase('failed');
}

function run(): void {
  player?.stop();
  player = undefined;
  clearDownloads();
  try {
    settings = readSettings();
  } catch (error) {
    fail(error);
    return;
  }
  writeQuery(settings);
  document.body.classList.toggle('story', settings.scenario === 'story');
  storySection.hidden = true;
  liveButton.disabled = true;
  rewindText.textContent = '';
  progressBar.style.width = '0';
  pauseButton.disabled = false;
  pauseButton.textContent = 'Pause';
  if (settings.scenario === 'story') {
    const story = new StoryPlayer();
    player = story;
    story.play(0);
    return;
  }
  const live = new LiveTransfer(settings);
  player = live;
  live.start();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  run();
});
pcapButton.addEventListener('click', () => {
  if (downloads) save('tcpts-lab.pcap', 'application/vnd.tcpdump.pcap', downloads.pcap().slice());
});
reportButton.addEventListener('click', () => {
  if (downloads) save('tcpts-lab.html', 'text/html', downloads.report());
});
pauseButton.addEventListener('click', () => {
  if (player) pauseButton.textContent = player.togglePause() ? 'Resume' : 'Pause';
});
chapterSelect.addEventListener('change', () => {
  if (player instanceof StoryPlayer) player.play(Number(chapterSelect.value));
});
$('#chapter-prev').addEventListener('click', () => {
  if (player instanceof StoryPlayer) player.play(Number(chapterSelect.value) - 1);
});
$('#chapter-next').addEventListener('click', () => {
  if (player instanceof StoryPlayer) player.play(Number(chapterSelect.value) + 1);
});
field('scenario').addEventListener('change', () => {
  document.body.classList.toggle('story', field('scenario').value === 'story');
});
// Numbering applies at once, to what is drawn and to what comes.
field('relative').addEventListener('change', () => {
  if (settings) settings.relative = checked('relative');
  view?.setRelative(checked('relative'));
  if (settings) writeQuery(settings);
});
field('loss').addEventListener('change', () => {
  const percent = Number(field('loss').value);
  if (!(player instanceof LiveTransfer) || !Number.isFinite(percent) || percent < 0 || percent > 100) return;
  player.setLoss(percent);
  if (settings) writeQuery(settings);
});
field('speed').addEventListener('change', () => {
  if (settings) {
    settings.speed = currentSpeed();
    writeQuery(settings);
  }
});
$('#step-first').addEventListener('click', () => player?.select(0));
stepBack.addEventListener('click', () => {
  if (!player || !view) return;
  player.select((view.selected ?? view.eventCount) - 1);
});
stepForward.addEventListener('click', () => {
  if (!player || !view) return;
  player.select((view.selected ?? view.eventCount - 2) + 1);
});
liveButton.addEventListener('click', () => player?.resume());

// The algorithms to choose from are the stack's own registry.
for (const name of ['cc', 'cc2']) {
  (field(name) as HTMLSelectElement).replaceChildren(
    ...CONGESTION_CONTROL_NAMES.map((algorithm) => {
      const option = document.createElement('option');
      option.value = algorithm;
      option.textContent = algorithm;
      option.selected = algorithm === DEFAULT_TCP_CONFIG.congestionControl;
      return option;
    }),
  );
}

const query = new URLSearchParams(location.search);
applyQuery(query);
// The pictures' frames are made while the page loads, so starting a run only fills them.
labView(new LiveConversation([]), ladderLayout(Number(field('delay').value) || 10));
document.body.classList.toggle('story', field('scenario').value === 'story');
runButton.disabled = false;
// The default run starts at once (in a frame of its own, after the page has loaded), so the page is
// never a set of empty frames.
if (query.get('autorun') !== '0') requestAnimationFrame(() => run());
