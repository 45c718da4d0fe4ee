import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toRlp } from 'viem';
import { fromHex, toHex } from '../../../../src/actors/decoder/tx/hex.js';
import { decodeRlp, type RlpValue } from '../../../../src/actors/decoder/tx/rlp.js';
import { RlpWriter } from '../../../../src/actors/decoder/tx/rlp-writer.js';
import { mulberry32 } from '../../../support/prng.js';
import { DATA } from './vectors.js';

function write(w: RlpWriter, v: RlpValue): void {
  if (v instanceof Uint8Array) return w.bytes(v);
  const mark = w.beginList();
  for (const x of v) write(w, x);
  w.endList(mark);
}

function encode(v: RlpValue): string {
  const w = new RlpWriter(8); // tiny start: every test also exercises growth
  write(w, v);
  return toHex(w.toBytes());
}

describe('RlpWriter', () => {
  it('default: re-encodes every valid ethereum-tests RLP vector byte for byte', () => {
    const doc = JSON.parse(readFileSync(join(DATA, 'conformance/ethereum-tests/RLPTests/rlptest.json'), 'utf8')) as Record<string, { out: string }>;
    for (const [name, c] of Object.entries(doc)) assert.equal(encode(decodeRlp(fromHex(c.out)!)), c.out.toLowerCase(), name);
  });

  it('behavior: matches viem toRlp on random nested values', () => {
    const rng = mulberry32(7);
    const gen = (depth: number): RlpValue => {
      if (depth > 3 || rng() < 0.6) {
        const n = rng() < 0.3 ? Math.floor(rng() * 2) : Math.floor(rng() * (rng() < 0.1 ? 300 : 60));
        return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
      }
      return Array.from({ length: Math.floor(rng() * 6) }, () => gen(depth + 1));
    };
    const toViem = (v: RlpValue): unknown => (v instanceof Uint8Array ? toHex(v) : v.map(toViem));
    for (let i = 0; i < 500; i++) {
      const v = gen(0);
      assert.equal(encode(v), toRlp(toViem(v) as never));
    }
  });

  it('args: hex quantities are written minimal, leading zeros stripped', () => {
    const q = (hex: string) => {
      const w = new RlpWriter();
      assert.equal(w.hexQuantity(hex, 2), true, hex);
      return toHex(w.toBytes());
    };
    assert.equal(q('0x0'), '0x80');
    assert.equal(q('0x000'), '0x80');
    assert.equal(q('0x7f'), '0x7f');
    assert.equal(q('0x80'), '0x8180');
    assert.equal(q('0x0001'), '0x01');
    assert.equal(q('0xABC'), '0x820abc');
    assert.equal(q(`0x${'0'.repeat(10)}${'f'.repeat(64)}`), `0xa0${'ff'.repeat(32)}`);
  });

  it('error: invalid hex writes nothing and returns false', () => {
    const w = new RlpWriter();
    w.raw(2);
    assert.equal(w.hexQuantity('0x', 2), false);
    assert.equal(w.hexQuantity('0x1g', 2), false);
    assert.equal(w.hexQuantity('0xg', 2), false);
    assert.equal(w.hexData('0xabc', 2), false);
    assert.equal(w.hexData('0xzz', 2), false);
    assert.equal(w.len, 1);
    assert.equal(w.hexData('0x', 2), true);
    assert.equal(w.hexData('0x05', 2), true);
    assert.equal(w.hexData('0x0505', 2), true);
    assert.equal(toHex(w.toBytes()), '0x028005820505');
  });

  it('args: uint writes numbers and bigints minimal; negatives throw', () => {
    const w = new RlpWriter();
    w.uint(0);
    w.uint(127);
    w.uint(128);
    w.uint(2n ** 64n);
    assert.equal(toHex(w.toBytes()), '0x807f818089010000000000000000');
    assert.throws(() => w.uint(-1), RangeError);
  });
});
