import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex, toJson, toJsonValue } from '../../src/messages/json.js';

describe('toJson', () => {
  it('default: bigints as decimal strings, bytes as 0x-hex, nested', () => {
    assert.equal(toJson({ a: 2n ** 256n - 1n, b: Uint8Array.of(0, 15, 255), c: [1n, { d: null, e: 'x' }] }), '{"a":"115792089237316195423570985008687907853269984665640564039457584007913129639935","b":"0x000fff","c":["1",{"d":null,"e":"x"}]}');
  });

  it('behavior: undefined fields are left out, empty bytes are 0x', () => {
    assert.deepEqual(toJsonValue({ a: undefined, b: new Uint8Array() }), { b: '0x' });
    assert.equal(bytesToHex(new Uint8Array()), '0x');
  });
});
