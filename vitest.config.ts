import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{engine,config,connectors,simulator,cli}/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
