import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The contract tests' agent CLIs (D10), installed once into a cache folder outside the checkout.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real processes; two cores in CI.
    pool: "forks",
  },
});
