import { describe, expect, it } from 'vitest';
import {
  GilbertElliottChannel,
  gilbertElliottLossRate,
  gilbertElliottMeanBadRun,
} from '../../src/link/gilbert-elliott.js';
import { Random } from '../../src/util/random.js';

describe('Gilbert-Elliott channel', () => {
  it('computes the stationary loss rate and mean bad run', () => {
    expect(gilbertElliottLossRate({ goodToBad: 0.01, badToGood: 0.25 })).toBeCloseTo(0.01 / 0.26, 12);
    expect(
      gilbertElliottLossRate({ goodToBad: 0.1, badToGood: 0.1, lossInGood: 0.02, lossInBad: 0.5 }),
    ).toBeCloseTo(0.26, 12);
    expect(gilbertElliottLossRate({ goodToBad: 0, badToGood: 0, lossInGood: 0.3 })).toBe(0.3);
    expect(gilbertElliottMeanBadRun({ goodToBad: 0.01, badToGood: 0.25 })).toBe(4);
  });

  it('stays in each state for geometric runs matching 1/p and 1/r', () => {
    const channel = new GilbertElliottChannel({ goodToBad: 0.05, badToGood: 0.2 });
    const random = new Random('ge');
    const runs = { good: [] as number[], bad: [] as number[] };
    let state = channel.state;
    let run = 0;
    let lostInGood = 0;
    let lostInBad = 0;
    for (let i = 0; i < 200_000; i++) {
      const lost = channel.step(random);
      if (channel.state !== state) {
        runs[state].push(run);
        state = channel.state;
        run = 0;
      }
      run++;
      if (lost && state === 'good') lostInGood++;
      if (lost && state === 'bad') lostInBad++;
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(runs.good)).toBeGreaterThan(19);
    expect(mean(runs.good)).toBeLessThan(21);
    expect(mean(runs.bad)).toBeGreaterThan(4.8);
    expect(mean(runs.bad)).toBeLessThan(5.2);
    // Defaults: no loss when good, every frame lost when bad.
    expect(lostInGood).toBe(0);
    expect(lostInBad).toBeGreaterThan(0);
    channel.reset();
    expect(channel.state).toBe('good');
  });
});
