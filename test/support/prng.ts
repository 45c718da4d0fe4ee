export { mulberry32 } from '../../src/runtime/prng.js';

/** Size of record `i` in the seeded sequences: 99% in 0..64, 1% anywhere up to `max`. */
export function recordSize(rng: () => number, max: number): number {
  return rng() < 0.99 ? Math.floor(rng() * 65) % (max + 1) : Math.floor(rng() * (max + 1));
}

/** Size uniform in 0..max. */
export function uniformSize(rng: () => number, max: number): number {
  return Math.floor(rng() * (max + 1));
}

/** How a seeded sequence picks its record sizes. */
export type SizeMix = 'mostly-small' | 'uniform';

/** The size picker for a {@link SizeMix}. */
export function sizePicker(mix: SizeMix): (rng: () => number, max: number) => number {
  return mix === 'uniform' ? uniformSize : recordSize;
}

// Byte i of record seq is (seq * 31 + i * 7) & 0xff = PATTERN[i + o] with PATTERN[k] = (k * 7) & 0xff
// and o = (seq * 31 * 183) & 0xff (183 is 7⁻¹ mod 256), so long records are filled and checked
// with native copies and compares instead of a loop per byte.
let pattern = new Uint8Array(0);
const NATIVE_FROM = 64;

function patternFor(len: number): Uint8Array {
  if (pattern.length < len + 256) {
    pattern = new Uint8Array(Math.max(len + 256, pattern.length * 2, 1024));
    for (let k = 0; k < pattern.length; k++) pattern[k] = (k * 7) & 0xff;
  }
  return pattern;
}

function patternOffset(seq: number): number {
  return (((seq * 31) & 0xff) * 183) & 0xff;
}

/** Fills `buf[0..len)` with bytes derived from the record's sequence number. */
export function fillRecord(buf: Uint8Array, seq: number, len: number): void {
  if (len >= NATIVE_FROM) {
    const o = patternOffset(seq);
    buf.set(patternFor(len).subarray(o, o + len));
    return;
  }
  for (let i = 0; i < len; i++) buf[i] = (seq * 31 + i * 7) & 0xff;
}

/** Index of the first wrong byte of record `seq`, or -1. */
export function checkRecord(buf: Uint8Array, seq: number, len: number): number {
  if (len >= NATIVE_FROM) {
    const o = patternOffset(seq);
    if (Buffer.compare(buf.subarray(0, len), patternFor(len).subarray(o, o + len)) === 0) return -1;
  }
  for (let i = 0; i < len; i++) if (buf[i] !== ((seq * 31 + i * 7) & 0xff)) return i;
  return -1;
}
