import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TX_DECODE_ERROR_CODES, TxDecodeError } from '../../../../src/actors/decoder/tx/errors.js';

describe('TxDecodeError', () => {
  it('default: an Error with a stable code and a message', () => {
    const err = new TxDecodeError('TX_RLP_TRAILING', '3 bytes after the transaction');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TxDecodeError');
    assert.equal(err.code, 'TX_RLP_TRAILING');
    assert.equal(err.message, '3 bytes after the transaction');
    assert.deepEqual(JSON.parse(JSON.stringify(err)), { code: 'TX_RLP_TRAILING', message: '3 bytes after the transaction' });
  });

  it('behavior: carries no stack frames, and leaves the global stack limit as it was', () => {
    const before = Error.stackTraceLimit;
    const err = new TxDecodeError('TX_EMPTY', 'transaction has no bytes');
    assert.equal(Error.stackTraceLimit, before);
    assert.doesNotMatch(err.stack ?? '', /\n\s+at /);
    assert.match(new Error('x').stack ?? '', /\n\s+at /);
  });

  it('behavior: the code list (which the code type is derived from) is unique and TX_-prefixed', () => {
    assert.equal(new Set(TX_DECODE_ERROR_CODES).size, TX_DECODE_ERROR_CODES.length);
    for (const code of TX_DECODE_ERROR_CODES) assert.match(code, /^TX_[A-Z0-9_]+$/);
    assert.ok(Object.isFrozen(TX_DECODE_ERROR_CODES));
  });
});
