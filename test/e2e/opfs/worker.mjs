// A spill store on OPFS inside a dedicated worker (the only place sync access handles exist):
// 8 values of 2 MiB against a 10 MiB limit, so most go to the file and come back, byte for byte.
import { openOpfsDisk } from "./dist/worker/disk-opfs.js";
import { SpillStore } from "./dist/worker/spill-store.js";
import { sizeOf } from "./dist/worker/store.js";

const MiB = 2 ** 20;

/** 2 MiB of float32 with NaN payloads and a frame-like partition with dictionary strings and nulls. */
function value(i) {
  const bits = new Uint32Array(MiB / 4).map((_, j) => (j % 3 === 0 ? 0x7fc00000 + i + j : 0x3f800000 + i * 977 + j));
  const codes = new Int32Array(MiB / 4).map((_, j) => (i + j) % 3);
  const valid = new Uint8Array(MiB / 4).map((_, j) => ((i + j) % 5 === 0 ? 0 : 1));
  return {
    block: { dtype: "float32", shape: [MiB / 4], data: new Float32Array(bits.buffer) },
    frame: { length: MiB / 4, names: ["s"], columns: [{ type: "string", data: codes, dictionary: ["a", "é", "\ud800"], valid }] },
  };
}

function bytes(v) {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function same(a, b) {
  const x = bytes(a);
  const y = bytes(b);
  if (x.length !== y.length || a.constructor !== b.constructor) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

onmessage = async (ev) => {
  const { name, then } = ev.data;
  try {
    const warnings = [];
    const disk = await openOpfsDisk(name);
    const store = new SpillStore({ worker: name, limit: 10 * MiB, disk, warn: (m) => warnings.push(m) });
    for (let i = 0; i < 8; i++) {
      const v = value(i);
      store.put(`k${i}`, v, sizeOf(v));
    }
    const spilledAfterPut = [...store.keys()].filter((k) => store.isSpilled(k));
    const maxManaged = store.nbytes;
    let identical = true;
    for (let i = 0; i < 8; i++) {
      const want = value(i);
      const got = store.get(`k${i}`);
      identical &&= same(want.block.data, got.block.data);
      const c = got.frame.columns[0];
      identical &&= same(want.frame.columns[0].data, c.data) && same(want.frame.columns[0].valid, c.valid);
      identical &&= c.dictionary.join("|") === "a|é|\ud800";
    }
    const metrics = store.memory();
    if (then === "close") store.close();
    postMessage({ ok: true, spilledAfterPut, maxManaged, identical, metrics, warnings });
  } catch (err) {
    postMessage({ ok: false, error: String(err?.stack ?? err) });
  }
};
