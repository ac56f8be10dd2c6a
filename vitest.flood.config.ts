import { defineConfig } from 'vitest/config';

// `npm run flood`: the flood suite at full scale (minutes); `npm test` runs it scaled down.
export default defineConfig({
  test: {
    include: ['test/flood/**/*.flood.ts'],
    testTimeout: 1_800_000,
    // 100k connections (two runs of both ends, for the heap comparison) need more than Node's default
    // heap of about 4 GB.
    execArgv: ['--max-old-space-size=12288'],
    reporters: ['default'],
  },
});
