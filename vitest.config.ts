import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests spawn real ptys, git and Claude Code; two cores on CI.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
