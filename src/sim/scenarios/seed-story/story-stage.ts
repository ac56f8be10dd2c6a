/**
 * The stage the chapters of the seed's story play on: the two-host network, the applications on each
 * host (what they read and when), and the record of each chapter's span of virtual time.
 *
 * The applications are deliberately simple and scripted: the client writes what a chapter tells it to
 * and reads everything it receives; the server reads only while `serverReading` is on, so a chapter can
 * let its receive buffer fill and watch the window close.
 */
import type { TcpConnection } from '../../../tcp/connection.js';
import type { TcpListener } from '../../../tcp/tcp-layer.js';
import type { PacketProtocol } from '../../../viz/conversation.js';
import { CLASSIC_TCP, TwoHostNetwork } from '../two-hosts.js';

/** Settings that shape the story; the defaults reproduce the seed's numbers. */
export interface StoryOptions {
  /** Seed of the simulation: it picks the ISNs and ephemeral ports; the story is the same. Default 1. */
  seed?: number;
}

/** One-way delay of the cable, ms: a 20 ms round trip. */
export const STORY_DELAY_MS = 10;

/** The MTU that makes the MSS exactly 1024 bytes (1064 - 20 IP - 20 TCP), the seed's segment size. */
export const STORY_MTU = 1064;
/**
 * The server's receive buffer. With the application not reading, three 1024-byte segments leave
 * 6144 - 3072 = 3072 bytes free: the seed's "ACK 3073, window 3072".
 */
export const STORY_SERVER_BUFFER = 6144;
export const STORY_SERVER_PORT = 23;
export const STORY_UDP_PORT = 7;

/** What a chapter tells the reader and how its pictures are drawn. */
export interface ChapterNarration {
  /** One line: what happens (printed under the title). */
  readonly summary: string;
  /** A paragraph: why it happens (the report's caption; the terminal's with --explain). */
  readonly explanation: string;
  /** Absolute sequence numbers instead of relative ones (the handshake shows the real ISNs). */
  readonly absolute?: boolean;
  /** Only packets of these protocols in the terminal ladder (default: all). */
  readonly protocols?: readonly PacketProtocol[];
}

export interface StoryChapter {
  readonly number: number;
  readonly title: string;
  readonly summary: string;
  readonly explanation: string;
  /** The chapter's span of virtual time, [from, to) in ms. */
  readonly from: number;
  readonly to: number;
  readonly absolute: boolean;
  readonly protocols?: readonly PacketProtocol[];
}

export class StoryStage {
  readonly network: TwoHostNetwork;
  /** The server's listening socket (chapter 1 opens it). */
  listener: TcpListener | undefined;
  /** The connection of chapters 1-6, client and server ends. */
  client: TcpConnection | undefined;
  server: TcpConnection | undefined;
  /** While true the server's application reads every byte as soon as it arrives. */
  serverReading = false;
  /** Bytes each application has read so far. */
  clientBytesRead = 0;
  serverBytesRead = 0;

  constructor(options: StoryOptions = {}) {
    // The seed's numbers need the classic TCP it describes (see CLASSIC_TCP).
    this.network = new TwoHostNetwork({
      seed: options.seed ?? 1,
      delayMs: STORY_DELAY_MS,
      mtu: STORY_MTU,
      tcp: CLASSIC_TCP,
    });
  }

  now(): number {
    return this.network.now();
  }

  /**
   * Called with the time of each instant the story does something at, once everything at that instant is
   * done and before virtual time moves on: the stacks' state then (their running timers, say) is the
   * state until the next instant. The web lab samples the timers here to show them while it replays the
   * story.
   */
  onInstant: ((time: number) => void) | undefined;

  /** Runs virtual time up to `t` (absolute ms). */
  until(t: number): void {
    if (t > this.now()) this.runTo(t);
  }

  /** Runs virtual time for `ms`. */
  wait(ms: number): void {
    this.runTo(this.now() + ms);
  }

  /**
   * Runs virtual time until `condition()` holds (checked after every timer), or `limitMs` passes.
   * Returns whether it held.
   */
  waitFor(condition: () => boolean, limitMs = 600_000): boolean {
    const clock = this.network.clock;
    const deadline = clock.now() + limitMs;
    while (!condition()) {
      const next = clock.nextTimerTime();
      if (next === undefined || next > deadline) return false;
      this.instantDone(next);
      clock.runUntil(next);
    }
    return true;
  }

  /** Runs every timer due up to `t` (>= now), an instant at a time when someone watches the instants. */
  private runTo(t: number): void {
    const clock = this.network.clock;
    if (this.onInstant) {
      for (let next = clock.nextTimerTime(); next !== undefined && next <= t; next = clock.nextTimerTime()) {
        this.instantDone(next);
        clock.runUntil(next);
      }
      this.instantDone(t);
    }
    clock.runUntil(t);
  }

  /** Time is about to move on to `next`: the current instant is done. */
  private instantDone(next: number): void {
    const now = this.network.clock.now();
    if (next > now) this.onInstant?.(now);
  }

  /** Tells the reader what an application did, as a note beside its host's timeline. */
  note(host: 'client' | 'server', text: string): void {
    const net = this.network.net;
    net.tracer.emit({ kind: 'note', time: net.clock.now(), host, text });
  }

  /** The client application: reads whatever arrives, at once. */
  attachClient(conn: TcpConnection): void {
    conn.on('readable', () => {
      for (;;) {
        const data = conn.receive(this.now());
        if (data === null || data.length === 0) return;
        this.clientBytesRead += data.length;
      }
    });
  }

  /** The server application: reads only while `serverReading` is on (or when told to, `serverRead`). */
  attachServer(conn: TcpConnection): void {
    conn.on('readable', () => {
      if (this.serverReading) this.serverRead(false);
    });
  }

  /** The server application reads everything buffered; returns the byte count. */
  serverRead(announce = true): number {
    const conn = this.server;
    if (!conn) return 0;
    // Told before it happens: reading may send a window update, which belongs after the note.
    if (announce && conn.readableLength > 0) {
      this.note('server', `application reads ${conn.readableLength} bytes`);
    }
    let total = 0;
    for (;;) {
      const data = conn.receive(this.now());
      if (data === null || data.length === 0) break;
      total += data.length;
    }
    this.serverBytesRead += total;
    return total;
  }
}

/** Bytes for an application to send: printable, so previews in the report read as text. */
export function storyBytes(length: number, text = 'tcpts '): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = text.charCodeAt(i % text.length);
  return out;
}
