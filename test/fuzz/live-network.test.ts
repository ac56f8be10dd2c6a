import { describe, expect, it } from 'vitest';
import { runLiveFuzz } from './live-network.js';

describe('fuzz campaign on a live two-stack network (npm run fuzz -- --frames N for a long run)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 4,000 mutated frames during four transfers; nothing escapes, every flow byte-exact`, () => {
      const r = runLiveFuzz(seed, 4000);
      expect(r.escaped).toEqual([]);
      expect(r.internalErrors).toBe(0);
      expect(r.framesInjected).toBe(4000);
      expect(r.flowsExact).toBe(r.flows);
    });
  }
});
