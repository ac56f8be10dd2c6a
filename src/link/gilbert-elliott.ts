import type { Random } from '../util/random.js';

/**
 * Bursty loss by the Gilbert-Elliott model: a two-state Markov chain stepped once per frame. In the good
 * state frames are rarely lost, in the bad state often, and the state persists, so losses cluster the way
 * they do on radio links and congested paths — unlike independent (Bernoulli) loss.
 *
 * With transition probabilities p (good to bad) and r (bad to good) the chain spends p/(p+r) of the frames
 * in the bad state and stays there for 1/r frames on average.
 */

export interface GilbertElliottParameters {
  /** Probability per frame of moving from the good to the bad state (p). */
  goodToBad: number;
  /** Probability per frame of moving from the bad to the good state (r). */
  badToGood: number;
  /** Loss probability in the good state (1-k in the literature). Default 0. */
  lossInGood?: number;
  /** Loss probability in the bad state (1-h in the literature). Default 1. */
  lossInBad?: number;
}

export type GilbertElliottState = 'good' | 'bad';

export class GilbertElliottChannel {
  private current: GilbertElliottState = 'good';

  constructor(public parameters: GilbertElliottParameters) {}

  get state(): GilbertElliottState {
    return this.current;
  }

  /** Moves the chain one frame on, then says whether that frame is lost in the state it is now in. */
  step(random: Random): boolean {
    const p = this.parameters;
    if (this.current === 'good') {
      if (random.chance(p.goodToBad)) this.current = 'bad';
    } else if (random.chance(p.badToGood)) {
      this.current = 'good';
    }
    return random.chance(this.current === 'bad' ? (p.lossInBad ?? 1) : (p.lossInGood ?? 0));
  }

  reset(): void {
    this.current = 'good';
  }
}

/** Long-run fraction of frames lost. */
export function gilbertElliottLossRate(p: GilbertElliottParameters): number {
  const total = p.goodToBad + p.badToGood;
  if (total === 0) return p.lossInGood ?? 0;
  const bad = p.goodToBad / total;
  return bad * (p.lossInBad ?? 1) + (1 - bad) * (p.lossInGood ?? 0);
}

/** Mean number of consecutive frames spent in the bad state (1/r); a loss burst when lossInBad is 1. */
export function gilbertElliottMeanBadRun(p: GilbertElliottParameters): number {
  return 1 / p.badToGood;
}
