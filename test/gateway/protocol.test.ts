import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { type ErrorCode, ProtocolError, matches, parseClientOp, parseFilter } from '../../src/gateway/protocol.js';
import { POOL_1, POOL_2, POOL_3, TOKEN_A, TOKEN_B, WETH, testOpportunity } from './fixtures.js';

/** An `assert.throws` matcher for a ProtocolError with `code` and `id`. */
const protocolError = (code: ErrorCode, id?: unknown) => (e: unknown) => {
  assert.ok(e instanceof ProtocolError, `not a ProtocolError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.equal(e.id, id);
  return true;
};

const op = (v: unknown) => parseClientOp(JSON.stringify(v));

describe('parseClientOp', () => {
  it('default: subscribe without a filter', () => {
    assert.deepEqual(op({ op: 'subscribe', id: 1, topics: ['opportunities', 'blocks'] }), { op: 'subscribe', id: 1, topics: ['opportunities', 'blocks'], filter: null, rawFilter: null });
  });

  it('behavior: repeated topics are taken once, in first-seen order', () => {
    const o = op({ op: 'subscribe', topics: ['txs', 'stats', 'txs'] });
    assert.equal(o.op, 'subscribe');
    assert.deepEqual(o.op === 'subscribe' && o.topics, ['txs', 'stats']);
  });

  it('behavior: a filter is compiled (addresses lowercased, wei as bigint) and echoed raw', () => {
    const raw = { kinds: ['v2-sandwich', 'backrun-arbitrage'], minNetProfitWei: '1000000000000000000', tokens: [TOKEN_A.toUpperCase().replace('0X', '0x')], pools: [POOL_1], includeRejected: true };
    const o = op({ op: 'subscribe', id: 'a', topics: ['opportunities'], filter: raw });
    assert.ok(o.op === 'subscribe');
    assert.deepEqual(o.rawFilter, raw);
    assert.deepEqual(o.filter, { kinds: new Set(['v2-sandwich', 'backrun-arbitrage']), minNetProfitWei: 10n ** 18n, tokens: new Set([TOKEN_A]), pools: new Set([POOL_1]), includeRejected: true });
  });

  it('args: filter null is no filter', () => {
    const o = op({ op: 'subscribe', topics: ['opportunities'], filter: null });
    assert.ok(o.op === 'subscribe');
    assert.equal(o.filter, null);
  });

  it('args: unsubscribe with and without topics; ping', () => {
    assert.deepEqual(op({ op: 'unsubscribe', id: 2, topics: ['txs'] }), { op: 'unsubscribe', id: 2, topics: ['txs'] });
    assert.deepEqual(op({ op: 'unsubscribe', id: 3 }), { op: 'unsubscribe', id: 3, topics: null });
    assert.deepEqual(op({ op: 'ping', id: 'p' }), { op: 'ping', id: 'p' });
    assert.deepEqual(op({ op: 'ping' }), { op: 'ping', id: undefined });
  });

  it('error: invalid JSON is bad-json (no id: the frame has none to give)', () => {
    for (const text of ['', '{', '{"op":"ping",}', 'ping', '\u0000']) assert.throws(() => parseClientOp(text), protocolError('bad-json'), JSON.stringify(text));
  });

  it('error: a frame that is not an op object is bad-request', () => {
    for (const v of [null, 1, 'ping', [], [{ op: 'ping' }], true]) assert.throws(() => op(v), protocolError('bad-request'), JSON.stringify(v));
  });

  it('error: an id that is neither a string nor a number is bad-request without an id', () => {
    for (const id of [{}, [1], true, null]) assert.throws(() => op({ op: 'ping', id }), protocolError('bad-request'), JSON.stringify(id));
  });

  it('error: a missing op is bad-request, an unknown one unknown-op, each with the id', () => {
    assert.throws(() => op({ id: 7, topics: ['txs'] }), protocolError('bad-request', 7));
    assert.throws(() => op({ op: 'subscribe!', id: 8 }), protocolError('unknown-op', 8));
    assert.throws(() => op({ op: 'SUBSCRIBE', id: 'x' }), protocolError('unknown-op', 'x'));
    assert.throws(() => op({ op: 42 }), protocolError('unknown-op'));
  });

  it('error: topics missing, empty or not an array is bad-request; an unknown topic is unknown-topic', () => {
    assert.throws(() => op({ op: 'subscribe', id: 1 }), protocolError('bad-request', 1));
    assert.throws(() => op({ op: 'subscribe', id: 1, topics: [] }), protocolError('bad-request', 1));
    assert.throws(() => op({ op: 'subscribe', id: 1, topics: 'txs' }), protocolError('bad-request', 1));
    assert.throws(() => op({ op: 'unsubscribe', id: 1, topics: [] }), protocolError('bad-request', 1));
    assert.throws(() => op({ op: 'subscribe', id: 2, topics: ['txs', 'mempool'] }), protocolError('unknown-topic', 2));
    assert.throws(() => op({ op: 'subscribe', id: 2, topics: [1] }), protocolError('unknown-topic', 2));
    // Inherited object keys are not topics.
    assert.throws(() => op({ op: 'subscribe', id: 3, topics: ['constructor'] }), protocolError('unknown-topic', 3));
    assert.throws(() => op({ op: 'unsubscribe', id: 4, topics: ['__proto__'] }), protocolError('unknown-topic', 4));
  });

  it('error: a filter on a subscription without the opportunities topic is bad-filter', () => {
    assert.throws(() => op({ op: 'subscribe', id: 5, topics: ['txs'], filter: { kinds: ['v2-sandwich'] } }), protocolError('bad-filter', 5));
  });
});

describe('parseFilter', () => {
  const bad: [string, unknown][] = [
    ['not an object', 'kinds'],
    ['an array', [{ kinds: ['v2-sandwich'] }]],
    ['an unknown field', { kind: ['v2-sandwich'] }],
    ['empty kinds', { kinds: [] }],
    ['kinds not an array', { kinds: 'v2-sandwich' }],
    ['an unknown kind', { kinds: ['v2-sandwich', 'liquidation'] }],
    ['minNetProfitWei as a number', { minNetProfitWei: 1000 }],
    ['negative minNetProfitWei', { minNetProfitWei: '-1' }],
    ['hex minNetProfitWei', { minNetProfitWei: '0x10' }],
    ['fractional minNetProfitWei', { minNetProfitWei: '1.5' }],
    ['minNetProfitWei with 79 digits', { minNetProfitWei: '1'.repeat(79) }],
    ['empty tokens', { tokens: [] }],
    ['a short address', { tokens: ['0x1234'] }],
    ['an address without 0x', { pools: [POOL_1.slice(2)] }],
    ['an address that is not a string', { pools: [1] }],
    ['more than 1000 addresses', { pools: Array.from({ length: 1001 }, () => POOL_1) }],
    ['includeRejected as a string', { includeRejected: 'true' }],
  ];
  for (const [what, v] of bad) {
    it(`error: ${what} is bad-filter with the op's id`, () => {
      assert.throws(() => parseFilter(v, 9), protocolError('bad-filter', 9));
      assert.throws(() => op({ op: 'subscribe', id: 9, topics: ['opportunities'], filter: v }), protocolError('bad-filter', 9));
    });
  }

  it('default: an empty filter passes every field', () => {
    assert.deepEqual(parseFilter({}), { kinds: null, minNetProfitWei: null, tokens: null, pools: null, includeRejected: false });
  });

  it('args: 78-digit minNetProfitWei and 1000 addresses are accepted', () => {
    const f = parseFilter({ minNetProfitWei: '9'.repeat(78), pools: Array.from({ length: 1000 }, () => POOL_1) });
    assert.equal(f.minNetProfitWei, 10n ** 78n - 1n);
    assert.equal(f.pools!.size, 1);
  });
});

describe('matches', () => {
  const verified = testOpportunity({ kind: 'backrun-arbitrage', netWei: 5n * 10n ** 15n });
  const sandwich = testOpportunity({ kind: 'v2-sandwich', netWei: 10n ** 15n, pools: [POOL_3], tokenPath: [WETH, TOKEN_B, WETH] });
  const unverified = testOpportunity({ kind: 'v2-arbitrage', verification: 'unverified', netWei: 2n * 10n ** 15n });
  const rejected = testOpportunity({ kind: 'backrun-arbitrage', verification: 'rejected', rejectReason: 'unprofitable', netWei: 9n * 10n ** 15n });
  const all = [verified, sandwich, unverified, rejected];
  const pick = (f: unknown) => all.filter((o) => matches(o, f === null ? null : parseFilter(f))).map((o) => o.id);

  it('default: no filter passes everything the verification did not reject', () => {
    assert.deepEqual(pick(null), [verified.id, sandwich.id, unverified.id]);
    assert.deepEqual(pick({}), [verified.id, sandwich.id, unverified.id]);
  });

  it('behavior: includeRejected adds the rejected ones', () => {
    assert.deepEqual(pick({ includeRejected: true }), all.map((o) => o.id));
    assert.deepEqual(pick({ includeRejected: false }), [verified.id, sandwich.id, unverified.id]);
  });

  it('behavior: kinds', () => {
    assert.deepEqual(pick({ kinds: ['backrun-arbitrage'] }), [verified.id]);
    assert.deepEqual(pick({ kinds: ['backrun-arbitrage'], includeRejected: true }), [verified.id, rejected.id]);
    assert.deepEqual(pick({ kinds: ['v2-sandwich', 'v2-arbitrage'] }), [sandwich.id, unverified.id]);
    assert.deepEqual(pick({ kinds: ['mixed-arbitrage'] }), []);
  });

  it('behavior: minNetProfitWei is inclusive', () => {
    assert.deepEqual(pick({ minNetProfitWei: '2000000000000000' }), [verified.id, unverified.id]);
    assert.deepEqual(pick({ minNetProfitWei: '2000000000000001' }), [verified.id]);
    assert.deepEqual(pick({ minNetProfitWei: '0' }), [verified.id, sandwich.id, unverified.id]);
  });

  it('behavior: tokens and pools match any listed address, in any case', () => {
    assert.deepEqual(pick({ tokens: [TOKEN_B] }), [sandwich.id]);
    assert.deepEqual(pick({ tokens: [TOKEN_B, TOKEN_A] }), [verified.id, sandwich.id, unverified.id]);
    assert.deepEqual(pick({ pools: [POOL_2] }), [verified.id, unverified.id]);
    assert.deepEqual(pick({ pools: [`0x${POOL_3.slice(2).toUpperCase()}`] }), [sandwich.id]);
    const mixedCase = testOpportunity({ pools: [`0x${'AB'.repeat(20)}`] });
    assert.equal(matches(mixedCase, parseFilter({ pools: [`0x${'ab'.repeat(20)}`] })), true);
  });

  it('behavior: every present field must hold', () => {
    assert.deepEqual(pick({ kinds: ['backrun-arbitrage', 'v2-arbitrage'], minNetProfitWei: '3000000000000000', pools: [POOL_1], includeRejected: true }), [verified.id, rejected.id]);
    assert.deepEqual(pick({ kinds: ['v2-sandwich'], pools: [POOL_1] }), []);
  });

  it('behavior: pending and unverified opportunities pass like verified ones', () => {
    const pending: Opportunity = testOpportunity({ verification: 'pending' });
    assert.equal(matches(pending, null), true);
    assert.equal(matches(pending, parseFilter({ kinds: ['backrun-arbitrage'] })), true);
  });

  it('behavior: the outcome of a pending opportunity always follows it, verified or rejected; rejected at once only with includeRejected', () => {
    const outcome: Opportunity = testOpportunity({ verification: 'rejected', rejectReason: 'stale', revision: 1 });
    const atOnce: Opportunity = testOpportunity({ verification: 'rejected', rejectReason: 'victim-nonce', revision: 0 });
    assert.equal(matches(outcome, null), true);
    assert.equal(matches(outcome, parseFilter({ kinds: ['backrun-arbitrage'] })), true);
    assert.equal(matches(outcome, parseFilter({ kinds: ['v2-sandwich'] })), false);
    assert.equal(matches(atOnce, null), false);
    assert.equal(matches(atOnce, parseFilter({ kinds: ['backrun-arbitrage'] })), false);
    assert.equal(matches(atOnce, parseFilter({ includeRejected: true })), true);
  });
});
