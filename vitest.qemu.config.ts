import { defineConfig } from 'vitest/config';

// `npm run test:qemu`: the tests that boot a virtual machine (minutes under TCG), kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.qemu.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
