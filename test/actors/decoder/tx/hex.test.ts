import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, hexStart, nibbleAt, toHex } from '../../../../src/actors/decoder/tx/hex.js';

describe('hex', () => {
  it('default: round trip of every byte value, lowercase out', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    assert.equal(hex, `0x${Buffer.from(all).toString('hex')}`);
    assert.deepEqual(fromHex(hex), all);
    assert.deepEqual(fromHex(hex.toUpperCase().replace('0X', '0x')), all);
  });

  it('args: ranges, prefixes and empty input', () => {
    assert.equal(toHex(Uint8Array.of(1, 2, 3, 4), 1, 3), '0x0203');
    assert.equal(toHex(new Uint8Array(0)), '0x');
    assert.deepEqual(fromHex('abcd'), Uint8Array.of(0xab, 0xcd));
    assert.deepEqual(fromHex('0XABCD'), Uint8Array.of(0xab, 0xcd));
    assert.deepEqual(fromHex('0x'), new Uint8Array(0));
    assert.equal(hexStart('0x12'), 2);
    assert.equal(hexStart('12'), 0);
    assert.equal(nibbleAt('f', 0), 15);
  });

  it('error: odd length and non-hex characters give null', () => {
    for (const bad of ['0x1', 'abc', '0xgg', '0x 1', '0x١٢', 'zz', '0x0x00']) assert.equal(fromHex(bad), null, bad);
    assert.equal(nibbleAt('\u0130', 0), -1);
  });
});
