/**
 * Spilling in a browser: the Origin Private File System, from inside the worker. Reads and
 * writes must be synchronous (a task reads its inputs synchronously), which OPFS allows only
 * through a FileSystemSyncAccessHandle, and opening one is async: so each worker opens one
 * handle on one file, `tessera-spill/<name>`, when it starts, and cuts it into regions
 * (RegionFile). The handle locks the file; the worker removes it on close, and the cluster
 * removes it when the worker dies (the lock goes with the worker).
 */

import { RegionFile, type SyncHandle } from "./spill-disk.js";

export const OPFS_DIR = "tessera-spill";

interface OpfsFileHandle {
  createSyncAccessHandle(): Promise<SyncHandle>;
}
interface OpfsDirectory {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string): Promise<void>;
}

async function spillDirectory(create: boolean): Promise<OpfsDirectory> {
  const storage = (globalThis.navigator as unknown as { storage?: { getDirectory?: () => Promise<OpfsDirectory> } } | undefined)?.storage;
  if (typeof storage?.getDirectory !== "function") {
    throw new Error("this browser has no Origin Private File System (navigator.storage.getDirectory)");
  }
  const root = await storage.getDirectory();
  return root.getDirectoryHandle(OPFS_DIR, { create });
}

/** Open this worker's spill file (inside a worker: sync access handles exist only there). */
export async function openOpfsDisk(name: string): Promise<RegionFile> {
  const dir = await spillDirectory(true);
  const file = await dir.getFileHandle(name, { create: true });
  if (typeof (file as Partial<OpfsFileHandle>).createSyncAccessHandle !== "function") {
    throw new Error("OPFS sync access handles are not available here (they exist only inside a dedicated worker)");
  }
  const handle = await file.createSyncAccessHandle();
  // The worker is about to go: the file goes too (after the handle's lock is released).
  return new RegionFile(handle, `OPFS ${OPFS_DIR}/${name}`, () => void dir.removeEntry(name).catch(() => {}));
}

/**
 * Remove a worker's spill file (from any thread, once its worker is gone). Never throws. A
 * terminated worker's lock on the file may outlive it briefly: try a few times.
 */
export async function removeOpfsSpill(name: string, tries = 3): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const dir = await spillDirectory(false);
      await dir.removeEntry(name);
      return;
    } catch (err) {
      const why = (err as { name?: string }).name;
      // Never made, or already removed by the worker: nothing to do.
      if (why === "NotFoundError" || why === "TypeError" || why === "SecurityError" || !(err instanceof DOMException)) return;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }
}
