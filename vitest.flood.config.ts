import { defineConfig } from 'vitest/config';

// `npm run flood`: the flood suite at full scale (minutes); `npm test` runs it scaled down.
export default defineConfig({
  test: {
    include: ['test/flood/**/*.flood.ts'],
    testTimeout: 1_800_000,
    reporters: ['default'],
  },
});
