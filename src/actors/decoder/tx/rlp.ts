import { TxDecodeError } from './errors.js';

/**
 * A strict RLP reader for the decoder's hot path. It walks the input with offsets and never copies
 * or builds a tree: each read sets `start`/`end` to the payload of one item, and the caller turns
 * that range into whatever it needs. Every header is checked as it is read, so the reader accepts
 * exactly the canonical encoding (the one `rlp.encode` would produce) and nothing longer:
 *
 * - a single byte below 0x80 must stand for itself, not be wrapped as a 1-byte string (`0x81 0x05`);
 * - the long forms (0xb8–0xbf, 0xf8–0xff) are only for payloads of 56 bytes or more;
 * - a long-form length has no leading zero byte;
 * - no item runs past the end of its enclosing list or of the input.
 *
 * Integers (leading zeros) and trailing bytes are the caller's rules, checked where the caller knows
 * what the item means. Failures throw {@link TxDecodeError} with a `TX_RLP_…` code.
 */
export class RlpReader {
  /** The input being read. */
  buf: Uint8Array = new Uint8Array(0);
  /** Offset of the next item's header. */
  pos = 0;
  /** Start of the payload of the item read last: `buf[start, end)`. */
  start = 0;
  /** End (exclusive) of the payload of the item read last. */
  end = 0;

  /** Points the reader at `buf`, next item at `pos`. */
  reset(buf: Uint8Array, pos: number): void {
    this.buf = buf;
    this.pos = pos;
    this.start = pos;
    this.end = pos;
  }

  /**
   * Reads the header of the item at `pos`, which must end at or before `limit`; sets `start`/`end`
   * to its payload and moves `pos` past the item. Returns true for a list, false for a string.
   */
  next(limit: number): boolean {
    const b = this.buf;
    const p = this.pos;
    if (p >= limit) throw new TxDecodeError('TX_RLP_TRUNCATED', `RLP item expected at offset ${p}, input ends`);
    const h = b[p]!;
    let start: number;
    let len: number;
    let list: boolean;
    if (h < 0x80) {
      // A byte below 0x80 is its own encoding.
      this.start = p;
      this.end = p + 1;
      this.pos = p + 1;
      return false;
    } else if (h < 0xb8) {
      start = p + 1;
      len = h - 0x80;
      list = false;
      if (len === 1 && start < limit && b[start]! < 0x80) {
        throw new TxDecodeError('TX_RLP_NON_CANONICAL', `RLP byte 0x${b[start]!.toString(16)} at offset ${start} is wrapped as a string`);
      }
    } else if (h < 0xc0) {
      start = p + 1 + (h - 0xb7);
      len = this.longLength(p, start, limit);
      list = false;
    } else if (h < 0xf8) {
      start = p + 1;
      len = h - 0xc0;
      list = true;
    } else {
      start = p + 1 + (h - 0xf7);
      len = this.longLength(p, start, limit);
      list = true;
    }
    // `len` may be far beyond 2^32 from a hostile 8-byte length; the comparison is exact enough:
    // anything that large is past `limit`.
    if (len > limit - start) {
      throw new TxDecodeError('TX_RLP_TRUNCATED', `RLP ${list ? 'list' : 'string'} at offset ${p} declares ${len} bytes, ${limit - start} remain`);
    }
    this.start = start;
    this.end = start + len;
    this.pos = start + len;
    return list;
  }

  /** Reads the long-form length that sits between the header at `p` and the payload at `start`. */
  private longLength(p: number, start: number, limit: number): number {
    const b = this.buf;
    if (start > limit) throw new TxDecodeError('TX_RLP_TRUNCATED', `RLP length at offset ${p} runs past the end`);
    if (b[p + 1] === 0) throw new TxDecodeError('TX_RLP_NON_CANONICAL', `RLP length at offset ${p} has a leading zero`);
    let len = 0;
    for (let i = p + 1; i < start; i++) len = len * 256 + b[i]!;
    if (len < 56) throw new TxDecodeError('TX_RLP_NON_CANONICAL', `RLP long form at offset ${p} used for ${len} bytes`);
    return len;
  }

  /** Reads a string item (sets `start`/`end`); throws `TX_RLP_MALFORMED` naming `what` for a list. */
  string(limit: number, what: string): void {
    if (this.next(limit)) throw new TxDecodeError('TX_RLP_MALFORMED', `${what} is a list, expected a string`);
  }

  /** Reads a list header and enters it: `pos` moves to its first item. Returns the list's end. */
  list(limit: number, what: string): number {
    if (!this.next(limit)) throw new TxDecodeError('TX_RLP_MALFORMED', `${what} is a string, expected a list`);
    this.pos = this.start;
    return this.end;
  }
}

/** A decoded RLP value: a byte string or a list of values. */
export type RlpValue = Uint8Array | RlpValue[];

/**
 * Decodes one complete RLP item into a tree, strictly (canonical encoding, no trailing bytes).
 * @remarks Allocates (copies every string); for tests, tools and cold paths, not the decoder.
 */
export function decodeRlp(bytes: Uint8Array): RlpValue {
  const r = new RlpReader();
  r.reset(bytes, 0);
  const v = readValue(r, bytes.length);
  if (r.pos !== bytes.length) throw new TxDecodeError('TX_RLP_TRAILING', `${bytes.length - r.pos} bytes after the RLP item`);
  return v;
}

function readValue(r: RlpReader, limit: number): RlpValue {
  if (!r.next(limit)) return r.buf.slice(r.start, r.end);
  const end = r.end;
  r.pos = r.start;
  const out: RlpValue[] = [];
  while (r.pos < end) out.push(readValue(r, end));
  return out;
}
