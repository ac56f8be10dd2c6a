/**
 * The tcpts web lab: runs the stack in the page. A transfer is simulated in slices of virtual time, one
 * slice per animation frame, and the ladder diagram and graphs are redrawn from snapshots of the
 * conversation as it grows. The story of `tcpts demo` can be browsed chapter by chapter too.
 *
 * Settings come from the form and are mirrored in the address (?bytes=0&relative=0&autorun=1), so a
 * view can be shared, and tests can set it up without clicking.
 */
import { runSeedStory, type SeedStory } from '../src/sim/scenarios/seed-story/seed-story.js';
import { renderStoryReport } from '../src/sim/scenarios/seed-story/story-report.js';
import {
  CONGESTION_CONTROLS,
  type CongestionControlName,
  type TransferOptions,
  TransferScenario,
} from '../src/sim/scenarios/transfer.js';
import { CLIENT, SERVER, type TwoHostNetwork } from '../src/sim/scenarios/two-hosts.js';
import {
  type Conversation,
  countConversation,
  countsText,
  renderCongestionSvg,
  renderHtmlReport,
  renderLadderSvg,
  renderRttSvg,
  renderStateTimelineSvg,
  renderTimeSequenceSvg,
} from '../src/viz/index.js';

/** Arrows in the live ladder: the most recent ones (a long run would make the page unusable). */
const LADDER_PACKETS = 250;
/** Redraw at most this often while running, ms of real time. */
const REDRAW_INTERVAL = 120;
/** With speed "at once": real ms spent simulating per frame, so the page stays responsive. */
const FRAME_BUDGET = 30;
const CHART_WIDTH = 900;

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
const progressBar = $<HTMLDivElement>('#progress-bar');
const pcapButton = $<HTMLButtonElement>('#download-pcap');
const reportButton = $<HTMLButtonElement>('#download-report');
const storySection = $<HTMLElement>('#story');
const chapterSelect = $<HTMLSelectElement>('#chapter');

const NUMBER_FIELDS = ['bytes', 'reply', 'delay', 'loss', 'rate', 'mtu', 'window', 'seed', 'speed'] as const;

function field(name: string): HTMLInputElement | HTMLSelectElement {
  const element = form.elements.namedItem(name);
  if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement)) {
    throw new Error(`the form has no field ${name}`);
  }
  return element;
}

function readSettings(): LabSettings {
  const number = (name: string, min: number, max: number): number => {
    const value = Number(field(name).value);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(`${name} must be a number from ${min} to ${max}`);
    }
    return value;
  };
  const cc = field('cc').value;
  if (!(CONGESTION_CONTROLS as readonly string[]).includes(cc))
    throw new RangeError(`unknown congestion control ${cc}`);
  return {
    scenario: field('scenario').value === 'story' ? 'story' : 'transfer',
    bytes: Math.round(number('bytes', 0, 16 * 1024 * 1024)),
    reply: Math.round(number('reply', 0, 16 * 1024 * 1024)),
    delay: number('delay', 0, 10_000),
    loss: number('loss', 0, 100),
    rate: number('rate', 0, 100_000),
    mtu: Math.round(number('mtu', 576, 9000)),
    window: Math.round(number('window', 1, 16 * 1024 * 1024)),
    cc: cc as CongestionControlName,
    seed: Math.round(number('seed', 0, 2 ** 32 - 1)),
    speed: number('speed', 0, 1e9),
    relative: (field('relative') as HTMLInputElement).checked,
  };
}

/** Fills the form from the address: ?bytes=0&loss=2&relative=0 ... */
function applyQuery(query: URLSearchParams): void {
  for (const name of [...NUMBER_FIELDS, 'cc', 'scenario']) {
    const value = query.get(name);
    if (value !== null) field(name).value = value;
  }
  const relative = query.get('relative');
  if (relative !== null)
    (field('relative') as HTMLInputElement).checked = relative !== '0' && relative !== 'false';
}

function writeQuery(s: LabSettings): void {
  const query = new URLSearchParams();
  query.set('scenario', s.scenario);
  if (s.scenario === 'transfer') {
    for (const name of NUMBER_FIELDS) query.set(name, String(s[name]));
    query.set('cc', s.cc);
  }
  query.set('relative', s.relative ? '1' : '0');
  history.replaceState(null, '', `?${query}`);
}

function transferOptions(s: LabSettings): TransferOptions {
  const options: TransferOptions = {
    clientBytes: s.bytes,
    serverBytes: s.reply,
    delayMs: s.delay,
    loss: s.loss / 100,
    mtu: s.mtu,
    serverReceiveBuffer: s.window,
    seed: s.seed,
    congestionControl: s.cc,
  };
  if (s.rate > 0) options.rateBitsPerSecond = s.rate * 1e6;
  return options;
}

function setPhase(phase: string): void {
  document.body.dataset.phase = phase;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function show(selector: string, svg: string): void {
  $(selector).innerHTML = svg;
}

/** The ladder and the graphs of a conversation. */
function drawConversation(c: Conversation, relative: boolean, window?: { from: number; to: number }): void {
  const hosts = [CLIENT, SERVER];
  let from = window?.from;
  if (from === undefined && c.packets.length > LADDER_PACKETS)
    from = c.packets[c.packets.length - LADDER_PACKETS]!.sentAt;
  const shown =
    from === undefined
      ? c.packets.length
      : c.packets.filter((p) => p.sentAt >= from! && (!window || p.sentAt < window.to)).length;
  $('#ladder-hint').textContent =
    shown < c.packets.length && !window
      ? `The latest ${shown} of ${c.packets.length} packets (the report has them all). Time runs down; hover an arrow for its details.`
      : 'Time runs down; hover an arrow for everything about its packet.';
  show(
    '#ladder',
    renderLadderSvg(c, {
      hosts,
      relative,
      maxPackets: LADDER_PACKETS + 50,
      ...(from !== undefined ? { from } : {}),
      ...(window ? { to: window.to } : {}),
    }),
  );
  const flow = c.flows[0];
  show(
    '#time-sequence',
    flow && flow.bytesAtoB > 0
      ? renderTimeSequenceSvg(c, { flowId: flow.id, fromA: true, width: CHART_WIDTH })
      : '',
  );
  show(
    '#time-sequence-back',
    flow && flow.bytesBtoA > 0
      ? renderTimeSequenceSvg(c, { flowId: flow.id, fromA: false, width: CHART_WIDTH })
      : '',
  );
  const sender = flow ? (flow.bytesAtoB >= flow.bytesBtoA ? flow.a.host : flow.b.host) : CLIENT;
  const hasMetrics = flow !== undefined && c.metrics.some((m) => m.flowId === flow.id && m.host === sender);
  show(
    '#cwnd',
    hasMetrics ? renderCongestionSvg(c, { host: sender, flowId: flow.id, width: CHART_WIDTH }) : '',
  );
  show('#rtt', hasMetrics ? renderRttSvg(c, { host: sender, flowId: flow.id, width: CHART_WIDTH }) : '');
  show('#states', c.states.length ? renderStateTimelineSvg(c, { hosts, width: CHART_WIDTH }) : '');
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

/** One transfer, simulated a slice per animation frame. */
class LiveTransfer {
  private readonly scenario: TransferScenario;
  private paused = false;
  private stopped = false;
  private lastFrame: number | undefined;
  private lastDraw = 0;

  constructor(private readonly settings: LabSettings) {
    this.scenario = new TransferScenario(transferOptions(settings));
  }

  start(): void {
    setPhase('running');
    this.draw();
    requestAnimationFrame(this.frame);
  }

  stop(): void {
    this.stopped = true;
  }

  togglePause(): boolean {
    this.paused = !this.paused;
    if (!this.paused) {
      this.lastFrame = undefined;
      requestAnimationFrame(this.frame);
    }
    setPhase(this.paused ? 'paused' : 'running');
    return this.paused;
  }

  private readonly frame = (now: number): void => {
    if (this.stopped || this.paused) return;
    try {
      const elapsed = this.lastFrame === undefined ? 16 : Math.min(100, now - this.lastFrame);
      this.lastFrame = now;
      let finished: boolean;
      if (this.settings.speed === 0) {
        const until = performance.now() + FRAME_BUDGET;
        do finished = this.scenario.advance(50);
        while (!finished && performance.now() < until);
      } else {
        finished = this.scenario.advance((this.settings.speed * elapsed) / 1000);
      }
      if (finished || now - this.lastDraw >= REDRAW_INTERVAL) {
        this.lastDraw = now;
        this.draw();
      }
      if (finished) this.finish();
      else requestAnimationFrame(this.frame);
    } catch (error) {
      fail(error);
    }
  };

  private draw(): void {
    const p = this.scenario.progress();
    const c = this.scenario.network.conversation();
    drawConversation(c, this.settings.relative);
    progressBar.style.width = `${Math.round(p.fraction * 100)}%`;
    const delivered = p.serverBytesReceived + p.clientBytesReceived;
    statusText.textContent =
      `${p.phase} · ${formatBytes(delivered)} of ${formatBytes(p.totalBytes)} delivered · ` +
      `${(p.time / 1000).toFixed(3)} s simulated · ${countsText(countConversation(c))}` +
      (p.failure ? ` · failed: ${p.failure}` : '');
  }

  private finish(): void {
    const result = this.scenario.result();
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
      result.phase === 'failed'
        ? ''
        : result.intact
          ? ' · every byte arrived intact'
          : ' · the data was damaged';
    pauseButton.disabled = true;
    setPhase(result.phase === 'failed' ? 'failed' : 'done');
  }
}

let live: LiveTransfer | undefined;
let story: SeedStory | undefined;

function showChapter(index: number, relative: boolean): void {
  if (!story) return;
  const chapter = story.chapters[index];
  if (!chapter) return;
  $('#chapter-title').textContent = `${chapter.number}. ${chapter.title}`;
  $('#chapter-text').textContent = `${chapter.summary} ${chapter.explanation}`;
  drawConversation(story.stage.network.conversation(), relative && !chapter.absolute, {
    from: chapter.from,
    to: chapter.to,
  });
}

function runStory(settings: LabSettings): void {
  story = runSeedStory();
  const s = story;
  chapterSelect.replaceChildren(
    ...s.chapters.map((c, i) => {
      const option = document.createElement('option');
      option.value = String(i);
      option.textContent = `${c.number}. ${c.title}`;
      return option;
    }),
  );
  storySection.hidden = false;
  showChapter(0, settings.relative);
  offerDownloads(s.stage.network, () => renderStoryReport(s));
  progressBar.style.width = '100%';
  statusText.textContent = `The story: ${s.chapters.length} chapters, ${s.stage.network.conversation().packets.length} packets. Pick a chapter.`;
  setPhase('done');
}

function fail(error: unknown): void {
  live?.stop();
  pauseButton.disabled = true;
  statusText.textContent = `Error: ${error instanceof Error ? error.message : String(error)}`;
  setPhase('failed');
}

function run(): void {
  live?.stop();
  live = undefined;
  story = undefined;
  clearDownloads();
  let settings: LabSettings;
  try {
    settings = readSettings();
  } catch (error) {
    fail(error);
    return;
  }
  writeQuery(settings);
  document.body.classList.toggle('story', settings.scenario === 'story');
  storySection.hidden = true;
  if (settings.scenario === 'story') {
    pauseButton.disabled = true;
    runStory(settings);
    return;
  }
  progressBar.style.width = '0';
  pauseButton.disabled = false;
  pauseButton.textContent = 'Pause';
  live = new LiveTransfer(settings);
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
  if (live) pauseButton.textContent = live.togglePause() ? 'Resume' : 'Pause';
});
chapterSelect.addEventListener('change', () =>
  showChapter(Number(chapterSelect.value), readSettings().relative),
);
field('scenario').addEventListener('change', () => {
  document.body.classList.toggle('story', field('scenario').value === 'story');
});

const query = new URLSearchParams(location.search);
applyQuery(query);
document.body.classList.toggle('story', field('scenario').value === 'story');
runButton.disabled = false;
if (query.get('autorun') === '1') run();
