import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Hex, encodeFunctionData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import { Engine, livePipeline } from '../../src/engine.js';
import type { Message } from '../../src/messages/envelope.js';
import { Kind, type SimulatedTx, createPackr } from '../../src/messages/schema.js';
import type { ConfigInput } from '../../src/runtime/config.js';
import { GWEI, ROUTER02_ABI, balances, ingestLive, mineChecked, reserves, sendPlan, sendTx, waitUntil } from '../support/chain.js';
import { testConfig } from '../support/harness.js';

/**
 * The simulator stage on a real anvil (automine off): transactions the decoder cannot classify go
 * through the EVM pool and come out as `SimulatedTx`, whose pool effects the scorer turns into
 * backruns; a dead state node is counted, not fatal; and the output is the same with one EVM thread
 * or two.
 */

let net: Devnet;
let dir: string;

before(async () => {
  net = await startDevnet({ blockTime: 0, automine: false });
  dir = mkdtempSync(join(tmpdir(), 'orion-sim-'));
});

after(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The devnet config with the decoder knowing only the first V2 venue's router: swaps on the second are unclassified. */
function config(over: ConfigInput = {}) {
  const base = devnetEngineConfig(net);
  const routers = base.decoder!.routers!.filter((r) => r.address !== net.deployment.v2[1]!.router.toLowerCase());
  return testConfig({
    ...base,
    ...over,
    decoder: { ...base.decoder, routers },
    simulator: { ...base.simulator, ...over.simulator },
    scorer: { ...base.scorer, ...over.scorer },
    supervisor: { hangTimeoutMs: 10_000, bootstrapTimeoutMs: 30_000, metricsIntervalMs: 50 },
  });
}

async function startEngine(c: ReturnType<typeof config>, until: 'simulator' | 'submitter'): Promise<{ engine: Engine; out: Message[] }> {
  const engine = new Engine(c, { pipeline: livePipeline(c, { until }) });
  const out: Message[] = [];
  engine.onOutput((m) => out.push(m));
  await engine.start();
  return { engine, out };
}


/** A WETH → token swap through the second venue's router (unknown to the decoder), 2% of its pool. */
async function sendUnknownRouterSwap(tokenIndex: number): Promise<{ hash: string; pair: string }> {
  const d = net.deployment;
  const weth = d.weth.toLowerCase();
  const venue = d.v2[1]!;
  // The second venue lists WETH pairs of the first three plain tokens.
  const token = d.tokens.filter((t) => !t.feeOnTransfer)[tokenIndex % 3]!.address.toLowerCase();
  const pair = venue.pairs.find((p) => [p.token0.toLowerCase(), p.token1.toLowerCase()].includes(token) && [p.token0.toLowerCase(), p.token1.toLowerCase()].includes(weth))!;
  const [r0, r1] = await reserves(net, pair.address);
  const [rWeth, rTok] = pair.token0.toLowerCase() === weth ? [r0, r1] : [r1, r0];
  const amountIn = rWeth / 50n;
  const quote = getAmountOut(amountIn, rWeth, rTok)!;
  const key = net.traderKeys[2]!;
  const data = encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, quote, [weth as Hex, token as Hex], privateKeyToAccount(key).address, 0xffffffffn] });
  const hash = await sendTx(net, key, { to: venue.router, data, gas: 300_000n, tip: 2n * GWEI });
  return { hash: hash.toLowerCase(), pair: pair.address.toLowerCase() };
}

describe('simulator stage against anvil', () => {
  it('behavior: an unclassified swap is simulated on the head state; its pool effects match the chain and its backrun realizes the predicted profit to the wei', async () => {
    const { engine, out } = await startEngine(config(), 'submitter');
    try {
      await ingestLive(net, engine);
      const victim = await sendUnknownRouterSwap(2);
      const opp = await waitUntil(
        () => out.map((m) => m.data as Opportunity).find((o) => m(o) && o.kind === 'backrun-arbitrage' && o.victimHashes[0] === victim.hash && o.verification !== 'pending'),
        () => `no backrun for ${victim.hash}; simulator ${JSON.stringify(engine.stats().stages.simulator?.counters)} scorer ${JSON.stringify(engine.stats().stages.scorer?.counters)}`,
      );
      assert.equal(opp.verification, 'verified', `verification: ${opp.rejectReason}`);
      assert.ok(opp.pools.includes(victim.pair), 'the cycle goes through the pool the EVM saw the victim move');
      const sim = engine.stats().stages.simulator!.counters;
      assert.ok((sim['evm.success'] ?? 0) >= 1, `the swap went through the EVM: ${JSON.stringify(sim)}`);
      const before = await balances(net, net.searcher);
      const sent = await sendPlan(net, opp);
      const order = await mineChecked(net);
      const at = [victim.hash, ...sent.map((h) => h.toLowerCase())].map((h) => order.indexOf(h));
      assert.ok(at.every((i) => i >= 0) && at.every((v, i) => i === 0 || v > at[i - 1]!), `victim then plan, in order: ${at}`);
      const afterB = await balances(net, net.searcher);
      assert.equal(afterB.weth - before.weth + (afterB.eth - before.eth), opp.profit.net, 'realized = predicted net, to the wei');
    } finally {
      await engine.stop();
    }
  });

  it('behavior: SimulatedTx reports the pool reserves before and after and the sender\'s token changes, equal to the chain', async () => {
    const { engine, out } = await startEngine(config(), 'simulator');
    try {
      await ingestLive(net, engine);
      const victim = await sendUnknownRouterSwap(3);
      const sim = await waitUntil(
        () => out.filter((m) => m.kind === Kind.SimulatedTx).map((m) => m.data as SimulatedTx).find((s) => s.tx.hash === victim.hash),
        () => `no SimulatedTx for ${victim.hash}: ${JSON.stringify(engine.stats().stages.simulator?.counters)}`,
      );
      assert.equal(sim.status, 'success');
      const before = await reserves(net, victim.pair);
      const touch = sim.pools.find((p) => p.address === victim.pair);
      assert.ok(touch, `pool ${victim.pair} among ${sim.pools.map((p) => p.address)}`);
      assert.equal(touch.protocol, 'uniswap-v2');
      assert.deepEqual(touch.before, before, 'reserves before = the head state');
      await mineChecked(net);
      const r = await rpc<{ gasUsed: Hex }>(net.anvil.rpcUrl, 'eth_getTransactionReceipt', [victim.hash]);
      assert.equal(sim.gasUsed, BigInt(r.gasUsed), 'gas used = the receipt');
      assert.deepEqual(touch.after, await reserves(net, victim.pair), 'reserves after = the chain after mining');
      const weth = sim.balanceChanges.find((b) => b.token === net.deployment.weth.toLowerCase());
      assert.ok(weth && weth.delta < 0n, 'the sender paid WETH');
    } finally {
      await engine.stop();
    }
  });

  it('error-path: a state node that refuses connections is counted per tx and skipped; the engine keeps running', async () => {
    const c = config({ simulator: { rpcUrl: 'http://127.0.0.1:9' } });
    const { engine } = await startEngine(c, 'simulator');
    try {
      await ingestLive(net, engine);
      await sendUnknownRouterSwap(0);
      const counters = await waitUntil(
        () => {
          const s = engine.stats().stages.simulator?.counters;
          return s && (s['state.STATE_TRANSPORT'] ?? 0) > 0 ? s : undefined;
        },
        () => `no state error counted: ${JSON.stringify(engine.stats().stages.simulator?.counters)}`,
      );
      assert.equal(counters['evm.success'] ?? 0, 0);
      assert.equal(engine.stats().stages.simulator!.restarts, 0, 'nothing crashed');
      assert.equal(engine.error(), null);
    } finally {
      await engine.stop();
      await rpc(net.anvil.rpcUrl, 'evm_mine', []);
    }
  });

  it('determinism: the same captured input gives byte-identical SimulatedTx and Opportunity output with 1 and 2 EVM threads', async () => {
    // Record: pending traffic on one head, through the whole engine, captured at ingest.
    const capture = join(dir, 'capture');
    // No age-based shedding or verification caps: they depend on timing, and this compares runs at
    // different speeds.
    const live = config({ ingest: { ...devnetEngineConfig(net).ingest, record: { dir: capture, segmentBytes: 1 << 20, retainBytes: 0 } }, simulator: { maxAgeMs: 0 }, scorer: { verifyMaxQueue: 0, verifyPerBlock: 0 } });
    const rec = await startEngine(live, 'submitter');
    try {
      await ingestLive(net, rec.engine);
      for (let i = 0; i < 4; i++) await sendUnknownRouterSwap(i % 4);
      const traffic = net.traffic({ rate: 100, count: 60, seed: 7 });
      await traffic.done;
      await waitUntil(() => (rec.engine.stats().stages.ingest?.counters['unique.txs'] ?? 0) >= 64, () => 'ingest fell short');
    } finally {
      await rec.engine.stop();
    }
    const replay = async (threads: number) => {
      const c = config({
        ingest: { sources: [{ kind: 'capture', name: 'replay', path: capture, speed: 'max' }] },
        simulator: { threads, maxAgeMs: 0 },
        scorer: { verifyThreads: threads, verifyMaxQueue: 0, verifyPerBlock: 0 },
      });
      const r = await startEngine(c, 'submitter');
      await waitUntil(() => (r.engine.stats().stages.ingest?.counters['unique.txs'] ?? 0) >= 64, () => 'replay stalled');
      await new Promise((res) => setTimeout(res, 300));
      await r.engine.stop();
      return canonical(r.out);
    };
    const one = await replay(1);
    const two = await replay(2);
    assert.ok(one.count > 0, 'the capture produced opportunities');
    assert.equal(two.digest, one.digest, 'same bytes with 1 and 2 threads');
    const again = await replay(1);
    assert.equal(again.digest, one.digest, 'same bytes on a second run');
    // The live run saw the same input; its outputs equal the replays'.
    assert.equal(canonical(rec.out).digest, one.digest, 'the live run and its replay agree');
  });
});

/**
 * Opportunities and simulations in output order with their timestamps zeroed, packed, hashed. A
 * verification outcome (revision 1) goes out whenever its EVM run ends, so outcomes are taken in id
 * order after the rest.
 */
function canonical(out: Message[]): { digest: string; count: number } {
  const packr = createPackr();
  const parts: Buffer[] = [];
  const outcomes: Opportunity[] = [];
  let count = 0;
  for (const msg of out) {
    if (msg.kind === Kind.Opportunity) {
      const o = structuredClone(msg.data as Opportunity);
      o.timings = { firstSeenNs: 0, scoredNs: 0, verifiedNs: 0 };
      if (o.revision > 0) outcomes.push(o);
      else parts.push(packr.pack(o));
      count++;
    } else if (msg.kind === Kind.SimulatedTx) {
      const s = structuredClone(msg.data as SimulatedTx);
      s.simulatedNs = 0;
      s.tx.firstSeenNs = 0;
      parts.push(packr.pack(s));
    }
  }
  for (const o of outcomes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) parts.push(packr.pack(o));
  return { digest: createHash('sha256').update(Buffer.concat(parts)).digest('hex'), count };
}

function m(o: unknown): o is Opportunity {
  return o !== null && typeof o === 'object' && 'kind' in o && 'plan' in o;
}
