import { defineConfig } from 'vitest/config';

// Three projects: `npx vitest run --project unit` for fast feedback; `npm test` runs them all.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails a test file that leaves a process running (an engine, an agent, a browser): see the file.
    setupFiles: ['test/setup/process-guard.ts'],
    // Tests spawn real ptys, git, Claude Code and Chromium; two cores on CI.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      {
        extends: true,
        // The browser is found (and, from the npm package, unpacked) once before any e2e file starts.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'] },
      },
    ],
  },
});
