import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { type Hex, encodeFunctionData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { getAmountOut } from '../../src/actors/scorer/pools/v2-math.js';
import { controlBuffer, secretsBuffer } from '../../src/actors/submitter/control.js';
import type { LedgerEntry } from '../../src/actors/submitter/ledger.js';
import type { Submission } from '../../src/actors/submitter/submission.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { Engine, RESULTS_RING, stateRpcUrl } from '../../src/engine.js';
import { type BlockEvent, Kind } from '../../src/messages/schema.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import type { ConfigInput, EngineConfig } from '../../src/runtime/config.js';
import { testConfig } from './harness.js';
import type { PipelineSpec } from '../../src/runtime/supervisor.js';
import { stringifyBig } from './big-json.js';
import { GWEI, ROUTER02_ABI, nextBase, reserves, sendTx, waitUntil } from './chain.js';

/** Helpers of the submitter's end-to-end tests: an engine with its outputs collected, the ledger, plans and victims. */

/** A started engine and what it output. */
export class SubmitterRun {
  readonly submissions: Submission[] = [];
  readonly opportunities: Opportunity[] = [];
  /** Numbers of the BlockEvents that came out. */
  readonly blocks: number[] = [];

  private constructor(readonly engine: Engine) {
    engine.onOutput((m) => {
      if (m.kind === Kind.Submission) this.submissions.push(m.data as Submission);
      else if (m.kind === Kind.Opportunity) this.opportunities.push(m.data as Opportunity);
      else if (m.kind === Kind.BlockEvent) this.blocks.push((m.data as BlockEvent).number);
    });
  }

  /** Builds and starts an engine (its outputs collected from the first record). */
  static async start(config: EngineConfig, opts: ConstructorParameters<typeof Engine>[1] = {}): Promise<SubmitterRun> {
    const run = new SubmitterRun(new Engine(config, opts));
    await run.engine.start();
    return run;
  }

  /**
   * A {@link sourcePipeline} engine whose submitter uses the engine's own control buffer, so
   * `engine.control` (and a Gateway attached to the engine) reaches it.
   */
  static async startSource(config: EngineConfig, opts: { inbox: string; signerKey: Hex; chainId: number }): Promise<SubmitterRun> {
    const spec = sourcePipeline(config, opts);
    const run = new SubmitterRun(new Engine(config, { pipeline: spec }));
    // The supervisor reads a stage's shared memory when it spawns the thread, at start.
    spec.stages.find((st) => st.name === 'submitter')!.shared!.control = run.engine.control;
    await run.engine.start();
    return run;
  }

  /** The latest state of submission `id` so far, or undefined. */
  latest(id: string): Submission | undefined {
    for (let i = this.submissions.length - 1; i >= 0; i--) if (this.submissions[i]!.id === id) return this.submissions[i];
    return undefined;
  }

  /** Waits for a submission record matching `pred`. */
  waitSub(pred: (s: Submission) => boolean, what: string, ms = 30_000): Promise<Submission> {
    return waitUntil(
      () => this.submissions.find(pred),
      () => `no ${what}; submissions: ${this.submissions.map((s) => `${s.id.slice(0, 10)} ${s.status} ${s.route} ${s.reason}`).join(' | ') || 'none'}; submitter counters ${JSON.stringify(this.engine.stats().stages.submitter?.counters)}; output ${JSON.stringify(this.engine.stats().output)}; stages ${Object.entries(this.engine.stats().stages).map(([n, st]) => `${n} records=${st.records} dup=${st.duplicates} dead=${st.deadLetters} restarts=${st.restarts} ring=${JSON.stringify(st.ring)} ${JSON.stringify(st.counters)}`).join('; ')}; blocks out ${this.blocks.join(',')}; opportunities ${this.opportunities.map((o) => `${o.id.slice(0, 10)} ${o.kind} ${o.verification} r${o.revision}`).join(' | ')}`,
      ms,
    );
  }

  /** Waits for an opportunity matching `pred`. */
  waitOpp(pred: (o: Opportunity) => boolean, what: string, ms = 30_000): Promise<Opportunity> {
    return waitUntil(
      () => this.opportunities.find(pred),
      () => `no ${what}; scorer counters ${JSON.stringify(this.engine.stats().stages.scorer?.counters)}`,
      ms,
    );
  }

  /**
   * Waits until every opportunity around `victim` sent to verification has its outcome (revision
   * 1). Tests mine only then: a verification that finishes while the scorer syncs a new head can
   * take that head's BlockEvent out of the pipeline (see {@link verificationsDone}).
   */
  verificationsDone(victim: string, ms = 30_000): Promise<true> {
    return waitUntil(
      () => verificationsDone(this.opportunities, victim),
      () => `verifications around ${victim} still running: ${this.opportunities.map((o) => `${o.id.slice(0, 10)} ${o.kind} ${o.verification} r${o.revision}`).join(' | ')}`,
      ms,
    );
  }

  /** A counter of the submitter stage (they travel with its metrics snapshots). */
  counter(name: string): number {
    return this.engine.stats().stages.submitter?.counters[name] ?? 0;
  }

  private stopped: Promise<void> | null = null;

  /** Stops the engine gracefully (kills it if that fails); later calls wait for the same stop. */
  stop(): Promise<void> {
    this.stopped ??= this.engine.stop().catch(() => this.engine.kill());
    return this.stopped;
  }
}

/**
 * Whether every opportunity around `victim` that went to verification (revision 0 `pending`) has
 * its outcome (revision 1) among `opps`. Known race, in the scorer: its slot for a BlockEvent is
 * flushable while it awaits the head's sync, so a verification outcome emitted meanwhile flushes
 * the slot before the BlockEvent is pushed into it, and that head never reaches the submitter
 * (about 1 run in 30 here). Mining only once no verification is in flight sidesteps it.
 */
export function verificationsDone(opps: readonly Opportunity[], victim: string): boolean {
  const around = opps.filter((o) => o.victimHashes.includes(victim));
  return around.every((o) => o.revision !== 0 || o.verification !== 'pending' || around.some((x) => x.id === o.id && x.revision === 1));
}

/**
 * A two-stage pipeline: `test/support/opportunity-source.worker.ts` (the opportunities appended to
 * `inbox`, and the node's blocks) → the real submitter thread, signing with `signerKey`.
 */
export function sourcePipeline(config: EngineConfig, opts: { inbox: string; signerKey: Hex; chainId: number; control?: SharedArrayBuffer }): PipelineSpec {
  const rpcUrl = stateRpcUrl(config, config.submitter.rpcUrl)!;
  return {
    rings: { opportunities: config.ring.capacityBytes, [RESULTS_RING]: config.ring.capacityBytes },
    stages: [
      { name: 'source', worker: new URL('./opportunity-source.worker.js', import.meta.url), config: { rpcUrl, inbox: opts.inbox }, outputs: { out: 'opportunities' } },
      {
        name: 'submitter',
        worker: new URL('../../src/actors/submitter/submitter.worker.js', import.meta.url),
        config: { ...config.submitter, rpcUrl, chainId: opts.chainId, weth: config.scorer.weth.toLowerCase() },
        input: 'opportunities',
        outputs: { out: RESULTS_RING },
        shared: { secrets: secretsBuffer({ signer: Buffer.from(opts.signerKey.slice(2), 'hex') }), control: opts.control ?? controlBuffer() },
      },
    ],
  };
}

/** Appends opportunities to a {@link sourcePipeline} inbox; `late`: numbered as the scorer numbers verification outcomes. */
export function pushOpportunities(inbox: string, opps: readonly Opportunity[], opts: { late?: boolean } = {}): void {
  appendFileSync(inbox, opps.map((o) => `${stringifyBig(opts.late ? { ...o, late: true } : o)}\n`).join(''));
}

/**
 * A hand-built, verified opportunity whose plan is one searcher transaction: a WETH transfer of
 * `amount` wei to `to`. `pool` only keys the submitter's one-submission-per-pool rule.
 */
export async function transferOpportunity(net: Devnet, o: { tag: string; targetBlock: number; pool: string; to: string; amount?: bigint; tip?: bigint }): Promise<Opportunity> {
  const weth = net.deployment.weth.toLowerCase();
  const zero = { token: weth, gross: 0n, gasCost: 0n, net: 0n, grossWei: 0n, gasCostWei: 0n, netWei: 0n };
  return {
    id: `0x${createHash('sha256').update(o.tag).digest('hex')}`,
    kind: 'v2-arbitrage',
    victimHashes: [],
    targetBlock: o.targetBlock,
    pools: [o.pool.toLowerCase()],
    tokenPath: [weth, weth],
    amountIn: o.amount ?? 1n,
    profit: zero,
    plan: [{ kind: 'erc20-transfer', token: weth, to: o.to.toLowerCase(), amount: o.amount ?? 1n }],
    timings: { firstSeenNs: 0, scoredNs: 0, verifiedNs: 0 },
    verification: 'verified',
    simulatedNet: 0n,
    rejectReason: null,
    baseFee: await nextBase(net),
    gas: [{ gasUsed: 60_000n, gasLimit: 100_000n, priorityFee: o.tip ?? GWEI }],
    searcher: net.searcher,
    revision: 1,
  };
}

/** A 20-byte address derived from `tag` (pools and sinks of hand-built plans). */
export function addressOf(tag: string): string {
  return `0x${createHash('sha256').update(tag).digest('hex').slice(0, 40)}`;
}

/** Every line of the ledger, each checked to be one complete JSON object (the file ends with a newline). */
export function readLedger(path: string): LedgerEntry[] {
  const text = readFileSync(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the ledger ends with a complete line');
  return text
    .split('\n')
    .slice(0, -1)
    .map((line, i) => {
      try {
        return JSON.parse(line) as LedgerEntry;
      } catch (err) {
        assert.fail(`ledger line ${i + 1} does not parse: ${(err as Error).message}`);
      }
    });
}

/**
 * A WETH → token router swap on V2 venue `venue` from `key`, `1/fraction` of the pool's WETH, with
 * `slippagePct` tolerance on the quote. Returns its hash and the pair.
 */
export async function sendSwap(net: Devnet, o: { key: Hex; tokenIndex: number; slippagePct: bigint; fraction?: bigint; tip?: bigint; venue?: number }): Promise<{ hash: string; pair: string }> {
  const d = net.deployment;
  const weth = d.weth.toLowerCase();
  const venue = d.v2[o.venue ?? 0]!;
  const plain = d.tokens.filter((t) => !t.feeOnTransfer);
  const token = plain[o.tokenIndex % plain.length]!.address.toLowerCase();
  const pair = venue.pairs.find((p) => [p.token0.toLowerCase(), p.token1.toLowerCase()].sort().join() === [weth, token].sort().join())!;
  const [r0, r1] = await reserves(net, pair.address);
  const [rWeth, rTok] = pair.token0.toLowerCase() === weth ? [r0, r1] : [r1, r0];
  const amountIn = rWeth / (o.fraction ?? 50n);
  const quote = getAmountOut(amountIn, rWeth, rTok)!;
  const to = privateKeyToAccount(o.key).address;
  const data = encodeFunctionData({ abi: ROUTER02_ABI, functionName: 'swapExactTokensForTokens', args: [amountIn, (quote * (100n - o.slippagePct)) / 100n, [weth as Hex, token as Hex], to, 0xffffffffn] });
  const hash = await sendTx(net, o.key, { to: venue.router, data, gas: 300_000n, tip: o.tip ?? 2n * GWEI });
  return { hash: hash.toLowerCase(), pair: pair.address.toLowerCase() };
}

/**
 * The devnet's engine config with `submitter` over a guard that never pauses (the tests' losses and
 * reverts are deliberate) and supervision that tolerates a loaded machine. `lenientBreaker`: no
 * breaker trips either, for tests whose point is repeated refusals (the breaker has its own tests).
 */
export function devnetSubmitterConfig(net: Devnet, submitter: ConfigInput['submitter'], opts: { lenientBreaker?: boolean } = {}): EngineConfig {
  return testConfig({
    ...devnetEngineConfig(net),
    supervisor: { hangTimeoutMs: 10_000, bootstrapTimeoutMs: 30_000, metricsIntervalMs: 50 },
    submitter: {
      guard: { maxLossWei: String(10n ** 21n), maxRevertRate: 1, minOutcomes: 1000, windowMs: 3_600_000 },
      ...(opts.lenientBreaker ? { breaker: { failureThreshold: 1000, errorRate: 1, minRequests: 1000, windowMs: 600_000, cooldownMs: 600_000 } } : {}),
      ...submitter,
    },
  });
}
