import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SUBMITTER_CONFIG } from '../../../src/actors/submitter/submitter-config.js';
import { validateConfig } from '../../../src/runtime/config.js';

describe('submitter config', () => {
  it('default: the send queue and replacement settings, and the ledger path', () => {
    const c = validateConfig({}).submitter;
    assert.deepEqual(c.queue, { concurrency: 4, maxAttempts: 3, backoffMs: 200, maxBackoffMs: 2000, jitter: 0.5, seed: 1 });
    assert.deepEqual(c.replacement, { afterBlocks: 1, feeBumpPct: 10, maxReplacements: 3, cancelExpired: true });
    assert.equal(c.ledgerPath, '.orion/ledger.jsonl');
    assert.deepEqual(c, DEFAULT_SUBMITTER_CONFIG);
  });

  it('args: ledgerPath null (no file) and partial queue / replacement objects are accepted', () => {
    const c = validateConfig({ submitter: { ledgerPath: null, queue: { concurrency: 1 }, replacement: { afterBlocks: 0 } } }).submitter;
    assert.equal(c.ledgerPath, null);
    assert.equal(c.queue.concurrency, 1);
    assert.equal(c.queue.maxAttempts, 3);
    assert.equal(c.replacement.afterBlocks, 0);
    assert.equal(c.replacement.feeBumpPct, 10);
  });

  it('error: out-of-range or malformed fields are refused naming the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ledgerPath: '' }, /config\.submitter\.ledgerPath must be a non-empty string/],
      [{ queue: { concurrency: 0 } }, /config\.submitter\.queue\.concurrency must be between 1/],
      [{ queue: { maxAttempts: 0 } }, /config\.submitter\.queue\.maxAttempts/],
      [{ queue: { backoffMs: 500, maxBackoffMs: 100 } }, /config\.submitter\.queue\.maxBackoffMs must be between 500/],
      [{ queue: { jitter: 2 } }, /config\.submitter\.queue\.jitter must be a number in \[0, 1\]/],
      [{ queue: { seed: -1 } }, /config\.submitter\.queue\.seed/],
      [{ queue: { retries: 2 } }, /config\.submitter\.queue\.retries is not a config field/],
      [{ replacement: { feeBumpPct: 5 } }, /config\.submitter\.replacement\.feeBumpPct must be between 10/],
      [{ replacement: { afterBlocks: -1 } }, /config\.submitter\.replacement\.afterBlocks/],
      [{ replacement: { cancelExpired: 'yes' } }, /config\.submitter\.replacement\.cancelExpired must be true or false/],
    ];
    for (const [submitter, re] of bad) assert.throws(() => validateConfig({ submitter } as never), re, JSON.stringify(submitter));
  });
});
