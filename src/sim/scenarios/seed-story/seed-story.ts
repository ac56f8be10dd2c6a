/**
 * The seed's story of TCP and UDP, told by a simulation between hosts `client` and `server`: chapter by
 * chapter, the three-way handshake, the sliding window, a timeout retransmission, fast retransmit, a zero
 * window, the four-way close with a lost final ACK, a forced close with RST, and a UDP exchange.
 *
 * Pure and browser-safe: it returns the chapters (with their spans of virtual time) and the network, from
 * which a caller draws ladders, writes the capture and renders the report.
 */
import type { ChapterScript } from './chapter-script.js';
import { fastRetransmitChapter } from './chapters/fast-retransmit.js';
import { fourWayCloseChapter } from './chapters/four-way-close.js';
import { handshakeChapter } from './chapters/handshake.js';
import { resetChapter } from './chapters/reset.js';
import { slidingWindowChapter } from './chapters/sliding-window.js';
import { timeoutRetransmissionChapter } from './chapters/timeout-retransmission.js';
import { udpChapter } from './chapters/udp.js';
import { zeroWindowChapter } from './chapters/zero-window.js';
import { type StoryChapter, type StoryOptions, StoryStage } from './story-stage.js';

export const SEED_STORY_CHAPTERS: readonly ChapterScript[] = [
  handshakeChapter,
  slidingWindowChapter,
  timeoutRetransmissionChapter,
  fastRetransmitChapter,
  zeroWindowChapter,
  fourWayCloseChapter,
  resetChapter,
  udpChapter,
];

/** Chapters start on multiples of this (ms), so the times in the pictures read easily. */
const CHAPTER_GRID = 100;

export interface SeedStory {
  readonly stage: StoryStage;
  readonly chapters: readonly StoryChapter[];
  /** The settings the story ran with (defaults filled in). */
  readonly settings: Required<StoryOptions>;
}

/** `watch` is handed the stage before the first chapter plays (to set `onInstant`, say). */
export function runSeedStory(options: StoryOptions = {}, watch?: (stage: StoryStage) => void): SeedStory {
  const settings: Required<StoryOptions> = { seed: options.seed ?? 1 };
  const stage = new StoryStage(settings);
  watch?.(stage);
  const chapters: StoryChapter[] = [];
  SEED_STORY_CHAPTERS.forEach((script, i) => {
    const from = stage.now();
    const narration = script.play(stage);
    // Let what the chapter started settle a moment, then begin the next one on the grid.
    const to = Math.ceil((stage.now() + 1) / CHAPTER_GRID) * CHAPTER_GRID;
    stage.until(to);
    chapters.push({
      number: i + 1,
      title: script.title,
      summary: narration.summary,
      explanation: narration.explanation,
      from,
      to,
      absolute: narration.absolute ?? false,
      ...(narration.protocols ? { protocols: narration.protocols } : {}),
    });
  });
  return { stage, chapters, settings };
}
