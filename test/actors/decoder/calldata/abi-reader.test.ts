import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Hex, bytesToHex, encodeAbiParameters, getAddress, hexToBytes, maxUint256, parseAbiParameters } from 'viem';
import {
  readAddress,
  readAddressArray,
  readBool,
  readBytes,
  readBytesArray,
  readBytesHex,
  readOffset,
  readSmall,
  readUint,
} from '../../../../src/actors/decoder/calldata/abi-reader.js';
import { MalformedCalldataError } from '../../../../src/actors/decoder/calldata/call-context.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0xabcdefabcdefabcdefabcdefabcdefabcdefabcd';

function enc(types: string, values: readonly unknown[]): Uint8Array {
  return hexToBytes(encodeAbiParameters(parseAbiParameters(types), values as never));
}

const malformed = { name: 'MalformedCalldataError' };

describe('abi-reader', () => {
  it('default', () => {
    const d = enc('uint256, address, bool, bytes, address[], bytes[]', [
      10n ** 18n,
      getAddress(B), // checksummed in, lowercase out
      true,
      '0xdeadbeef',
      [A, B],
      ['0x01', '0x', `0x${'ee'.repeat(40)}`],
    ]);
    assert.equal(readUint(d, 0), 10n ** 18n);
    assert.equal(readAddress(d, 32), B);
    assert.equal(readBool(d, 64), true);
    assert.deepEqual(readBytes(d, 96, 0), new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    assert.equal(readBytesHex(d, 96, 0), '0xdeadbeef');
    assert.deepEqual(readAddressArray(d, 128, 0), [A, B]);
    assert.deepEqual(readBytesArray(d, 160, 0).map((x) => bytesToHex(x)), ['0x01', '0x', `0x${'ee'.repeat(40)}`]);
  });

  it('behavior: readUint is exact across the small-value fast path and the full width', () => {
    for (const v of [0n, 1n, 255n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 53n + 1n, 2n ** 64n + 7n, 1n << 255n, maxUint256]) {
      assert.equal(readUint(enc('uint256', [v]), 0), v, String(v));
    }
  });

  it('behavior: byte views alias the calldata (no copy)', () => {
    const d = enc('bytes', ['0x0102']);
    const b = readBytes(d, 0, 0);
    assert.equal(b.buffer, d.buffer);
  });

  it('behavior: offsets are relative to the given base (nested tuples, bytes[] tables)', () => {
    // A dynamic tuple: head holds its offset; inside, the bytes offset is relative to the tuple.
    const d = enc('(bytes path, address recipient)', [{ path: '0xaabb', recipient: A }]);
    const t = readOffset(d, 0, 0);
    assert.equal(t, 32);
    assert.equal(readBytesHex(d, t, t), '0xaabb');
    assert.equal(readAddress(d, t + 32), A);
  });

  it('args: readSmall enforces its maximum', () => {
    const d = enc('uint256, uint256', [0xffffffn, 0x1000000n]);
    assert.equal(readSmall(d, 0, 0xffffff), 0xffffff);
    assert.throws(() => readSmall(d, 32, 0xffffff), malformed);
    assert.throws(() => readSmall(enc('uint256', [2n ** 64n]), 0, Number.MAX_SAFE_INTEGER), malformed);
  });

  it('error: bool words other than 0 and 1 are malformed, as viem decodes them', () => {
    assert.equal(readBool(enc('uint256', [0n]), 0), false);
    assert.throws(() => readBool(enc('uint256', [2n]), 0), malformed);
  });

  it('error: reads past the end, huge offsets and huge lengths throw MalformedCalldataError', () => {
    const d = enc('bytes', ['0x0102']);
    assert.throws(() => readUint(d, d.length - 31), malformed);
    assert.throws(() => readUint(d, -1), malformed);
    assert.throws(() => readAddress(new Uint8Array(31), 0), malformed);
    // Offset pointing past the end.
    const far = new Uint8Array(d);
    far[31] = 0xff;
    assert.throws(() => readBytes(far, 0, 0), malformed);
    // Length larger than what follows.
    const long = new Uint8Array(d);
    long[63] = 0x40;
    assert.throws(() => readBytes(long, 0, 0), malformed);
    // An array length that would need more words than the calldata holds allocates nothing.
    const arr = enc('address[]', [[A]]);
    arr[63] = 0xff;
    assert.throws(() => readAddressArray(arr, 0, 0), (e: unknown) => e instanceof MalformedCalldataError);
    const huge = new Uint8Array(arr);
    huge.fill(0xff, 32, 64);
    assert.throws(() => readBytesArray(huge, 0, 0), malformed);
  });

  it('behavior: a Buffer view per source array does not leak between arrays', () => {
    const x = enc('address', [A]);
    const y = enc('address', [B]);
    assert.equal(readAddress(x, 0), A);
    assert.equal(readAddress(y, 0), B);
    assert.equal(readAddress(x.subarray(0), 0), A);
    assert.equal(readAddress(x, 0), A);
    assert.equal(bytesToHex(readBytes(enc('bytes', ['0x' as Hex]), 0, 0)), '0x');
  });
});
