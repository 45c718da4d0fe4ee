import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { CaptureError } from './format.js';

/**
 * Sender hints (`<capture>/senders.bin`): the sender the capture run's decoder recovered for each
 * transaction, by hash. A replay's decoder takes the sender from here instead of recovering it
 * again (the hash covers the signature, so the pair cannot belong to another transaction); a
 * transaction not listed is recovered as usual. Recovery is most of what decoding costs (a native
 * libsecp256k1 `ecdsaRecover` per transaction), and the capture run already did it.
 *
 * ```
 * offset  size     field
 * 0       8        magic 89 4F 52 53 4E 44 0D 0A ("\x89ORSND\r\n")
 * 8       4        u32 LE version (1)
 * 12      4        u32 LE count N
 * 16      4        u32 LE crc32 of the body
 * 20      N × 52   body: 32-byte tx hash ‖ 20-byte sender, sorted by hash
 * ```
 */

/** File name of the sender hints in a capture directory. */
export const SENDERS_FILE = 'senders.bin';
const MAGIC = Buffer.from([0x89, 0x4f, 0x52, 0x53, 0x4e, 0x44, 0x0d, 0x0a]);
const VERSION = 1;
const HEAD = 20;
const ENTRY = 52;

/** Writes `senders` (lowercase 0x-hex hash → lowercase 0x-hex address) to `path`. */
export function writeSenderHints(path: string, senders: ReadonlyMap<string, string>): number {
  const keys = [...senders.keys()].sort();
  const body = Buffer.alloc(keys.length * ENTRY);
  keys.forEach((h, i) => {
    body.write(h.slice(2), i * ENTRY, 32, 'hex');
    body.write(senders.get(h)!.slice(2), i * ENTRY + 32, 20, 'hex');
  });
  const head = Buffer.alloc(HEAD);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(VERSION, 8);
  head.writeUInt32LE(keys.length, 12);
  head.writeUInt32LE(crc32(body), 16);
  writeFileSync(path, Buffer.concat([head, body]));
  return keys.length;
}

/** Reads a sender-hints file; a damaged one is a `CaptureError` naming the file, offset and kind. */
export function readSenderHints(path: string): Map<string, string> {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (err) {
    throw new CaptureError('io', path, -1, `cannot read sender hints: ${(err as Error).message}`, { cause: err });
  }
  if (b.length < HEAD) throw new CaptureError('truncated', path, b.length, `sender hints end inside their ${HEAD}-byte header`);
  if (!b.subarray(0, 8).equals(MAGIC)) throw new CaptureError('bad-magic', path, 0, 'not a sender-hints file');
  const version = b.readUInt32LE(8);
  if (version !== VERSION) throw new CaptureError('bad-version', path, 8, `sender hints version ${version}; this build reads ${VERSION}`);
  const n = b.readUInt32LE(12);
  if (b.length !== HEAD + n * ENTRY) throw new CaptureError('truncated', path, Math.min(b.length, HEAD + n * ENTRY), `sender hints hold ${b.length - HEAD} body bytes, expected ${n} × ${ENTRY}`);
  const body = b.subarray(HEAD);
  if (crc32(body) !== b.readUInt32LE(16)) throw new CaptureError('crc', path, HEAD, 'sender hints fail their crc32');
  const out = new Map<string, string>();
  for (let i = 0; i < n; i++) out.set(`0x${body.toString('hex', i * ENTRY, i * ENTRY + 32)}`, `0x${body.toString('hex', i * ENTRY + 32, i * ENTRY + ENTRY)}`);
  return out;
}
