import { defineConfig } from 'vitest/config';

// `npm run flood`: the flood suite at full scale (minutes); `npm test` runs it scaled down.
export default defineConfig({
  test: {
    include: ['test/flood/**/*.flood.ts'],
    testTimeout: 7_200_000,
    // 100k connections at both ends (and, for the heap comparison, as many idle ones measured first)
    // outgrew Node's default heap of about 4 GB in the first full run.
    execArgv: ['--max-old-space-size=12288'],
    reporters: ['default'],
  },
});
