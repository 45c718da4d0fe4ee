import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectHardfork, hardforkOfHeader, resolveHardfork } from '../../../src/actors/simulator/hardfork.js';
import { startAnvil } from '../../../src/devnet/anvil.js';

describe('hardfork detection', () => {
  it('behavior: each fork is told by the header field it added', () => {
    const london = { baseFeePerGas: '0x7', difficulty: '0x2' };
    assert.equal(hardforkOfHeader(london), 'london');
    assert.equal(hardforkOfHeader({ ...london, difficulty: '0x0' }), 'paris');
    assert.equal(hardforkOfHeader({ ...london, difficulty: '0x0', withdrawalsRoot: `0x${'00'.repeat(32)}` }), 'shanghai');
    assert.equal(hardforkOfHeader({ ...london, difficulty: '0x0', withdrawalsRoot: `0x${'00'.repeat(32)}`, blobGasUsed: '0x0', excessBlobGas: '0x0' }), 'cancun');
    assert.equal(hardforkOfHeader({ ...london, difficulty: '0x0', withdrawalsRoot: `0x${'00'.repeat(32)}`, blobGasUsed: '0x0', excessBlobGas: '0x0', requestsHash: `0x${'11'.repeat(32)}` }), 'prague');
  });

  it('error: a pre-London header is refused', () => {
    assert.throws(() => hardforkOfHeader({ difficulty: '0x2' }), /pre-London/);
  });

  it('behavior: anvil started at cancun and at prague is detected as such; an explicit name is kept', async () => {
    for (const hardfork of ['cancun', 'prague']) {
      const anvil = await startAnvil({ hardfork });
      try {
        assert.equal(await detectHardfork(anvil.rpcUrl), hardfork);
        assert.equal(await resolveHardfork('auto', anvil.rpcUrl), hardfork);
        assert.equal(await resolveHardfork('shanghai', anvil.rpcUrl), 'shanghai');
      } finally {
        await anvil.stop();
      }
    }
  });

  it('error: resolving auto against a node that is down keeps auto and reports why', async () => {
    const errors: string[] = [];
    const log = { warn: (_msg: string, fields?: Record<string, unknown>) => void errors.push(String(fields?.error)) };
    assert.equal(await resolveHardfork('auto', 'http://127.0.0.1:9', log), 'auto');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /127\.0\.0\.1:9/);
  });

  it('error: a node that is down rejects with its URL', async () => {
    await assert.rejects(detectHardfork('http://127.0.0.1:9'), /hardfork: eth_getBlockByNumber from http:\/\/127\.0\.0\.1:9 failed/);
  });
});
