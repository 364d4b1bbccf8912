/**
 * The deflate implementations a part can be compressed with (`--compressor`), without loading them:
 * `libdeflate` is libdeflate built to WebAssembly (npm `libdeflate`), the default, ~1.7× zlib's speed
 * at level 6 for ~2% more bytes on FASTQ (bench/compressors.ts); `zlib` is node:zlib (Chromium's
 * zlib: not the classic agent's bytes, which are upstream zlib's, see upstream-zlib.ts). gzip.ts does
 * the work and falls back to node:zlib if libdeflate cannot load.
 */
export const COMPRESSORS = ['libdeflate', 'zlib'] as const;
export type Compressor = (typeof COMPRESSORS)[number];
