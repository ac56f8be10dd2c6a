/**
 * Deterministic, chosen losses: "lose the fourth data segment from the client", "lose the ACK of the
 * server's FIN". Random loss (link impairments) shows what TCP does on average; a story needs the loss of
 * one particular frame, at the moment the reader is told about it.
 *
 * `ScriptedLoss.wrap(link, end)` returns a NetworkDevice that stands in for one end of a MemoryLink. It
 * hands every frame to the real end; when a rule picks a frame, it first tells the link to lose every frame
 * (`loss: 1`) for exactly that one send and then restores the link's impairments. The link therefore
 * accounts for the loss itself: it traces `link.sent` and `link.dropped` (reason 'loss'), its counters
 * count it, and a capture of the link records the frame as the sender sent it — so a ladder diagram, the
 * pcap and the counters all agree that the frame left the sender and never arrived. (This relies on the
 * link judging loss synchronously inside `send`, as MemoryLink documents: loss is decided at its entrance.)
 */
import type { NetworkDevice } from '../../link/device.js';
import type { LinkDirection, MemoryLink } from '../../link/memory-link.js';
import { type DecodedFrame, decodeEthernetFrame } from '../../viz/decode-frame.js';

/** What a rule is shown of a frame about to be sent. */
export interface OutgoingFrame {
  /** The sending host (the stack's name). */
  readonly from: string;
  /** Virtual time of the send, ms. */
  readonly time: number;
  readonly decoded: DecodedFrame;
}

export interface LossRule {
  /** Only frames sent by this host. */
  readonly from: string;
  /** Which frames count (default: every frame from `from`). */
  readonly when?: (frame: OutgoingFrame) => boolean;
  /** Lose the nth frame that matches, counting from when the rule is added (default 1: the next one). */
  readonly nth?: number;
  /** Why, for the record (e.g. 'the final ACK'). */
  readonly label?: string;
}

/** A frame a rule took. */
export interface ScriptedDrop {
  readonly time: number;
  readonly from: string;
  readonly label?: string;
}

interface ArmedRule {
  readonly rule: LossRule;
  seen: number;
}

export class ScriptedLoss {
  private readonly rules: ArmedRule[] = [];
  /** Every frame lost on purpose so far, in order. */
  readonly drops: ScriptedDrop[] = [];

  /** Arms a rule: the `nth` frame from `rule.from` matching `rule.when` will be lost. */
  lose(rule: LossRule): void {
    const nth = rule.nth ?? 1;
    if (!Number.isInteger(nth) || nth < 1) {
      throw Object.assign(new Error(`nth must be an integer >= 1, got ${nth}`), { code: 'EINVAL' });
    }
    this.rules.push({ rule, seen: 0 });
  }

  /** Rules armed but not yet used. */
  get pending(): number {
    return this.rules.length;
  }

  /** Forgets every armed rule. */
  clear(): void {
    this.rules.length = 0;
  }

  /**
   * The device a stack should use for end `end` of `link` ('a' or 'b'), owned by host `host`. Frames the
   * stack sends through it are subject to this object's rules.
   */
  wrap(link: MemoryLink, end: 'a' | 'b', host: string, now: () => number): NetworkDevice {
    return new LossScriptedDevice(this, link, end, host, now);
  }

  /** @internal Decides the fate of one outgoing frame; true means lose it. */
  judge(host: string, frame: Uint8Array, time: number): boolean {
    if (this.rules.length === 0) return false;
    let decoded: DecodedFrame | undefined;
    for (let i = 0; i < this.rules.length; i++) {
      const armed = this.rules[i]!;
      if (armed.rule.from !== host) continue;
      decoded ??= decodeEthernetFrame(frame);
      if (armed.rule.when && !armed.rule.when({ from: host, time, decoded })) continue;
      armed.seen++;
      if (armed.seen < (armed.rule.nth ?? 1)) continue;
      this.rules.splice(i, 1);
      this.drops.push({ time, from: host, ...(armed.rule.label ? { label: armed.rule.label } : {}) });
      return true;
    }
    return false;
  }
}

class LossScriptedDevice implements NetworkDevice {
  private readonly inner: NetworkDevice;
  private readonly direction: LinkDirection;

  constructor(
    private readonly loss: ScriptedLoss,
    private readonly link: MemoryLink,
    end: 'a' | 'b',
    private readonly host: string,
    private readonly now: () => number,
  ) {
    this.inner = end === 'a' ? link.a : link.b;
    this.direction = end === 'a' ? 'a->b' : 'b->a';
  }

  get name(): string {
    return this.inner.name;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  get mac(): number {
    return this.inner.mac;
  }

  get checksumOffload(): boolean | undefined {
    return this.inner.checksumOffload;
  }

  send(frame: Uint8Array): void {
    if (!this.loss.judge(this.host, frame, this.now())) {
      this.inner.send(frame);
      return;
    }
    const before = { ...this.link.impairments(this.direction) };
    this.link.setImpairments(this.direction, { ...before, loss: 1 });
    try {
      this.inner.send(frame);
    } finally {
      this.link.setImpairments(this.direction, before);
    }
  }

  setReceiver(receiver: (frame: Uint8Array) => void): void {
    this.inner.setReceiver(receiver);
  }

  close(): void {
    this.inner.close?.();
  }
}
