/**
 * A chapter of the seed's story: a title, and a script that plays it on the shared stage and says what
 * the reader should take from it.
 */
import type { ChapterNarration, StoryStage } from './story-stage.js';

export interface ChapterScript {
  readonly title: string;
  /** Plays the chapter (advancing virtual time) and returns its narration. */
  play(stage: StoryStage): ChapterNarration;
}
