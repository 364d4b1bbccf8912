import { defineConfig } from 'vitest/config';

// Tests start real servers (ua-platform, s3rver, azurite) on random loopback ports and spawn the
// built CLIs, so they run in forked processes with generous timeouts; 2 cores is the budget.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A developer's HTTP_PROXY must not send the tests' loopback traffic through their proxy.
    setupFiles: ['test/helpers/no-proxy-env.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
