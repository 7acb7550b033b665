/**
 * Parquet dictionary-encoded data pages decoded in one pass: the indices (the RLE / bit-packing
 * hybrid of the spec) are read and looked up in the column chunk's dictionary as they are
 * decoded, so no array of indices is written and read back. The Parquet reader copies the page
 * and the dictionary (as the column stores it: values, or string codes) into wasm memory, calls
 * dictDecode, and copies the values into its column (src/dataframe/io/parquet-dict.ts).
 *
 *   run := varint header, then
 *     header & 1 == 0: an RLE run of (header >> 1) copies of one index (ceil(width / 8) bytes, LE)
 *     header & 1 == 1: (header >> 1) groups of 8 indices, bit-packed LSB first, width bits each
 *
 * Runs are clipped to the n values asked for and every byte read is checked against the end of
 * the data. The result is 0 or a negative code; the host then decodes the page in JS, which
 * names what is wrong: -1 a run header cut off or longer than 5 bytes, -2 an RLE run's index cut
 * off, -3 a bit-packed run cut off, -4 an index not below tableSize, -5 a bit width above 32,
 * -6 the data ends before n values.
 */

/**
 * n values out[i] = table[index i] (elem = 4 or 8 bytes each) from the indices at src[0, srcLen),
 * `width` bits each.
 */
export function dictDecode(src: usize, srcLen: i32, width: i32, n: i32, table: usize, tableSize: i32, elem: i32, dst: usize): i32 {
  if (width < 0 || width > 32) return -5;
  const end = src + <usize>srcLen;
  const byteWidth = <usize>((width + 7) >> 3);
  const mask: u64 = (<u64>1 << <u64>width) - 1;
  const size = <u32>tableSize;
  const w = <u64>width;
  let pos = src;
  let i: i32 = 0;
  while (i < n) {
    if (pos >= end) return -6;
    let header: u64 = 0;
    let shift: u64 = 0;
    while (true) {
      if (pos >= end) return -1;
      const b = <u64>load<u8>(pos++);
      header |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 28) return -1;
    }
    const count = header >> 1;
    const left = <u64>(n - i);
    const values = (header & 1) == 0 ? count : count << 3;
    const take = <i32>(values < left ? values : left);
    if ((header & 1) == 0) {
      if (byteWidth > end - pos) return -2;
      let index: u32 = 0;
      for (let k: usize = 0; k < byteWidth; k++) index |= <u32>load<u8>(pos + k) << (<u32>k << 3);
      pos += byteWidth;
      if (take > 0 && index >= size) return -4;
      if (elem == 8) {
        const v = load<u64>(table + (<usize>index << 3));
        const out = dst + (<usize>i << 3);
        for (let k = 0; k < take; k++) store<u64>(out + (<usize>k << 3), v);
      } else {
        const v = load<u32>(table + (<usize>index << 2));
        const out = dst + (<usize>i << 2);
        for (let k = 0; k < take; k++) store<u32>(out + (<usize>k << 2), v);
      }
      i += take;
    } else {
      const need = (<u64>take * w + 7) >> 3;
      if (need > <u64>(end - pos)) return -3;
      // Each index from the 8 bytes that hold it (bit offset <= 7, + width <= 39 bits), while
      // those 8 bytes are inside the data; the last few byte by byte.
      // Whole groups of 8 first (most of a run), unrolled; the loops below finish it.
      let k = elem == 8 ? groups<u64>(pos, end, take, width, mask, size, table, dst + (<usize>i << 3)) : groups<u32>(pos, end, take, width, mask, size, table, dst + (<usize>i << 2));
      if (k < 0) return -4;
      let bit: u64 = <u64>k * w;
      const fast = end - pos >= 8 ? <u64>(end - pos - 8) << 3 : 0;
      const canFast = end - pos >= 8;
      if (elem == 8) {
        const out = dst + (<usize>i << 3);
        for (; canFast && k < take && bit <= fast; k++) {
          const index = <u32>((load<u64>(pos + <usize>(bit >> 3)) >> (bit & 7)) & mask);
          if (index >= size) return -4;
          store<u64>(out + (<usize>k << 3), load<u64>(table + (<usize>index << 3)));
          bit += w;
        }
        for (; k < take; k++) {
          const index = tailIndex(pos, end, bit, mask);
          if (index >= size) return -4;
          store<u64>(out + (<usize>k << 3), load<u64>(table + (<usize>index << 3)));
          bit += w;
        }
      } else {
        const out = dst + (<usize>i << 2);
        for (; canFast && k < take && bit <= fast; k++) {
          const index = <u32>((load<u64>(pos + <usize>(bit >> 3)) >> (bit & 7)) & mask);
          if (index >= size) return -4;
          store<u32>(out + (<usize>k << 2), load<u32>(table + (<usize>index << 2)));
          bit += w;
        }
        for (; k < take; k++) {
          const index = tailIndex(pos, end, bit, mask);
          if (index >= size) return -4;
          store<u32>(out + (<usize>k << 2), load<u32>(table + (<usize>index << 2)));
          bit += w;
        }
      }
      i += take;
      const skip = count * w;
      pos = skip >= <u64>(end - pos) ? end : pos + <usize>skip;
    }
  }
  return 0;
}

/** The index at `bit` of the bit-packed run at `pos`, reading no byte at or past `end`. */
function tailIndex(pos: usize, end: usize, bit: u64, mask: u64): u32 {
  const p = pos + <usize>(bit >> 3);
  let word: u64 = 0;
  for (let b: usize = 0; b < 8 && p + b < end; b++) word |= <u64>load<u8>(p + b) << (<u64>b << 3);
  return <u32>((word >> (bit & 7)) & mask);
}

/**
 * The first values of a bit-packed run, 8 at a time: a group of 8 starts on a byte (8 * width
 * bits), and value j of it is in the 8 bytes from byte (j * width) >> 3 of the group. Stops
 * before a group whose last 8 bytes would reach `end`. Returns how many values it wrote (a
 * multiple of 8, at most take), or -1 for an index not below `size`.
 */
function groups<T>(pos: usize, end: usize, take: i32, width: i32, mask: u64, size: u32, table: usize, out: usize): i32 {
  const w = <usize>width;
  const b1 = w >> 3, b2 = (w * 2) >> 3, b3 = (w * 3) >> 3, b4 = (w * 4) >> 3, b5 = (w * 5) >> 3, b6 = (w * 6) >> 3, b7 = (w * 7) >> 3;
  const s1 = <u64>(w & 7), s2 = <u64>((w * 2) & 7), s3 = <u64>((w * 3) & 7), s4 = <u64>((w * 4) & 7), s5 = <u64>((w * 5) & 7), s6 = <u64>((w * 6) & 7), s7 = <u64>((w * 7) & 7);
  const shift = alignof<T>();
  let k = 0;
  let g = pos;
  for (; k + 8 <= take && g + b7 + 8 <= end; k += 8) {
    const i0 = <u32>(load<u64>(g) & mask);
    const i1 = <u32>((load<u64>(g + b1) >> s1) & mask);
    const i2 = <u32>((load<u64>(g + b2) >> s2) & mask);
    const i3 = <u32>((load<u64>(g + b3) >> s3) & mask);
    const i4 = <u32>((load<u64>(g + b4) >> s4) & mask);
    const i5 = <u32>((load<u64>(g + b5) >> s5) & mask);
    const i6 = <u32>((load<u64>(g + b6) >> s6) & mask);
    const i7 = <u32>((load<u64>(g + b7) >> s7) & mask);
    if ((<i32>(i0 >= size) | <i32>(i1 >= size) | <i32>(i2 >= size) | <i32>(i3 >= size) | <i32>(i4 >= size) | <i32>(i5 >= size) | <i32>(i6 >= size) | <i32>(i7 >= size)) != 0) return -1;
    const o = out + (<usize>k << shift);
    store<T>(o, load<T>(table + (<usize>i0 << shift)));
    store<T>(o, load<T>(table + (<usize>i1 << shift)), sizeof<T>());
    store<T>(o, load<T>(table + (<usize>i2 << shift)), 2 * sizeof<T>());
    store<T>(o, load<T>(table + (<usize>i3 << shift)), 3 * sizeof<T>());
    store<T>(o, load<T>(table + (<usize>i4 << shift)), 4 * sizeof<T>());
    store<T>(o, load<T>(table + (<usize>i5 << shift)), 5 * sizeof<T>());
    store<T>(o, load<T>(table + (<usize>i6 << shift)), 6 * sizeof<T>());
    store<T>(o, load<T>(table + (<usize>i7 << shift)), 7 * sizeof<T>());
    g += w;
  }
  return k;
}
