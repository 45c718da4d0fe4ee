import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hexToBytes } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import type { DecoderConfig } from '../../../src/actors/decoder/decoder-config.js';
import { ANVIL_KEYS } from '../../../src/devnet/anvil.js';
import { signTransaction } from '../../../src/devnet/traffic.js';
import { Engine, RESULTS_RING } from '../../../src/engine.js';
import { RecordWriter } from '../../../src/messages/codec.js';
import type { Message } from '../../../src/messages/envelope.js';
import { type DecodedTx, Kind, type RawTx } from '../../../src/messages/schema.js';
import { WriteStatus } from '../../../src/runtime/ring/ring-buffer.js';
import { actorContract } from '../../support/actor-contract.js';
import { runUntil, testConfig } from '../../support/harness.js';
import { testBlock } from '../../support/records.js';

const worker = new URL('../../../src/actors/decoder/decoder.worker.js', import.meta.url);
const KEY = ANVIL_KEYS[3]!;
const FROM = privateKeyToAddress(KEY).toLowerCase();
const KEY_BYTES = hexToBytes(KEY);

function config(fields: Partial<DecoderConfig> = {}): DecoderConfig {
  return { chainId: 1, maxTxBytes: 131_072, routers: [], filter: { enabled: false, strategies: ['sandwich', 'backrun', 'arbitrage', 'liquidation'], dropExpired: true }, ...fields };
}

/** Signed transfers of types 0, 1 and 2 with distinct nonces (native signing, so 400 take ~40 ms). */
const SIGNED = Array.from({ length: 400 }, (_, i) => {
  const base = { chainId: 1, nonce: i, to: `0x${'42'.repeat(20)}` as const, value: BigInt(i), gas: 21_000n };
  const tx =
    i % 3 === 0
      ? { ...base, type: 'legacy' as const, gasPrice: 10n ** 9n }
      : i % 3 === 1
        ? { ...base, type: 'eip2930' as const, gasPrice: 10n ** 9n, accessList: [] }
        : { ...base, type: 'eip1559' as const, maxFeePerGas: 2n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n };
  const { raw, hash } = signTransaction(tx, KEY_BYTES);
  return { raw: hexToBytes(raw), hash: hash.toLowerCase(), type: i % 3, nonce: BigInt(i) };
});

describe('Decoder', () => {
  describe('actor contract', () =>
    actorContract({
      worker,
      config: config(),
      input: (i) =>
        i % 10 === 9
          ? { kind: Kind.BlockEvent, data: testBlock({ number: i }) }
          : { kind: Kind.RawTx, data: { source: 0, raw: SIGNED[i % SIGNED.length]!.raw, rpc: null, hash: SIGNED[i % SIGNED.length]!.hash } satisfies RawTx },
      verify: (outputs, n) => {
        assert.equal(outputs.length, n);
        outputs.forEach((m, i) => {
          assert.equal(m.seq, i);
          if (i % 10 === 9) {
            assert.equal(m.kind, Kind.BlockEvent);
            return;
          }
          assert.equal(m.kind, Kind.DecodedTx);
          const tx = m.data as DecodedTx;
          const want = SIGNED[i % SIGNED.length]!;
          assert.equal(tx.hash, want.hash);
          assert.equal(tx.from, FROM);
          assert.equal(tx.type, want.type);
          assert.equal(tx.nonce, want.nonce);
          assert.equal(tx.firstSeenNs, m.firstSeenNs);
          assert.equal(tx.hashMismatch, false);
        });
      },
    }));

  it('error: bad transactions are counted by code, never emitted, and the stage keeps decoding', async () => {
    const engine = new Engine(testConfig(), {
      pipeline: { rings: { in: 1 << 20, [RESULTS_RING]: 1 << 20 }, stages: [{ name: 'decoder', worker, config: config(), input: 'in', outputs: { out: RESULTS_RING } }] },
    });
    const outputs: Message[] = [];
    engine.onOutput((m) => outputs.push(m));
    await engine.start();
    try {
      const writer = new RecordWriter(engine.supervisor.ring('in'));
      const good = SIGNED[5]!;
      const badSig = Uint8Array.from(good.raw);
      const forChain5 = hexToBytes(signTransaction({ type: 'eip1559', chainId: 5, nonce: 1, to: `0x${'42'.repeat(20)}`, value: 0n, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, KEY_BYTES).raw);
      badSig[badSig.length - 33]! ^= 0xff; // corrupt the signature's s
      const inputs: RawTx[] = [
        { source: 0, raw: new Uint8Array([0x02, 0xc1, 0x80]), rpc: null, hash: null },
        { source: 0, raw: good.raw.subarray(0, good.raw.length - 5), rpc: null, hash: null },
        { source: 0, raw: new Uint8Array(), rpc: null, hash: null },
        { source: 0, raw: forChain5, rpc: null, hash: null },
        { source: 0, raw: badSig, rpc: null, hash: null },
        { source: 0, raw: null, rpc: { hash: good.hash, type: '0x2' }, hash: good.hash },
        { source: 0, raw: good.raw, rpc: null, hash: `0x${'00'.repeat(32)}` },
        { source: 0, raw: good.raw, rpc: null, hash: good.hash },
      ];
      inputs.forEach((data, seq) => assert.equal(writer.write(Kind.RawTx, seq, 0, 1, data), WriteStatus.WRITTEN));
      await runUntil(engine, () => outputs.length >= 2, 20_000);
      await engine.stop();
      assert.deepEqual(outputs.map((m) => m.seq), [6, 7], 'only the two good ones come out, in order');
      assert.equal((outputs[0]!.data as DecodedTx).hashMismatch, true, 'announced hash differs from the bytes');
      assert.equal((outputs[1]!.data as DecodedTx).hashMismatch, false);
      const c = engine.stats().stages.decoder!.counters;
      const rejects = Object.entries(c).filter(([k]) => k.startsWith('reject.'));
      assert.equal(rejects.reduce((n, [, v]) => n + v, 0), 6, JSON.stringify(c));
      assert.equal(c['reject.TX_EMPTY'], 1);
      assert.equal(c['reject.TX_CHAIN_ID'], 1);
      assert.ok(c['reject.TX_RPC_FIELD_MISSING'] === 1 || c['reject.TX_RPC_FIELD_INVALID'] === 1, JSON.stringify(c));
      assert.equal(c.hashMismatch, 1);
      assert.equal(engine.stats().stages.decoder!.restarts, 0, 'a bad transaction never crashes the stage');
    } finally {
      await engine.kill();
    }
  });
});
