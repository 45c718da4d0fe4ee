import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TxDecodeError } from '../../../../src/actors/decoder/tx/errors.js';
import { fromHex } from '../../../../src/actors/decoder/tx/hex.js';
import { RlpReader, type RlpValue, decodeRlp } from '../../../../src/actors/decoder/tx/rlp.js';
import { DATA } from './vectors.js';

type RlpIn = string | number | RlpIn[];

/** The ethereum-tests RLP files: `in` is the value (strings, ints, `#bigint`, lists), `out` its encoding. */
function rlpTests(file: string): [string, { in: RlpIn; out: string }][] {
  return Object.entries(JSON.parse(readFileSync(join(DATA, 'conformance/ethereum-tests/RLPTests', file), 'utf8')) as Record<string, { in: RlpIn; out: string }>);
}

/** The expected decoding of a test's `in`: strings as UTF-8, integers as minimal big-endian bytes. */
function expected(v: RlpIn): RlpValue {
  if (Array.isArray(v)) return v.map(expected);
  if (typeof v === 'string' && !v.startsWith('#')) return new Uint8Array(Buffer.from(v, 'utf8'));
  let n = typeof v === 'number' ? BigInt(v) : BigInt(v.slice(1));
  const bytes: number[] = [];
  for (; n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
  return Uint8Array.from(bytes);
}

function rlpCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TxDecodeError, `threw ${String(err)}`);
    return err.code;
  }
  return 'accepted';
}

describe('RlpReader', () => {
  it('default: decodes every valid ethereum-tests RLP vector to its value', (t) => {
    const cases = [...rlpTests('rlptest.json'), ...rlpTests('RandomRLPTests/example.json')];
    for (const [name, c] of cases) {
      const bytes = fromHex(c.out)!;
      const got = decodeRlp(bytes);
      if (c.in !== 'VALID') assert.deepEqual(got, expected(c.in), name);
    }
    t.diagnostic(`RLPTests valid: ${cases.length}/${cases.length} decoded to their values`);
  });

  it('error: rejects every invalid ethereum-tests RLP vector with an RLP code', (t) => {
    const cases = rlpTests('invalidRLPTest.json');
    const codes: Record<string, number> = {};
    for (const [name, c] of cases) {
      const code = rlpCode(() => decodeRlp(fromHex(c.out)!));
      assert.match(code, /^TX_RLP_(MALFORMED|TRUNCATED|NON_CANONICAL|TRAILING)$/, name);
      codes[code] = (codes[code] ?? 0) + 1;
    }
    t.diagnostic(`RLPTests invalid: ${cases.length}/${cases.length} rejected ${JSON.stringify(codes)}`);
  });

  it('behavior: each canonical rule has its code', () => {
    const cases: [string, string][] = [
      ['8100', 'TX_RLP_NON_CANONICAL'], // 0x00 wrapped as a string
      ['817f', 'TX_RLP_NON_CANONICAL'],
      ['b80100', 'TX_RLP_NON_CANONICAL'], // long form for 1 byte
      ['f80180', 'TX_RLP_NON_CANONICAL'],
      [`b90038${'00'.repeat(56)}`, 'TX_RLP_NON_CANONICAL'], // zero leading the length
      ['83aabb', 'TX_RLP_TRUNCATED'],
      ['c3aabb', 'TX_RLP_TRUNCATED'],
      ['c2c3aabbcc', 'TX_RLP_TRUNCATED'], // inner list runs past its parent
      ['bfffffffffffffffff00', 'TX_RLP_TRUNCATED'], // 2^64-scale length, no hang
      ['', 'TX_RLP_TRUNCATED'],
      ['8000', 'TX_RLP_TRAILING'],
    ];
    for (const [hex, code] of cases) assert.equal(rlpCode(() => decodeRlp(fromHex(hex)!)), code, hex);
    assert.deepEqual(decodeRlp(fromHex('8180')!), Uint8Array.of(0x80), '0x80 wrapped is canonical');
  });

  it('behavior: reads offsets into the input, no copies', () => {
    const buf = fromHex('c88363617483646f67')!; // ['cat', 'dog']
    const r = new RlpReader();
    r.reset(buf, 0);
    const end = r.list(buf.length, 'list');
    assert.equal(end, buf.length);
    r.string(end, 'first');
    assert.deepEqual([r.start, r.end, r.pos], [2, 5, 5]);
    r.string(end, 'second');
    assert.deepEqual([r.start, r.end, r.pos], [6, 9, 9]);
    assert.equal(r.buf, buf);
  });

  it('error: a list where a string is expected, and the reverse', () => {
    const r = new RlpReader();
    r.reset(fromHex('c0')!, 0);
    assert.throws(() => r.string(1, 'nonce'), { code: 'TX_RLP_MALFORMED', message: 'nonce is a list, expected a string' });
    r.reset(fromHex('80')!, 0);
    assert.throws(() => r.list(1, 'accessList'), { code: 'TX_RLP_MALFORMED' });
  });
});
