/**
 * A plain TypeScript LZ4 *block* decoder that writes into a shared output buffer. It is the
 * fallback for frames lz4-wasm cannot handle: linked blocks (a match may reach back into earlier
 * blocks, which lz4-wasm's block API cannot see) and blocks whose decoded size is unknown.
 */

/**
 * Decodes one LZ4 block from `src` into `dst` starting at `dst_pos`; earlier bytes of `dst` act
 * as the dictionary. Returns the new write position. Throws when the block is malformed or the
 * output would exceed `dst.length`.
 */
export function decodeBlockInto(src: Uint8Array, dst: Uint8Array, dst_pos: number): number {
  let s = 0;
  let d = dst_pos;
  const s_end = src.length;
  while (s < s_end) {
    const token = src[s++];
    let literal_length = token >>> 4;
    if (literal_length === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= s_end) throw new Error("block literal length runs past its end");
        b = src[s++];
        literal_length += b;
      }
    }
    if (s + literal_length > s_end) throw new Error("block literals run past its end");
    if (d + literal_length > dst.length) throw new Error("block decodes past the output bound");
    dst.set(src.subarray(s, s + literal_length), d);
    s += literal_length;
    d += literal_length;
    if (s === s_end) break; // The last sequence has literals only.
    if (s + 2 > s_end) throw new Error("block match offset is cut off");
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0 || offset > d) throw new Error("block match offset is out of range");
    let match_length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= s_end) throw new Error("block match length runs past its end");
        b = src[s++];
        match_length += b;
      }
    }
    if (d + match_length > dst.length) throw new Error("block decodes past the output bound");
    let m = d - offset;
    if (offset >= match_length) {
      dst.copyWithin(d, m, m + match_length);
      d += match_length;
    } else {
      // Overlapping copy repeats a short pattern: byte by byte is the defined meaning.
      const end = d + match_length;
      while (d < end) dst[d++] = dst[m++];
    }
  }
  return d;
}
