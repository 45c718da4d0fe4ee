import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ADDRESS_THIS,
  ADDRESS_ZERO,
  type CallContext,
  MAX_POOLS_PER_CALL,
  MSG_SENDER,
  createLeg,
  kindBit,
  redirectRouterOutput,
  resolveRecipient,
  selectorNumber,
  spendsEth,
  v2Pools,
  v3Pools,
} from '../../../../src/actors/decoder/calldata/call-context.js';
import { RouterRegistry } from '../../../../src/actors/decoder/calldata/router-registry.js';
import { type SwapIntent, createPackr, createUnpackr } from '../../../../src/messages/schema.js';
import { SENDER, USDC, USER, WETH } from '../../../support/mainnet.js';

const ROUTER = '0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45';
const registry = new RouterRegistry();

function context(overrides: Partial<CallContext> = {}): CallContext {
  return { router: ROUTER, entry: registry.get(ROUTER), value: 0n, sender: SENDER, deadline: null, kind: 'v3-swaprouter02', legs: [], poolsLeft: MAX_POOLS_PER_CALL, ...overrides };
}

describe('call-context', () => {
  it('default', () => {
    const leg = createLeg('uniswap-v3', 'in', [USDC, WETH], [500], ['0xpool'], USER, 5n);
    // One field order for every leg: the schema's shared msgpackr structure.
    assert.deepEqual(Object.keys(leg), [
      'protocol', 'exact', 'path', 'fees', 'pools', 'amountIn', 'amountInMax', 'amountOut', 'amountOutMin',
      'recipient', 'deadline', 'ethIn', 'ethOut', 'feeOnTransfer',
    ]);
    const intent: SwapIntent = { router: ROUTER, kind: 'v3-swaprouter02', method: 'exactInputSingle', legs: [leg] };
    assert.deepEqual(createUnpackr().unpack(createPackr().pack(intent)), intent);
  });

  it('behavior: recipient sentinels depend on the contract family', () => {
    const ctx = context();
    assert.equal(resolveRecipient(ADDRESS_ZERO, 'v3-swaprouter', ctx), ROUTER);
    assert.equal(resolveRecipient(MSG_SENDER, 'v3-swaprouter', ctx), MSG_SENDER);
    for (const family of ['v3-swaprouter02', 'universal-router'] as const) {
      assert.equal(resolveRecipient(MSG_SENDER, family, ctx), SENDER);
      assert.equal(resolveRecipient(MSG_SENDER, family, context({ sender: null })), null);
      assert.equal(resolveRecipient(ADDRESS_THIS, family, ctx), ROUTER);
      assert.equal(resolveRecipient(ADDRESS_ZERO, family, ctx), ADDRESS_ZERO);
    }
    assert.equal(resolveRecipient(ADDRESS_ZERO, 'v2-router02', ctx), ADDRESS_ZERO);
    assert.equal(resolveRecipient(USER, 'universal-router', ctx), USER);
  });

  it('behavior: redirectRouterOutput moves only legs held by the router with the given last token', () => {
    const ctx = context();
    ctx.legs.push(
      createLeg('uniswap-v3', 'in', [USDC, WETH], [500], [], ROUTER, null),
      createLeg('uniswap-v3', 'in', [WETH, USDC], [500], [], ROUTER, null),
      createLeg('uniswap-v3', 'in', [USDC, WETH], [500], [], USER, null),
      createLeg('uniswap-v2', 'out', [], [], ['0xpair'], ROUTER, null),
    );
    redirectRouterOutput(ctx, WETH, SENDER, true);
    assert.deepEqual(ctx.legs.map((l) => [l.recipient, l.ethOut]), [[SENDER, true], [ROUTER, false], [USER, false], [ROUTER, false]]);
    redirectRouterOutput(ctx, null, USER, false);
    assert.deepEqual(ctx.legs.map((l) => l.recipient), [SENDER, USER, USER, ROUTER]);
  });

  it('behavior: spendsEth needs value, and the WETH input when the router’s WETH is known', () => {
    assert.equal(spendsEth(context(), WETH), false);
    assert.equal(spendsEth(context({ value: 1n }), WETH), true);
    assert.equal(spendsEth(context({ value: 1n }), USDC), false);
    assert.equal(spendsEth(context({ value: 1n, entry: undefined }), USDC), true);
  });

  it('behavior: pools need a known factory', () => {
    assert.deepEqual(v2Pools(context(), [USDC, WETH]), ['0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc']);
    assert.deepEqual(v3Pools(context(), [USDC, WETH], [500]), ['0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640']);
    assert.deepEqual(v2Pools(context({ entry: undefined }), [USDC, WETH]), []);
    assert.deepEqual(v3Pools(context({ entry: registry.get('0x7a250d5630b4cf539739df2c5dacb4c659f2488d') }), [USDC, WETH], [500]), []);
  });

  it('behavior: pool derivation stops at the per-call budget, a whole leg at a time', () => {
    const ctx = context({ poolsLeft: 3 });
    assert.equal(v3Pools(ctx, [USDC, WETH, USDC], [500, 3000]).length, 2);
    assert.equal(ctx.poolsLeft, 1);
    assert.deepEqual(v2Pools(ctx, [USDC, WETH, USDC]), []);
    assert.equal(v2Pools(ctx, [USDC, WETH]).length, 1);
    assert.deepEqual(v2Pools(ctx, [USDC, WETH]), []);
    assert.equal(ctx.poolsLeft, 0);
  });

  it('args: selectorNumber and kindBit', () => {
    assert.equal(selectorNumber('0xac9650d8'), 0xac9650d8);
    assert.equal(selectorNumber('0x022c0d9f00000000'), 0x022c0d9f);
    const bits = (['v2-router02', 'v3-swaprouter', 'v3-swaprouter02', 'universal-router', 'v2-pair'] as const).map(kindBit);
    assert.equal(new Set(bits).size, 5);
    assert.equal(bits.reduce((a, b) => a | b, 0), 31);
  });
});
