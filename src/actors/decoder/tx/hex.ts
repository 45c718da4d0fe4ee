/**
 * Byte ↔ hex conversions for the decoder. Output strings are lowercase 0x-hex built from a
 * 256-entry table (no `toString(16)` and no padding per byte); input is parsed with a char-code
 * table that marks non-hex characters, so one pass both converts and validates.
 */

/** `'00'`…`'ff'` for every byte value. */
const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Char code → nibble value, or -1 when the character is not a hex digit (either case). */
const NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

/** Lowercase `0x`-hex of `b[start, end)`; `'0x'` for an empty range. */
export function toHex(b: Uint8Array, start = 0, end = b.length): string {
  let s = '0x';
  for (let i = start; i < end; i++) s += BYTE_HEX[b[i]!]!;
  return s;
}

/** Offset of the first digit: 2 after a `0x`/`0X` prefix, else 0. */
export function hexStart(hex: string): number {
  return hex.length >= 2 && hex.charCodeAt(0) === 48 && (hex.charCodeAt(1) | 0x20) === 120 ? 2 : 0;
}

/** Value of the hex digit at `hex[i]`, or -1 when it is not one. */
export function nibbleAt(hex: string, i: number): number {
  const c = hex.charCodeAt(i);
  return c < 256 ? NIBBLE[c]! : -1;
}

/**
 * Parses the digits of `hex[from..]` (an even count) into `out` at `at`. Returns false, having
 * written an unspecified prefix, when a character is not a hex digit; the caller checks the count.
 */
export function hexInto(hex: string, from: number, out: Uint8Array, at: number): boolean {
  for (let i = from, j = at; i < hex.length; i += 2, j++) {
    const hi = nibbleAt(hex, i);
    const lo = nibbleAt(hex, i + 1);
    if ((hi | lo) < 0) return false;
    out[j] = (hi << 4) | lo;
  }
  return true;
}

/**
 * Bytes of a hex string with or without `0x`; null when it has an odd digit count or a non-hex
 * character. @remarks Allocates the result.
 */
export function fromHex(hex: string): Uint8Array | null {
  const from = hexStart(hex);
  const digits = hex.length - from;
  if ((digits & 1) !== 0) return null;
  const out = new Uint8Array(digits >>> 1);
  return hexInto(hex, from, out, 0) ? out : null;
}
