import { defineConfig } from "vitest/config";

// Tests in tiers: test/graph and test/scheduler are pure (no workers); test/integration runs
// worker_threads against the built dist/; test/e2e drives a real Chromium with playwright-core.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
