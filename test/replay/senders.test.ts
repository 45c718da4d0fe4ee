import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeHex } from '../../src/actors/decoder/tx/decode-tx.js';
import { CaptureError } from '../../src/replay/capture/format.js';
import { readSenderHints, writeSenderHints } from '../../src/replay/capture/senders.js';

const root = mkdtempSync(join(tmpdir(), 'orion-senders-'));
after(() => rmSync(root, { recursive: true, force: true }));

const account = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');

describe('sender hints (senders.bin)', () => {
  it('default: a hinted transaction takes its sender from the hints; others are recovered', async () => {
    const raw = await account.signTransaction({ chainId: 1, type: 'eip1559', nonce: 3, to: '0x00000000000000000000000000000000000b0b00', value: 1n, gas: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n });
    const plain = decodeHex(raw);
    assert.equal(plain.from, account.address.toLowerCase());
    // A hint that differs from the signer shows the recovery did not run.
    const fake = '0x00000000000000000000000000000000000f00d0';
    const hinted = decodeHex(raw, { senders: new Map([[plain.hash, fake]]) });
    assert.equal(hinted.from, fake);
    assert.equal(hinted.hash, plain.hash);
    assert.deepEqual({ ...hinted, from: plain.from, raw: null }, { ...plain, raw: null });
    const other = decodeHex(raw, { senders: new Map([['0x' + '11'.repeat(32), fake]]) });
    assert.equal(other.from, account.address.toLowerCase());
  });

  it('behavior: round-trips sorted entries through the file', () => {
    const file = join(root, 'senders.bin');
    const m = new Map([
      ['0x' + 'bb'.repeat(32), '0x' + '02'.repeat(20)],
      ['0x' + 'aa'.repeat(32), '0x' + '01'.repeat(20)],
    ]);
    assert.equal(writeSenderHints(file, m), 2);
    assert.deepEqual(readSenderHints(file), new Map([...m].sort()));
    assert.equal(readFileSync(file).length, 20 + 2 * 52);
  });

  it('error: a flipped byte, a cut file and a foreign file are CaptureErrors with their kind and offset', () => {
    const file = join(root, 'flip.bin');
    writeSenderHints(file, new Map([['0x' + 'aa'.repeat(32), '0x' + '01'.repeat(20)]]));
    const b = readFileSync(file);
    b[30] = b[30]! ^ 1;
    writeFileSync(file, b);
    assert.throws(() => readSenderHints(file), (e: unknown) => e instanceof CaptureError && e.kind === 'crc' && e.offset === 20);
    writeFileSync(file, b.subarray(0, 50));
    assert.throws(() => readSenderHints(file), (e: unknown) => e instanceof CaptureError && e.kind === 'truncated');
    writeFileSync(file, Buffer.from('not a sender hints file at all'));
    assert.throws(() => readSenderHints(file), (e: unknown) => e instanceof CaptureError && e.kind === 'bad-magic' && e.offset === 0);
  });
});
