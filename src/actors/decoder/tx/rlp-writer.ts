import { nibbleAt } from './hex.js';

/** Room left in front of a list's payload for its header: 1 tag byte + up to 8 length bytes. */
const LIST_RESERVE = 9;

/**
 * A canonical RLP encoder into one reusable, growing buffer: what `decodeRpcTransaction` uses to
 * rebuild the signed bytes of a transaction that arrived as a JSON-RPC object. Hex strings are
 * written straight into the buffer (validated as they are parsed, no intermediate bytes); a list
 * reserves room for its longest header and moves its payload back once the length is known.
 */
export class RlpWriter {
  private buf: Uint8Array;
  /** Bytes written so far. */
  len = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Starts a new encoding, keeping the buffer. */
  reset(): void {
    this.len = 0;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Appends one raw byte (an EIP-2718 type prefix), outside any RLP item. */
  raw(byte: number): void {
    this.room(1);
    this.buf[this.len++] = byte;
  }

  private header(n: number, base: number): void {
    const b = this.buf;
    if (n < 56) {
      b[this.len++] = base + n;
      return;
    }
    let lenLen = 0;
    for (let v = n; v > 0; v = Math.floor(v / 256)) lenLen++;
    b[this.len++] = base + 55 + lenLen;
    for (let i = lenLen - 1; i >= 0; i--) b[this.len++] = Math.floor(n / 256 ** i) % 256;
  }

  /** Appends `src[start, end)` as a string item. */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.room(n + 9);
    if (n === 1 && src[start]! < 0x80) {
      this.buf[this.len++] = src[start]!;
      return;
    }
    this.header(n, 0x80);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  /** Appends a non-negative integer as a minimal big-endian string item (0 is the empty string). */
  uint(value: bigint | number): void {
    let v = BigInt(value);
    if (v < 0n) throw new RangeError(`RLP integer must not be negative, got ${v}`);
    let n = 0;
    for (let t = v; t > 0n; t >>= 8n) n++;
    this.room(n + 9);
    if (n === 1 && v < 0x80n) {
      this.buf[this.len++] = Number(v);
      return;
    }
    this.header(n, 0x80);
    for (let i = this.len + n - 1; i >= this.len; i--, v >>= 8n) this.buf[i] = Number(v & 0xffn);
    this.len += n;
  }

  /**
   * Appends the data in `hex[from..]` (an even number of hex digits) as a string item. Returns false,
   * having written nothing, when the digit count is odd or a character is not a hex digit.
   */
  hexData(hex: string, from: number): boolean {
    const digits = hex.length - from;
    if ((digits & 1) !== 0) return false;
    const n = digits >>> 1;
    this.room(n + 9);
    const mark = this.len;
    this.header(n, 0x80);
    if (!this.digits(hex, from, n)) {
      this.len = mark;
      return false;
    }
    if (n === 1 && this.buf[this.len - 1]! < 0x80) {
      // A single low byte is its own encoding: drop the header written before it was known.
      this.buf[mark] = this.buf[this.len - 1]!;
      this.len = mark + 1;
    }
    return true;
  }

  /**
   * Appends the quantity in `hex[from..]` (any count of hex digits, leading zeros allowed) as a
   * minimal integer item. Returns false, having written nothing, when a character is not a hex
   * digit or there are no digits.
   */
  hexQuantity(hex: string, from: number): boolean {
    if (from >= hex.length) return false;
    let i = from;
    while (i < hex.length && hex.charCodeAt(i) === 48) i++;
    const digits = hex.length - i;
    const n = (digits + 1) >>> 1;
    this.room(n + 9);
    const mark = this.len;
    this.header(n, 0x80);
    let j = this.len;
    if ((digits & 1) !== 0) {
      const v = nibbleAt(hex, i++);
      if (v < 0) {
        this.len = mark;
        return false;
      }
      this.buf[j++] = v;
    }
    this.len = j;
    if (!this.digits(hex, i, (hex.length - i) >>> 1)) {
      this.len = mark;
      return false;
    }
    if (n === 1 && this.buf[this.len - 1]! < 0x80) {
      this.buf[mark] = this.buf[this.len - 1]!;
      this.len = mark + 1;
    }
    return true;
  }

  /** Parses `n` bytes of hex digit pairs from `hex[from..]` to the end of the buffer. */
  private digits(hex: string, from: number, n: number): boolean {
    const b = this.buf;
    let j = this.len;
    for (let i = from, k = 0; k < n; i += 2, k++) {
      const hi = nibbleAt(hex, i);
      const lo = nibbleAt(hex, i + 1);
      if ((hi | lo) < 0) return false;
      b[j++] = (hi << 4) | lo;
    }
    this.len = j;
    return true;
  }

  /** Opens a list; returns the mark that {@link endList} takes. */
  beginList(): number {
    this.room(LIST_RESERVE);
    const mark = this.len;
    this.len += LIST_RESERVE;
    return mark;
  }

  /** Closes the list opened at `mark`: writes its header and moves the payload up against it. */
  endList(mark: number): void {
    const payload = mark + LIST_RESERVE;
    const n = this.len - payload;
    this.len = mark;
    this.header(n, 0xc0);
    this.buf.copyWithin(this.len, payload, payload + n);
    this.len += n;
  }

  /** A copy of the bytes written. @remarks Allocates the result. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
