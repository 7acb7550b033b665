/**
 * Vite builds the web pages in web/ (landing page, e2e test pages, dashboard; playground
 * later) into web-dist/. The pages import "tessera", which here means the browser build of this
 * very package, dist/index.browser.js (run `tsc -p tsconfig.build.json` first). Its LocalCluster
 * spawns module Web Workers with a literal `new Worker(new URL(...), { type: "module" })`, which
 * Vite bundles as a separate ES chunk. The COOP/COEP headers make the pages cross-origin
 * isolated, so SharedArrayBuffer (and shared WebAssembly.Memory) is available.
 */

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** The headers that make a page cross-origin isolated (`crossOriginIsolated === true`). */
export const isolationHeaders = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/** One entry per page: add the playground here when it appears. */
const pages = {
  index: here("./web/index.html"),
  e2e: here("./web/e2e/index.html"),
  array: here("./web/array/index.html"),
  dataframe: here("./web/dataframe/index.html"),
  dashboard: here("./web/dashboard/index.html"),
};

export default defineConfig({
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
