/**
 * Vite builds the web pages in web/ (landing page, e2e test pages, dashboard, playground) into
 * web-dist/, then (reportBundle below) the dashboard once more as a single classic script,
 * web-dist/dashboard-report/report.js and .css, which performanceReport() inlines into a
 * standalone HTML file: module chunks cannot load from file://, one inlined script can. The pages import "tessera", which here means the browser build of this
 * very package, dist/index.browser.js (run `tsc -p tsconfig.build.json` first). Its LocalCluster
 * spawns module Web Workers with a literal `new Worker(new URL(...), { type: "module" })`, which
 * Vite bundles as a separate ES chunk. The COOP/COEP headers make the pages cross-origin
 * isolated, so SharedArrayBuffer (and shared WebAssembly.Memory) is available.
 */

import { fileURLToPath } from "node:url";
import { build, defineConfig, type Plugin } from "vite";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** The headers that make a page cross-origin isolated (`crossOriginIsolated === true`). */
export const isolationHeaders = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/** One entry per page. */
const pages = {
  index: here("./web/index.html"),
  e2e: here("./web/e2e/index.html"),
  // Under e2e/, so the npm package leaves it out with the other test pages.
  e2eNn: here("./web/e2e/nn/index.html"),
  array: here("./web/array/index.html"),
  dataframe: here("./web/dataframe/index.html"),
  dashboard: here("./web/dashboard/index.html"),
  playground: here("./web/playground/index.html"),
};

/** After the pages: the performance report's script, one IIFE with nothing to import. */
function reportBundle(): Plugin {
  return {
    name: "tessera-report-bundle",
    apply: "build",
    async closeBundle() {
      await build({
        configFile: false,
        root: here("./web"),
        logLevel: "warn",
        publicDir: false,
        build: {
          outDir: here("./web-dist/dashboard-report"),
          emptyOutDir: true,
          target: "es2022",
          lib: { entry: here("./web/dashboard/report.ts"), formats: ["iife"], name: "tesseraReport", fileName: () => "report.js", cssFileName: "report" },
        },
      });
    },
  };
}

export default defineConfig({
  plugins: [reportBundle()],
  root: here("./web"),
  // Relative asset URLs, so web-dist/ can be served from any path.
  base: "./",
  publicDir: false,
  // No alias for "tessera": a page's `import ... from "tessera"` is a self-reference to this
  // package, which Vite resolves through package.json "exports" with its client conditions (they
  // include "browser", listed there before "node"): dist/index.browser.js, as in a user's app.
  worker: {
    // Module workers (the pool creates them with { type: "module" }) need ES-format chunks.
    format: "es",
  },
  build: {
    outDir: here("./web-dist"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    rolldownOptions: { input: pages },
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
