/**
 * Snappy (raw block format, as Parquet pages use it) decoded in wasm memory: src[0, srcLen) into
 * dst[0, dstLen). The Parquet reader copies a compressed page in, decodes, and copies the values
 * out of dst into its column (src/dataframe/io/parquet-snappy.ts).
 *
 * Pages of floats compress into millions of short elements (literals of a few bytes, copies of
 * 4 to 8): the cost is per element, so short literals and copies move 16 bytes with one v128
 * load and store when there is room ("wild" copies: the bytes past the element are rewritten by
 * the elements after it), and 8 bytes when a copy's source is 8 to 15 bytes back. Longer ones
 * use memory.copy; overlapping copies (a run) go byte by byte.
 *
 * Every length is checked against both ends before anything is read or written: the result is
 * 0, or a negative code (the host names it): -1 cut-off length header, -2 header too long,
 * -3 length differs from dstLen, -4 cut-off literal length, -5 literal past the input, -6
 * literal past the output, -7 cut-off copy offset, -8 copy from before the output's start,
 * -9 copy past the output, -10 output not filled.
 */

export function snappyDecode(src: usize, srcLen: i32, dst: usize, dstLen: i32): i32 {
  let ip = src;
  const iend = src + <usize>srcLen;
  let declared: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (ip >= iend) return -1;
    const b = <u64>load<u8>(ip++);
    declared |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 28) return -2;
  }
  if (declared != <u64>dstLen) return -3;
  let op = dst;
  const oend = dst + <usize>dstLen;
  while (ip < iend) {
    const tag = <u32>load<u8>(ip++);
    const kind = tag & 3;
    if (kind == 0) {
      let len = <usize>(tag >> 2) + 1;
      if (len > 60) {
        const nb = len - 60;
        if (ip + nb > iend) return -4;
        len = 0;
        for (let k: usize = 0; k < nb; k++) len |= <usize>load<u8>(ip + k) << (k << 3);
        len += 1;
        ip += nb;
      }
      if (len > iend - ip) return -5;
      if (len > oend - op) return -6;
      if (len <= 16 && iend - ip >= 16 && oend - op >= 16) v128.store(op, v128.load(ip));
      else memory.copy(op, ip, len);
      ip += len;
      op += len;
      continue;
    }
    let len: usize;
    let off: usize;
    if (kind == 1) {
      if (ip >= iend) return -7;
      len = <usize>((tag >> 2) & 7) + 4;
      off = (<usize>(tag >> 5) << 8) | <usize>load<u8>(ip);
      ip += 1;
    } else if (kind == 2) {
      if (iend - ip < 2) return -7;
      len = <usize>(tag >> 2) + 1;
      off = <usize>load<u16>(ip);
      ip += 2;
    } else {
      if (iend - ip < 4) return -7;
      len = <usize>(tag >> 2) + 1;
      off = <usize>load<u32>(ip);
      ip += 4;
    }
    if (off == 0 || off > op - dst) return -8;
    if (len > oend - op) return -9;
    const from = op - off;
    if (off >= 16 && len <= 16 && oend - op >= 16) v128.store(op, v128.load(from));
    else if (off >= 8 && len <= 8 && oend - op >= 8) store<u64>(op, load<u64>(from));
    else if (off >= len) memory.copy(op, from, len);
    else for (let k: usize = 0; k < len; k++) store<u8>(op + k, load<u8>(from + k));
    op += len;
  }
  return op == oend ? 0 : -10;
}
