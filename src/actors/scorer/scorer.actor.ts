import type { Message } from '../../messages/envelope.js';
import { type BlockEvent, type DecodedTx, Kind, type SimulatedTx } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { monoNs } from '../../runtime/clock.js';
import { recordNs } from '../../runtime/metrics.js';
import { EvmPool } from '../simulator/evm-pool.js';
import { resolveHardfork } from '../simulator/hardfork.js';
import type { EvmEnv, VerifyOutcome, VerifyStep } from '../simulator/evm-task.js';
import { type Opportunity, WETH_PRICE, makeProfit } from './opportunity.js';
import { encodeStep } from './plan-calls.js';
import { OrderedOutput, type OutputSlot } from '../ordered-output.js';
import { ChainReadError, ChainReader, PoolSync } from './pools/pool-sync.js';
import { V2PoolRegistry } from './pools/v2-pool-registry.js';
import { V3PoolRegistry } from './pools/v3-pool-registry.js';
import { ScoringCore, gasCostWei } from './score-tx.js';
import type { ScorerConfig } from './scorer-config.js';

/** The scorer's slice as the engine hands it: URL and chain id resolved. */
export interface ScorerSlice extends ScorerConfig {
  rpcUrl: string;
  chainId: number;
  /** `config.deterministic`: outcomes in scoring order, heads after every earlier outcome, pool upkeep at heads. */
  deterministic?: boolean;
}

/** Gas limit a searcher step gets in the verification run (its use is measured, not assumed). */
const VERIFY_GAS_LIMIT = 1_500_000n;


interface Verification {
  /** Revision 1 of a `pending` opportunity: a copy the verification fills in, emitted when it ends. */
  opp: Opportunity;
  victims: Map<string, DecodedTx>;
  head: BlockEvent;
  /** The victims' nonce check, started when the plan is queued so it overlaps the wait. */
  gap: Promise<string | null>;
  /** Deterministic mode: its outcome is known and waits for the earlier ones to go out. */
  ended?: boolean;
}

/**
 * The scorer stage. Keeps registries of Uniswap V2 pairs and V3 pools current from the node
 * (discovery at start, each block's logs in band with the block event, reconciles and V3
 * re-reads), scores every swap the simulator
 * forwards (fast path) and every `SimulatedTx` that moved known pools with the closed-form
 * strategies, and, with a searcher configured, verifies each opportunity as a bundle in the EVM
 * (simulator workers) before it goes out: the measured gas replaces the estimates, and a plan
 * whose measured gain differs from the prediction is rejected.
 *
 * Outputs (`Opportunity`, and block events passed through) leave in input order; the input is
 * committed once a batch's outputs are out. Skips count `skip.<reason>`, node failures
 * `chain.<code>`, verification results `verify.<status>`.
 */
export class Scorer implements Actor {
  readonly io = true;
  private readonly registry = new V2PoolRegistry();
  /** V3 pools, when V3 factories are configured; `v3Routers` maps each to its factory's SwapRouter. */
  private readonly v3: V3PoolRegistry | null;
  private readonly v3Routers = new Map<string, string>();
  private readonly core: ScoringCore;
  private readonly sync: PoolSync;
  private readonly pool: EvmPool | null;
  private env: EvmEnv;
  private readonly out: OrderedOutput;
  private readonly weth: string;
  private readonly waiting: Verification[] = [];
  private running = 0;
  /** Waiters for every queued and running verification to end (graceful stop). */
  private readonly onIdle: (() => void)[] = [];
  /** Victims' senders' nonces on the head `noncesAt`, read before verifying. */
  private readonly nonces = new Map<string, bigint>();
  private noncesAt = -1;
  /** A background reconcile is running. */
  private checking = false;
  /** Target block of the verifications being counted against `verifyPerBlock`, and their count. */
  private verifyBlock = -1;
  private verifyCount = 0;
  private head: BlockEvent | null = null;
  private readonly toDiscover = new Set<string>();
  /** Pools already looked up once (registered or not a pair of a configured factory). */
  private readonly discoveryTried = new Set<string>();
  private discovering = false;
  private readonly h;
  /** `config.deterministic` (see {@link EngineConfig.deterministic}). */
  private readonly det: boolean;
  /** Deterministic mode: verifications in scoring order, until their outcome goes out. */
  private readonly inOrder: Verification[] = [];

  constructor(private readonly ctx: ActorContext<ScorerSlice>) {
    const c = ctx.config;
    this.out = new OrderedOutput(ctx);
    this.weth = c.weth.toLowerCase();
    this.v3 = c.v3Factories.length > 0 ? new V3PoolRegistry() : null;
    this.core = new ScoringCore(this.registry, c, this.v3, this.v3Routers);
    const v3 = this.v3 === null ? null : { registry: this.v3, factories: c.v3Factories, routers: this.v3Routers, wordsAround: c.v3WordsAround };
    this.sync = new PoolSync(new ChainReader(c.rpcUrl), this.registry, c.v2Factories, c.reconcilePerBlock, v3);
    this.det = c.deterministic === true;
    this.env = { rpcUrl: c.rpcUrl, chainId: c.chainId, hardfork: c.hardfork, deterministic: this.det };
    this.pool = c.verify && c.searcher !== null ? new EvmPool(c.verifyThreads > 0 ? c.verifyThreads : 1) : null;
    const m = ctx.metrics;
    this.h = {
      scored: m.histogram('firstSeenToScored'),
      verified: m.histogram('firstSeenToVerified'),
      score: m.histogram('scoreTime'),
      verify: m.histogram('verifyTime'),
      headSync: m.histogram('headSyncTime'),
    };
  }

  async onStart(): Promise<void> {
    const c = this.ctx.config;
    if (this.pool !== null) this.env = { ...this.env, hardfork: await resolveHardfork(this.env.hardfork, this.env.rpcUrl, this.ctx.log) };
    const latest = Number(await this.sync.reader.call<string>('eth_blockNumber', []));
    const added = await this.sync.discover(c.discoverFromBlock, latest, c.v2Pairs);
    this.ctx.metrics.count('pools.discovered', added);
    this.ctx.log.info('pool registry ready', { pools: this.registry.size, v3Pools: this.v3?.size ?? 0, block: latest, verify: this.pool !== null, searcher: c.searcher });
  }

  async onBatch(msgs: Message[]): Promise<void> {
    if (this.out.error() !== null) throw this.out.error();
    const m = this.ctx.metrics;
    for (const msg of msgs) {
      // Replay: a head goes out after the outcome of every verification scored before it, so what
      // follows (the submitter's choices per block) sees the same order whatever the timing.
      if (this.det && msg.kind === Kind.BlockEvent) await this.idle();
      const e = this.out.open(msg.seq, msg.firstSeenNs);
      if (msg.kind === Kind.BlockEvent) {
        const head = msg.data as BlockEvent;
        // Held open while the head syncs: a verification ending meanwhile flushes, and an empty
        // slot would go out (and be dropped) before its block event is in it.
        e.open++;
        try {
          await this.onHead(head);
        } finally {
          e.records.push([Kind.BlockEvent, head, msg.sub]);
          e.open--;
        }
      } else if (msg.kind === Kind.DecodedTx) this.score(e, msg.data as DecodedTx, null);
      else if (msg.kind === Kind.SimulatedTx) {
        const sim = msg.data as SimulatedTx;
        this.score(e, sim.tx, sim);
      } else m.countKeyed('skip.kind', String(msg.kind));
      // Each opportunity goes out (and its verification starts) as soon as it is scored, not when
      // the batch ends: a batch of a few hundred records takes tens of milliseconds to score.
      this.startVerifications();
      this.flush();
    }
    if (!this.det) this.discoverPools();
  }

  /** Resolves when no verification is queued or running. */
  private async idle(): Promise<void> {
    if (this.running > 0 || this.waiting.length > 0) await new Promise<void>((res) => this.onIdle.push(res));
  }

  private async onHead(head: BlockEvent): Promise<void> {
    const m = this.ctx.metrics;
    this.head = head;
    this.pool?.warm(this.env, head);
    // Queued verifications target a block that is now the head: they can no longer land.
    if (!this.det) for (const v of this.waiting.splice(0)) this.finishVerification(v, 'rejected', 'stale');
    const t0 = monoNs();
    try {
      const { report: r, moved } = await this.sync.applyHead(head);
      recordNs(this.h.headSync, monoNs() - t0);
      m.count('pools.synced', r.synced);
      m.count('pools.created', r.created);
      if (this.v3 !== null) {
        m.count('pools.v3.synced', r.v3Synced);
        m.count('pools.v3.created', r.v3Created);
      }
      if (head.reorg) m.count('reorgs');
      if (this.det) {
        // Replay: pools the last block's transactions named, and the reconcile, at this head.
        await this.discoverPoolsNow(head.number);
        await this.checkNow(head, moved);
      } else this.checkInBackground(head, moved);
    } catch (err) {
      if (!(err instanceof ChainReadError)) throw err;
      m.countKeyed('chain', err.code);
      this.ctx.log.warn('pool sync failed; keeping the last state', { block: head.number, error: err.message });
    }
  }

  /** Reconcile and V3 refresh of a head, off the scoring path; one at a time (a reorg's always runs). */
  private checkInBackground(head: BlockEvent, moved: Set<string>): void {
    const m = this.ctx.metrics;
    if (this.checking && !head.reorg) {
      m.count('pools.check-skipped');
      return;
    }
    this.checking = true;
    this.checkNow(head, moved)
      .catch((err: unknown) => {
        if (err instanceof ChainReadError) m.countKeyed('chain', err.code);
        else this.fail(err);
      })
      .finally(() => {
        this.checking = false;
      });
  }

  /** The reconcile and V3 refresh of a head, counted; in band in deterministic mode, else via {@link checkInBackground}. */
  private async checkNow(head: BlockEvent, moved: Set<string>): Promise<void> {
    const m = this.ctx.metrics;
    const c = await this.sync.checkHead(head, moved);
    m.count('pools.drift', c.drift);
    m.count('pools.reconciled', c.reconciled);
    if (this.v3 !== null) m.count('pools.v3.refreshed', c.v3Refreshed);
  }

  private score(e: OutputSlot, tx: DecodedTx, sim: SimulatedTx | null): void {
    const m = this.ctx.metrics;
    const t0 = monoNs();
    const r = this.core.score(tx, sim, this.head, t0);
    const t1 = monoNs();
    recordNs(this.h.score, t1 - t0);
    for (const p of r.unknownPools) if (!this.discoveryTried.has(p)) this.toDiscover.add(p);
    if (r.skip !== null) {
      m.countKeyed('skip', r.skip);
      return;
    }
    recordNs(this.h.scored, t1 - tx.firstSeenNs);
    for (const opp of r.opportunities) {
      m.countKeyed('opportunity', opp.kind);
      e.records.push([Kind.Opportunity, opp, e.records.length]);
      if (this.pool !== null) {
        // The victim's sender nonce on this head is already known and differs: rejected at once,
        // without taking a verification slot. Only when slots are capped: whether the nonce is known
        // yet depends on timing, and without caps the verification finds the same gap before any EVM
        // run, so the output stays the same from run to run.
        const victims = new Map([[tx.hash, tx]]);
        const capped = !this.det && (this.ctx.config.verifyPerBlock > 0 || this.ctx.config.verifyMaxQueue > 0);
        const gap = capped && this.noncesAt === this.head!.number ? this.knownNonceGap(opp, victims) : null;
        if (gap !== null) {
          this.reject(opp, gap);
          continue;
        }
        const cap = this.ctx.config.verifyPerBlock;
        if (opp.targetBlock !== this.verifyBlock) {
          this.verifyBlock = opp.targetBlock;
          this.verifyCount = 0;
        }
        if (cap > 0 && this.verifyCount >= cap) {
          m.count('verify.skipped');
          continue;
        }
        // A verification queued behind a full queue would finish too late to matter.
        const qmax = this.ctx.config.verifyMaxQueue;
        if (qmax > 0 && !this.det && this.waiting.length >= qmax) {
          m.count('verify.skipped-busy');
          continue;
        }
        this.verifyCount++;
        // Revision 0 goes out now as `pending`; nothing waits for the verification, whose outcome
        // follows as revision 1 (a copy, so the record already queued is never changed under it).
        opp.verification = 'pending';
        const head = this.head!;
        const upd: Opportunity = { ...opp, revision: 1, timings: { ...opp.timings }, gas: opp.gas.map((g) => (g === null ? null : { ...g })) };
        const v: Verification = { opp: upd, victims, head, gap: this.nonceGap(upd, victims, head) };
        v.gap.catch(() => {}); // awaited at dispatch; a rejection there is the stage failing
        this.waiting.push(v);
        if (this.det) this.inOrder.push(v);
      }
    }
  }

  private startVerifications(): void {
    const pool = this.pool;
    if (pool === null) return;
    while (this.running < pool.threads && this.waiting.length > 0) {
      const v = this.waiting.shift()!;
      this.running++;
      const t0 = monoNs();
      const task = this.verifyTask(v);
      (task === null ? Promise.resolve(null) : v.gap.then((gap): Promise<VerifyOutcome | string> | string => (gap === null ? pool.verify(task) : gap)))
        .then(
          (r) => {
            recordNs(this.h.verify, monoNs() - t0);
            if (typeof r === 'string') this.finishVerification(v, 'rejected', r);
            else this.applyVerification(v, r);
          },
          (err: unknown) => this.fail(err),
        )
        .finally(() => {
          this.running--;
          this.startVerifications();
          this.flush();
          if (this.running === 0 && this.waiting.length === 0) for (const done of this.onIdle.splice(0)) done();
        });
    }
  }

  private verifyTask(v: Verification) {
    const { opp, head } = v;
    const searcher = opp.searcher!;
    const steps: VerifyStep[] = [];
    for (let i = 0; i < opp.plan.length; i++) {
      const s = opp.plan[i]!;
      if (s.kind === 'victim') {
        const tx = v.victims.get(s.hash);
        if (tx === undefined) return null;
        steps.push({ victim: tx });
        continue;
      }
      const call = encodeStep(s, { searcher })!;
      const g = opp.gas[i]!;
      steps.push({ call: { from: searcher, to: call.to, data: call.data, value: call.value, gas: VERIFY_GAS_LIMIT, maxFeePerGas: opp.baseFee + g.priorityFee, maxPriorityFeePerGas: g.priorityFee } });
    }
    return { op: 'verify' as const, env: this.env, head, steps, searcher, token: opp.profit.token };
  }

  /**
   * Why a victim of `opp` cannot run first in the target block (its nonce is not its sender's nonce
   * on `head`: an earlier transaction of the sender is pending), or null. One batched nonce read per
   * head and sender, so such plans are rejected without an EVM run; if the read fails, the EVM decides.
   */
  private async nonceGap(opp: Opportunity, victims: ReadonlyMap<string, DecodedTx>, head: BlockEvent): Promise<string | null> {
    if (this.noncesAt !== head.number) {
      this.noncesAt = head.number;
      this.nonces.clear();
    }
    const missing = [...new Set([...victims.values()].map((t) => t.from).filter((a) => !this.nonces.has(a)))];
    if (missing.length > 0) {
      try {
        const tag = `0x${head.number.toString(16)}`;
        const res = await this.sync.reader.batch(missing.map((a) => ['eth_getTransactionCount', [a, tag]] as const));
        res.forEach((r, i) => {
          if ('result' in r && typeof r.result === 'string') this.nonces.set(missing[i]!, BigInt(r.result));
        });
      } catch (err) {
        if (!(err instanceof ChainReadError)) throw err;
        this.ctx.metrics.countKeyed('chain', err.code);
      }
    }
    return this.knownNonceGap(opp, victims);
  }

  /** {@link nonceGap} from the nonces already read for the current head; unknown senders pass. */
  private knownNonceGap(opp: Opportunity, victims: ReadonlyMap<string, DecodedTx>): string | null {
    for (let i = 0; i < opp.plan.length; i++) {
      const s = opp.plan[i]!;
      if (s.kind !== 'victim') continue;
      const tx = victims.get(s.hash);
      const n = tx === undefined ? undefined : this.nonces.get(tx.from);
      if (tx !== undefined && n !== undefined && n !== tx.nonce) return `victim-nonce:${i}:sender nonce ${n} on the head, tx nonce ${tx.nonce}`;
    }
    return null;
  }

  /** Measured gas replaces the estimates; the plan is verified when every step succeeds and the measured gain is the predicted one. */
  private applyVerification(v: Verification, r: VerifyOutcome | null): void {
    const { opp } = v;
    const m = this.ctx.metrics;
    if (r === null) return this.finishVerification(v, 'rejected', 'victim-missing');
    if (!r.ok) {
      m.countKeyed('state', r.code);
      return this.finishVerification(v, 'rejected', `state:${r.code}`);
    }
    const bad = r.txs.findIndex((t) => t.status !== 'success');
    if (bad >= 0) {
      const t = r.txs[bad]!;
      // A victim the head state cannot run first (most often a nonce gap: its sender has earlier
      // transactions pending) is not a fault of the plan.
      const who = opp.plan[bad]?.kind === 'victim' ? 'victim-' : '';
      return this.finishVerification(v, 'rejected', `${who}${t.status}:${bad}:${t.revertReason ?? t.error ?? ''}`);
    }
    const headroom = BigInt(100 + this.ctx.config.gas.limitHeadroomPct);
    for (let i = 0; i < opp.gas.length; i++) {
      const g = opp.gas[i];
      if (g === null || g === undefined) continue;
      g.gasUsed = r.txs[i]!.gasUsed;
      g.gasLimit = (g.gasUsed * headroom + 99n) / 100n;
    }
    const inWeth = opp.profit.token === this.weth;
    const price = inWeth ? WETH_PRICE : (this.core.priceOf(opp.profit.token) ?? WETH_PRICE);
    const gasWei = gasCostWei(opp);
    opp.profit = makeProfit(opp.profit.token, opp.profit.gross, gasWei, price);
    // Measured in the EVM: the token gained, less the ether paid for gas (in the token's units).
    const ethPaid = -r.ethDelta;
    opp.simulatedNet = r.tokenDelta - (inWeth ? ethPaid : opp.profit.gasCost);
    if (ethPaid !== gasWei) return this.finishVerification(v, 'rejected', `gas-mismatch:paid ${ethPaid}:expected ${gasWei}`);
    if (r.tokenDelta !== opp.profit.gross) return this.finishVerification(v, 'rejected', 'gross-mismatch');
    if (opp.profit.netWei < BigInt(this.ctx.config.minNetProfitWei)) return this.finishVerification(v, 'rejected', 'unprofitable');
    this.finishVerification(v, 'verified', null);
  }

  private finishVerification(v: Verification, status: 'verified' | 'rejected', reason: string | null): void {
    if (status === 'rejected') this.reject(v.opp, reason!);
    else {
      const now = monoNs();
      v.opp.verification = 'verified';
      v.opp.rejectReason = null;
      v.opp.timings.verifiedNs = now;
      this.ctx.metrics.countKeyed('verify', 'verified');
      recordNs(this.h.verified, now - v.opp.timings.firstSeenNs);
    }
    if (!this.det) return this.out.late(Kind.Opportunity, v.opp, v.opp.timings.firstSeenNs);
    // Replay: outcomes go out in the order their opportunities were scored.
    v.ended = true;
    while (this.inOrder.length > 0 && this.inOrder[0]!.ended === true) {
      const done = this.inOrder.shift()!;
      this.out.late(Kind.Opportunity, done.opp, done.opp.timings.firstSeenNs);
    }
  }

  /** Marks `opp` rejected with `reason` and counts `verify.rejected.<reason's first word>`. */
  private reject(opp: Opportunity, reason: string): void {
    opp.verification = 'rejected';
    opp.rejectReason = reason;
    opp.timings.verifiedNs = monoNs();
    this.ctx.metrics.countKeyed('verify', `rejected.${reason.split(':')[0]}`);
  }

  private fail(err: unknown): void {
    this.out.fail(err);
  }

  private flush(): void {
    this.out.flush();
  }

  /** {@link discoverPools} in band at a head (deterministic mode): every pool named since the last head. */
  private async discoverPoolsNow(block: number): Promise<void> {
    while (this.toDiscover.size > 0) await this.discoverBatch(block);
  }

  /** Looks up (at `block`) up to 256 of the pools transactions named that the registry did not hold. */
  private async discoverBatch(block: number): Promise<void> {
    const list = [...this.toDiscover].slice(0, 256);
    for (const a of list) {
      this.toDiscover.delete(a);
      this.discoveryTried.add(a);
    }
    this.ctx.metrics.count('pools.discovered', await this.sync.addPairs(list, block, false));
    await this.sync.reconcile(list, block);
    // What is not a V2 pair of a configured factory may be a V3 pool of one.
    const rest = this.v3 === null ? [] : list.filter((a) => this.registry.get(a) === undefined && this.v3!.get(a) === undefined);
    if (rest.length > 0) this.ctx.metrics.count('pools.v3.discovered', await this.sync.discoverV3(rest, block));
  }

  /** Registers pools transactions named that the registry did not hold, in the background; later transactions see them. */
  private discoverPools(): void {
    if (this.discovering || this.toDiscover.size === 0 || this.head === null) return;
    this.discovering = true;
    this.discoverBatch(this.head.number)
      .catch((err: unknown) => {
        if (err instanceof ChainReadError) this.ctx.metrics.countKeyed('chain', err.code);
        else this.fail(err);
      })
      .finally(() => {
        this.discovering = false;
      });
  }

  settled(): Promise<void> | null {
    return this.out.settled();
  }

  async onStop(): Promise<void> {
    // Outcomes of verifications still queued or running go out before the stage stops.
    if (this.running > 0 || this.waiting.length > 0) await new Promise<void>((res) => this.onIdle.push(res));
    await this.out.drain();
    await this.pool?.close();
  }
}
