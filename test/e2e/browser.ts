/**
 * Launches headless Chromium for e2e tests through playwright-core: the system Chromium
 * (/usr/bin/chromium, as CI installs it) when present, else a browser Playwright installed
 * itself. Each session gets a fresh temporary profile, removed on close, and records console
 * errors, uncaught page errors and failed requests so tests can assert there were none.
 */

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** The Chromium to drive: $TESSERA_CHROMIUM, a system install, or Playwright's own; else undefined. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.TESSERA_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const system = CANDIDATES.find((p) => existsSync(p));
  if (system) return system;
  try {
    const own = chromium.executablePath();
    return own && existsSync(own) ? own : undefined;
  } catch {
    return undefined;
  }
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  executablePath: string;
  /** Console errors (page and workers), uncaught errors and failed requests, in order. */
  errors: string[];
  close(): Promise<void>;
}

const where = (m: ConsoleMessage): string => {
  const { url, lineNumber } = m.location();
  return url ? ` (${url}:${lineNumber})` : "";
};

/** Start Chromium with a fresh profile and one page; fails with a clear message if none is found. */
export async function launchChromium(options: { args?: string[] } = {}): Promise<BrowserSession> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      "e2e: no Chromium found. Install one (Debian: apt-get install -y chromium, as .ci/run does) " +
        "or point TESSERA_CHROMIUM at a Chromium/Chrome binary.",
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "tessera-e2e-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      viewport: { width: 1100, height: 700 },
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`e2e: could not launch ${executablePath}: ${(err as Error).message}`, { cause: err });
  }
  const errors: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  // The page's "console" and "pageerror" events also carry its dedicated workers' messages and
  // uncaught errors (checked with playwright-core 1.65), so no per-worker listeners.
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}${where(m)}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.name}: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? "?"})`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  return {
    context,
    page,
    executablePath,
    errors,
    async close() {
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}
