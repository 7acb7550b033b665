// Drives spill workers (worker.mjs) and looks at OPFS from the page, as the cluster does: a
// worker that closes removes its own file; a worker that is terminated (a crash) leaves it, and
// removeOpfsSpill clears it from here once the worker's lock is gone.
import { OPFS_DIR, removeOpfsSpill } from "./dist/worker/disk-opfs.js";

async function files() {
  const root = await navigator.storage.getDirectory();
  try {
    const dir = await root.getDirectoryHandle(OPFS_DIR);
    const out = [];
    for await (const name of dir.keys()) out.push(name);
    return out.sort();
  } catch {
    return [];
  }
}

/** OPFS files once `name` is gone from them, or after 2 s (removal is async). */
async function filesWithout(name) {
  for (let i = 0; i < 20; i++) {
    const f = await files();
    if (!f.includes(name)) return f;
    await new Promise((r) => setTimeout(r, 100));
  }
  return files();
}

function run(name, then) {
  const w = new Worker(new URL("./worker.mjs", import.meta.url), { type: "module" });
  return new Promise((resolve) => {
    w.onmessage = (ev) => resolve({ worker: w, result: ev.data });
    w.onerror = (ev) => resolve({ worker: w, result: { ok: false, error: `worker error: ${ev.message}` } });
    w.postMessage({ name, then });
  });
}

const report = {};
try {
  const a = await run("closing-worker", "close");
  report.closing = a.result;
  report.afterClose = await filesWithout("closing-worker");
  const b = await run("crashing-worker", "stay");
  report.crashing = b.result;
  report.whileAlive = await files();
  b.worker.terminate();
  await removeOpfsSpill("crashing-worker");
  report.afterCrash = await files();
} catch (err) {
  report.error = String(err?.stack ?? err);
}
window.__opfs = report;
