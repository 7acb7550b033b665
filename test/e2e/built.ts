// The e2e tests drive pages from web-dist/: fail early, and clearly, when a page was never built
// or was built from older sources than dist/, web/ or vite.config.ts.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function newestFile(dir: string, keep: (name: string) => boolean): { path: string; mtimeMs: number } | undefined {
  let best: { path: string; mtimeMs: number } | undefined;
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !keep(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (!best || mtimeMs > best.mtimeMs) best = { path, mtimeMs };
  }
  return best;
}

/** Throw unless `page` (in web-dist/) is newer than its sources in `webDir` and dist/. */
export function assertBuilt(page: string, webDir: string): void {
  const rebuild = "Run `npm run build` (wasm, tsc, vite build) first; `npm test` does it.";
  if (!existsSync(page)) throw new Error(`e2e: ${page} is missing. ${rebuild}`);
  const built = statSync(page).mtimeMs;
  const sources = [
    newestFile(webDir, () => true),
    newestFile(join(ROOT, "dist"), (n) => n.endsWith(".js")),
    { path: join(ROOT, "vite.config.ts"), mtimeMs: statSync(join(ROOT, "vite.config.ts")).mtimeMs },
  ];
  for (const s of sources) {
    if (s && s.mtimeMs > built) throw new Error(`e2e: web-dist/ is older than ${s.path}. ${rebuild}`);
  }
}
