import { MalformedCalldataError } from './call-context.js';

/**
 * A hand-written reader for the few ABI shapes router calldata uses (uint, address, bool, dynamic
 * bytes, address[] and bytes[]). Measured hot spot: viem's `decodeAbiParameters` costs ~7 µs per
 * call here, and a Universal Router `execute` or SwapRouter02 `multicall` needs 3–5 of them, which
 * alone overruns the decoder's classification budget (see bench/micro/calldata.bench.ts).
 *
 * Semantics follow viem's decoder, which the tests compare against: offsets are relative to the
 * start of the enclosing tuple, address words keep only their low 20 bytes, a bool must be 0 or 1,
 * byte strings need no padding. Every read is bounds-checked and throws `MalformedCalldataError`;
 * nothing reads past `data`, and a length can never make the reader allocate more than `data` holds.
 * Addresses come back lowercase 0x-hex.
 */

// One Buffer view per source array, so hex slicing needs no copy and no per-read wrapper.
let viewOf: Uint8Array | null = null;
let view: Buffer = Buffer.alloc(0);

function hex(data: Uint8Array, start: number, end: number): string {
  if (viewOf !== data) {
    view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    viewOf = data;
  }
  return view.toString('hex', start, end);
}

function need(data: Uint8Array, pos: number, bytes: number): void {
  if (!(pos >= 0 && pos + bytes <= data.length)) throw new MalformedCalldataError(`read of ${bytes} bytes at ${pos} past ${data.length}`);
}

/** The uint256 word at `pos`. */
export function readUint(data: Uint8Array, pos: number): bigint {
  need(data, pos, 32);
  let i = pos;
  const end = pos + 32;
  while (i < end && data[i] === 0) i++;
  // Up to 6 significant bytes fit a double exactly: skip the string round trip for small values.
  if (end - i <= 6) {
    let n = 0;
    for (; i < end; i++) n = n * 256 + data[i]!;
    return BigInt(n);
  }
  return BigInt(`0x${hex(data, i, end)}`);
}

/**
 * The word at `pos` as a number no larger than `max` (offsets, lengths, a uint24 fee).
 * @throws when it is larger: an offset or length that large points outside any calldata.
 */
export function readSmall(data: Uint8Array, pos: number, max: number): number {
  need(data, pos, 32);
  for (let i = pos; i < pos + 26; i++) if (data[i] !== 0) throw new MalformedCalldataError(`word at ${pos} is not a small integer`);
  let n = 0;
  for (let i = pos + 26; i < pos + 32; i++) n = n * 256 + data[i]!;
  if (n > max) throw new MalformedCalldataError(`word at ${pos} is ${n}, above ${max}`);
  return n;
}

/** The address in the word at `pos` (its low 20 bytes, as viem and ABI coder v1 read it). */
export function readAddress(data: Uint8Array, pos: number): string {
  need(data, pos, 32);
  return `0x${hex(data, pos + 12, pos + 32)}`;
}

/** The bool word at `pos`; anything but 0 or 1 is malformed. */
export function readBool(data: Uint8Array, pos: number): boolean {
  const n = readSmall(data, pos, 1);
  return n === 1;
}

/** Where the dynamic value whose offset is in the word at `head` starts (offset relative to `base`). */
export function readOffset(data: Uint8Array, head: number, base: number): number {
  const at = base + readSmall(data, head, data.length);
  need(data, at, 32);
  return at;
}

/** The dynamic `bytes` whose offset is at `head` (relative to `base`), as a view into `data`. */
export function readBytes(data: Uint8Array, head: number, base: number): Uint8Array {
  const at = readOffset(data, head, base);
  const length = readSmall(data, at, data.length);
  need(data, at + 32, length);
  return data.subarray(at + 32, at + 32 + length);
}

/** The dynamic `bytes` whose offset is at `head` (relative to `base`), as lowercase 0x-hex. */
export function readBytesHex(data: Uint8Array, head: number, base: number): string {
  const at = readOffset(data, head, base);
  const length = readSmall(data, at, data.length);
  need(data, at + 32, length);
  return `0x${hex(data, at + 32, at + 32 + length)}`;
}

/** The dynamic `address[]` whose offset is at `head` (relative to `base`). */
export function readAddressArray(data: Uint8Array, head: number, base: number): string[] {
  const at = readOffset(data, head, base);
  const n = readSmall(data, at, (data.length - at - 32) >>> 5);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = readAddress(data, at + 32 + 32 * i);
  return out;
}

/** The dynamic `bytes[]` whose offset is at `head` (relative to `base`), each a view into `data`. */
export function readBytesArray(data: Uint8Array, head: number, base: number): Uint8Array[] {
  const at = readOffset(data, head, base);
  const n = readSmall(data, at, (data.length - at - 32) >>> 5);
  const out = new Array<Uint8Array>(n);
  // Element offsets are relative to the start of the offset table, right after the length word.
  for (let i = 0; i < n; i++) out[i] = readBytes(data, at + 32 + 32 * i, at + 32);
  return out;
}
