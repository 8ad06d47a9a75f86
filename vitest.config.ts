import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One file at a time: the service tests assert e-stop and fault timings on a 2-core machine,
    // and GT7 tests bind the console's fixed port 33740 (one of them on 0.0.0.0).
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
