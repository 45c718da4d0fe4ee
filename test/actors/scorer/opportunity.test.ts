import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareOpportunities, makeProfit, opportunityId, WETH_PRICE, type Opportunity } from '../../../src/actors/scorer/opportunity.js';

function opp(id: string, netWei: bigint): Opportunity {
  return {
    id, kind: 'v2-sandwich', victimHashes: [], targetBlock: 1, pools: [], tokenPath: [], amountIn: 1n,
    profit: { token: '0x', gross: 0n, gasCost: 0n, net: netWei, grossWei: 0n, gasCostWei: 0n, netWei },
    plan: [], timings: { firstSeenNs: 0, scoredNs: 0, verifiedNs: 0 }, verification: 'unverified', simulatedNet: null, rejectReason: null, baseFee: 0n, gas: [], searcher: null, revision: 0,
  };
}

describe('opportunity', () => {
  it('default: the id is deterministic and changes with any input', () => {
    const a = opportunityId('v2-sandwich', ['0x11'], 5, ['0xp'], ['0xa', '0xb', '0xa'], [1n, 2n]);
    assert.equal(opportunityId('v2-sandwich', ['0x11'], 5, ['0xp'], ['0xa', '0xb', '0xa'], [1n, 2n]), a);
    assert.match(a, /^0x[0-9a-f]{64}$/);
    assert.notEqual(opportunityId('v2-sandwich', ['0x11'], 5, ['0xp'], ['0xa', '0xb', '0xa'], [1n, 3n]), a);
    assert.notEqual(opportunityId('v2-arbitrage', ['0x11'], 5, ['0xp'], ['0xa', '0xb', '0xa'], [1n, 2n]), a);
    assert.notEqual(opportunityId('v2-sandwich', ['0x11'], 6, ['0xp'], ['0xa', '0xb', '0xa'], [1n, 2n]), a);
  });

  it('behavior: ranking is net profit descending, then id, whatever the input order', () => {
    const xs = [opp('0xb', 5n), opp('0xa', 5n), opp('0xc', 9n), opp('0xd', -1n)];
    const sorted = [...xs].sort(compareOpportunities).map((o) => o.id);
    assert.deepEqual(sorted, ['0xc', '0xa', '0xb', '0xd']);
    assert.deepEqual([...xs].reverse().sort(compareOpportunities).map((o) => o.id), sorted);
  });

  it('args: makeProfit converts with rounding against the searcher', () => {
    assert.deepEqual(makeProfit('0xw', 100n, 30n, WETH_PRICE), { token: '0xw', gross: 100n, gasCost: 30n, net: 70n, grossWei: 100n, gasCostWei: 30n, netWei: 70n });
    // 3 token units per 10 wei: gas of 10 wei costs ceil(3) = 3 units, 11 wei costs ceil(3.3) = 4.
    assert.equal(makeProfit('0xt', 10n, 11n, { num: 3n, den: 10n }).gasCost, 4n);
    // 10 units are worth floor(33.3) = 33 wei; -10 units are -34 wei.
    assert.equal(makeProfit('0xt', 10n, 0n, { num: 3n, den: 10n }).grossWei, 33n);
    assert.equal(makeProfit('0xt', -10n, 0n, { num: 3n, den: 10n }).grossWei, -34n);
  });
});
