import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    // Guest-running tests are CPU-heavy; CI machines have two cores.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // In CI a skipped test fails the run (tests/ci_no_skips.ts says why).
    reporters: process.env.CI ? ['default', './tests/ci_no_skips.ts'] : ['default'],
  },
});
