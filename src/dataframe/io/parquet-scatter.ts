/**
 * Snappy literals read from the file straight into the column (one readv per run of them), for
 * the JS decoder of parquet-snappy.ts when its page comes from a local file.
 *
 * Why: a page of incompressible values (random floats) is one literal per 64 KiB block, as
 * snappy's compressor writes them. Read into the window and then copied into the column, every
 * byte is written twice; read with a scatter list whose entries alternate a few bytes of scratch
 * (the next element's header) and the column's next 64 KiB, the kernel writes the values where
 * they go, and the headers land in the scratch to be checked. The list is a guess at the layout
 * (each next element a literal as long as the one before it): the elements whose headers say
 * exactly what was guessed are taken, and the decoder goes on from the first that does not, as
 * usual, from its header (the output bytes past the accepted ones, written by the guess, are
 * written again by the decoder, which never reads output past its position).
 */

/** Reads stream bytes [pos, pos + sum of lengths) into `into`'s buffers, in order. */
export type Scatter = (pos: number, into: Uint8Array[]) => void;

/** Literals shorter than this go through the window (a syscall costs more than a copy). */
export const SCATTER_MIN = 16 * 1024;
/** Bytes guessed per readv: a wrong guess reads at most this much for nothing. */
const ROUND_BYTES = 2 * 1024 * 1024;
/** Buffers per readv (Linux's IOV_MAX is 1024). */
const MAX_BUFFERS = 512;
/** Element headers of one round: at most 5 bytes each. */
const scratch = new Uint8Array(5 * MAX_BUFFERS);
const expected = new Uint8Array(5);

/** The header of a literal of `len` bytes, as snappy writes it (the shortest form), into `to`; its length. */
function literalHeader(len: number, to: Uint8Array): number {
  const v = len - 1;
  if (v < 60) {
    to[0] = v << 2;
    return 1;
  }
  const bytes = v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 4;
  to[0] = (59 + bytes) << 2;
  for (let k = 0; k < bytes; k++) to[1 + k] = Math.floor(v / 2 ** (8 * k)) & 0xff;
  return 1 + bytes;
}

/**
 * The last `rest` bytes of a literal, which start at stream byte `pos`, into out[o, o + rest);
 * then, guessed, literals of `guess` bytes (the last one shorter, to the end of `out`) while the
 * stream (`n` bytes) has room for them. Returns the stream position and output index after the
 * elements taken: the literal's rest always, then the guessed elements up to the first whose
 * header differs from the guess.
 */
export function scatterLiterals(scatter: Scatter, pos: number, n: number, out: Uint8Array, o: number, rest: number, guess: number): { pos: number; o: number } {
  // The first readv also takes the literal's rest.
  let first: Uint8Array | null = out.subarray(o, o + rest);
  let sp = pos + rest;
  let so = o + rest;
  for (;;) {
    const into: Uint8Array[] = first ? [first] : [];
    const lens: number[] = [];
    const start = pos;
    let s = 0;
    const round = so;
    while (into.length < MAX_BUFFERS && so - round < ROUND_BYTES) {
      const len = Math.min(guess, out.length - so);
      if (len <= 0) break;
      const hb = literalHeader(len, expected);
      if (sp + hb + len > n) break;
      into.push(scratch.subarray(s, s + hb), out.subarray(so, so + len));
      lens.push(len);
      s += hb;
      sp += hb + len;
      so += len;
    }
    if (into.length > 0) scatter(start, into);
    if (first) {
      pos += rest;
      o += rest;
      first = null;
    }
    let at = 0;
    for (const len of lens) {
      const hb = literalHeader(len, expected);
      for (let k = 0; k < hb; k++) if (scratch[at + k] !== expected[k]) return { pos, o };
      at += hb;
      pos += hb + len;
      o += len;
    }
    if (lens.length === 0) return { pos, o };
  }
}
