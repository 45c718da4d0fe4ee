import { randomBytes } from 'node:crypto';
import { parseTransaction } from 'viem';
import type { Message } from '../../messages/envelope.js';
import { type BlockEvent, Kind } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { monoNs } from '../../runtime/clock.js';
import { recordNs } from '../../runtime/metrics.js';
import { LATE_SUB_BASE, OrderedOutput } from '../ordered-output.js';
import type { Opportunity } from '../scorer/opportunity.js';
import { ChainReadError, ChainReader } from '../scorer/pools/pool-sync.js';
import { CircuitBreaker, SubmissionGuard } from './circuit-breaker.js';
import { BREAKER_ROUTES, BREAKER_STATES, CONTROL, PAUSE_SOURCES, readSecrets, takeCancels } from './control.js';
import { nextBaseFee } from '../base-fee.js';
import { type Fees, replacementFees } from './fee-bump.js';
import { Ledger } from './ledger.js';
import { NonceError, NonceManager } from './nonce-manager.js';
import { type PrepareDeps, type PreparedSubmission, type SkippedSubmission, prepareSubmission, uuidOf } from './prepare.js';
import { FlashbotsRoute } from './routes/flashbots.js';
import { MevBlockerRoute } from './routes/mev-blocker.js';
import { PrivateRpcRoute } from './routes/private-rpc.js';
import { PublicRoute } from './routes/public.js';
import { isUnknownOutcome } from './routes/rpc-client.js';
import { NativeSigner } from './signer.js';
import type { Submission, SubmissionStatus } from './submission.js';
import { DEFAULT_SUBMITTER_CONFIG, type SubmitterConfig } from './submitter-config.js';
import { type AttemptOutcome, type DropReason, type QueueEntry, TxQueue, retryableFailure } from './tx-queue.js';
import type { Hex, Route, RouteName, RouteOutcome, Sendable, SignedTx } from './types.js';

/** The submitter's slice: its config with the state node and chain id resolved. */
export type SubmitterSlice = SubmitterConfig & { rpcUrl: string; chainId: number; weth: string };

/** keccak256("Transfer(address,address,uint256)") */
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

/** Gas of a cancellation (a plain 0-value transfer to ourselves). */
const CANCEL_GAS = 21_000n;
/** Tip of a cancellation when the fees of what it replaces are unknown (a ledger from before they were recorded). */
const FALLBACK_TIP = 2_000_000_000n;

/** One version of our transactions: the first signed, or a fee-bumped replacement. */
interface Variant {
  ours: SignedTx[];
  /** Every transaction of the bundle with these of ours, in order. */
  txHashes: string[];
}

/** A cancellation on its way: what was sent at our nonces, and when. */
interface Cancelling {
  /** The 0-value self-transfers a route took (transaction routes); empty for a bundle. */
  txs: SignedTx[];
  fees: Fees[];
  /** Head number when it was (last) sent. */
  sentAt: number;
  /** Re-sends with higher fees so far. */
  bumps: number;
  by: 'window' | 'operator';
  /** Why the submission is being cancelled (the reason of its outcome). */
  reason: string;
}

/** A sent submission waiting for its block. */
interface Tracked {
  sub: Submission;
  /** Null after a restart (the ledger keeps no plan). */
  opp: Opportunity | null;
  /** Our transactions in force (the latest version). */
  ours: SignedTx[];
  /** Last block it can land in. */
  lastBlock: number;
  /** Ether our transactions send (coinbase payment), counted against the realized profit. */
  valueWei: bigint;
  /** The prepared bundle (null after a restart: nothing can be re-signed but a cancellation). */
  prep: PreparedSubmission | null;
  /** Fees of each of ours in force; null when unknown (a ledger from before they were recorded). */
  fees: Fees[] | null;
  /** Head number when it was (last) sent; -1: not known yet (resumed), set at the next check. */
  sentAt: number;
  /** Fee-bumped replacements tried. */
  bumps: number;
  /** Earlier versions, newest first: any of them may be the one mined. */
  prior: Variant[];
  cancel: Cancelling | null;
}

/** A live submission waiting in, or running from, the send queue. */
interface Queued {
  opp: Opportunity;
  /** Built and signed by the first attempt; the ledger has its submission entry from then on. */
  prep: PreparedSubmission | null;
  /** Every route failure so far, `attempt n: route: error`. */
  tried: string[];
  /** Routes that refused for good (not retryable): later attempts skip them. */
  exclude: Set<RouteName>;
  /** The operator asked to cancel it while an attempt was running. */
  cancelAsked: boolean;
  /** The retry re-signed our transactions with other nonces: the next send entry lists them. */
  resigned: boolean;
}

interface RpcBlock {
  number: string;
  transactions: string[];
}

interface RpcReceipt {
  transactionHash: string;
  status: string;
  gasUsed: string;
  effectiveGasPrice: string;
  blockNumber: string;
  logs: { address: string; topics: string[]; data: string }[];
}

/**
 * The submitter (issue 6): for each verified opportunity, builds the bundle, signs our transactions
 * with nonces from the {@link NonceManager}, picks a route, sends with fallbacks behind per-route
 * circuit breakers, and on every block checks what landed: included (all its transactions in one
 * block, in order) with the realized profit from our receipts, reverted, missed or replaced. Every
 * step is appended to the {@link Ledger} before it is reported, and reported downstream as a
 * `Submission` record; every input record is forwarded unchanged.
 *
 * Live sends go through the {@link TxQueue}: best expected profit first, a bounded number at once,
 * stale ones dropped, and retries with backoff when every route failed retryably. A sent
 * submission not included after `replacement.afterBlocks` blocks is re-sent at the same nonces
 * with bumped fees while its window lasts and the bump pays; once its window has passed, a
 * transaction route's transactions are cancelled (0-value self-transfers at the same nonces) so
 * the nonces are freed. The operator can cancel a queued or pending submission (`op=cancel`).
 *
 * Without a signing key (or in `dry-run` mode) bundles are built and recorded, never sent. A restart
 * reloads the ledger's pending submissions and resolves them from the chain.
 */
export class Submitter implements Actor {
  readonly io = true;
  private readonly out: OrderedOutput;
  private readonly c: SubmitterSlice;
  private readonly reader: ChainReader;
  private readonly signer: NativeSigner | null;
  private readonly nonces: NonceManager;
  private readonly routes = new Map<RouteName, Route>();
  private readonly breakers = new Map<RouteName, CircuitBreaker>();
  private readonly guard: SubmissionGuard;
  private ledger: Ledger | null = null;
  private readonly tracked = new Map<string, Tracked>();
  /** Included submissions of recent blocks, for reorgs. */
  private readonly landed: { block: number; t: Tracked }[] = [];
  private readonly seen = new Set<string>();
  /** Pools each target block's submissions trade through. */
  private readonly claimed = new Map<number, Set<string>>();
  private readonly deps: PrepareDeps;
  private readonly queue: TxQueue<Queued>;
  private head: BlockEvent | null = null;
  private readonly control: Int32Array | null;
  private controlSeen = [0, 0, 0];
  /** Cancel requests taken from the control mailbox so far. */
  private cancelsTaken = 0;
  private controlTimer: NodeJS.Timeout | null = null;
  /** Work in flight (sends, block checks), awaited on stop. */
  private readonly inflight = new Set<Promise<void>>();
  /** Block checks, replacements and cancellations of tracked submissions, one at a time. */
  private checking: Promise<void> = Promise.resolve();
  private readonly toSigned;
  private readonly live: boolean;
  /** A record went out under its input's id: late ones have an id to follow (see onBatch). */
  private forwarded = false;

  constructor(private readonly ctx: ActorContext<SubmitterSlice>) {
    // Slices built before the queue and replacement settings existed get their defaults.
    const d = DEFAULT_SUBMITTER_CONFIG;
    this.c = { ...d, ...ctx.config, queue: { ...d.queue, ...ctx.config.queue }, replacement: { ...d.replacement, ...ctx.config.replacement } };
    this.out = new OrderedOutput(ctx);
    this.reader = new ChainReader(this.c.rpcUrl);
    const secrets = readSecrets(ctx.shared.secrets);
    this.signer = secrets.signer === null ? null : NativeSigner.fromBytes(secrets.signer);
    secrets.signer?.fill(0);
    const auth = NativeSigner.fromBytes(secrets.relayAuth ?? randomBytes(32));
    secrets.relayAuth?.fill(0);
    this.live = this.signer !== null && this.c.mode === 'auto';
    this.nonces = new NonceManager({ nonceAt: async (account, tag) => BigInt(await this.reader.call<string>('eth_getTransactionCount', [account, tag])) });
    const t = this.c.requestTimeoutMs;
    if (this.c.relays.length > 0) this.routes.set('flashbots', new FlashbotsRoute({ relays: this.c.relays, authSigner: auth, timeoutMs: t }));
    if (this.c.mevBlockerUrl !== null) this.routes.set('mev-blocker', new MevBlockerRoute({ url: this.c.mevBlockerUrl, name: 'mev-blocker', timeoutMs: t }));
    if (this.c.privateRpc !== null) this.routes.set('private-rpc', new PrivateRpcRoute({ url: this.c.privateRpc.url, name: 'private-rpc', method: this.c.privateRpc.method, timeoutMs: t }));
    if (this.c.allowPublic) this.routes.set('public', new PublicRoute({ url: this.c.publicRpcUrl ?? this.c.rpcUrl, name: 'public', timeoutMs: t }));
    const b = this.c.breaker;
    for (const name of this.routes.keys()) this.breakers.set(name, new CircuitBreaker({ failureThreshold: b.failureThreshold, errorRate: b.errorRate, minRequests: b.minRequests, windowMs: b.windowMs, cooldownMs: b.cooldownMs }));
    const g = this.c.guard;
    this.guard = new SubmissionGuard({ maxLossWei: BigInt(g.maxLossWei), maxRevertRate: g.maxRevertRate, minOutcomes: g.minOutcomes, windowMs: g.windowMs });
    this.control = ctx.shared.control ? new Int32Array(ctx.shared.control) : null;
    this.toSigned = ctx.metrics.histogram('readyToSigned');
    this.deps = { config: this.c, routes: new Set(this.routes.keys()), claimed: this.claimed, nonces: this.nonces, signer: this.signer };
    const q = this.c.queue;
    this.queue = new TxQueue<Queued>({
      concurrency: q.concurrency,
      maxAttempts: q.maxAttempts,
      backoffMs: q.backoffMs,
      maxBackoffMs: q.maxBackoffMs,
      jitter: q.jitter,
      seed: q.seed,
      run: (e) => {
        const p = this.attempt(e);
        this.track(p.then(() => undefined));
        return p;
      },
      onDrop: (e, why) => this.dropped(e, why),
      onChange: () => this.publishQueue(),
    });
  }

  async onStart(): Promise<void> {
    this.ledger = Ledger.open(this.c.ledgerPath);
    const report = this.ledger.openReport();
    if (report.tornTail !== null) this.ctx.log.warn('ledger: truncated a torn last line (a crash mid-write)', { path: report.path, ...report.tornTail });
    if (this.control) {
      for (let i = 0; i < 3; i++) this.controlSeen[i] = Atomics.load(this.control, i);
      // Cancel requests a previous incarnation had not taken are honoured: the ledger's pending
      // submissions are tracked again below, before the first poll.
      this.cancelsTaken = Atomics.load(this.control, CONTROL.CANCEL_TAKEN);
      Atomics.store(this.control, CONTROL.LIVE, this.live ? 1 : 0);
      this.publishQueue();
      this.controlTimer = setInterval(() => this.pollControl(), 100);
      this.controlTimer.unref();
    }
    // Submissions a previous run sent and never resolved: track them again from the chain.
    let resumed = 0;
    for (const r of this.ledger.pending()) {
      if (r.type !== 'submission') continue;
      const e = r.entry;
      this.seen.add(e.id);
      const sub: Submission = {
        id: e.id,
        kind: e.kind as Submission['kind'],
        status: 'sent',
        // The route that took it (after any fallback), not the first one tried.
        route: r.route,
        protected: r.route !== 'public',
        account: e.account,
        txHashes: e.txHashes,
        nonces: e.nonces.map(BigInt),
        targetBlock: e.targetBlock,
        predictedNetWei: BigInt(e.predictedNetWei),
        realizedNetWei: null,
        gasPaidWei: null,
        block: null,
        reason: 'resumed after a restart',
        timings: { firstSeenNs: 0, signedNs: 0, sentNs: 0 },
      };
      const ours = e.ours.map((i, k) => ({ raw: '0x' as Hex, hash: e.txHashes[i] as Hex, from: e.account, nonce: BigInt(e.nonces[k] ?? '0') }));
      const feesOf = (max: readonly string[] | undefined, tip: readonly string[] | undefined): Fees[] | null =>
        max === undefined || tip === undefined ? null : max.map((m, k) => ({ maxFeePerGas: BigInt(m), maxPriorityFeePerGas: BigInt(tip[k]!) }));
      const c = r.cancel;
      const cancel: Cancelling | null =
        c === null
          ? null
          : {
              txs: c.txHashes.map((h, k) => ({ raw: '0x' as Hex, hash: h, from: e.account, nonce: BigInt(c.nonces[k]!) })),
              fees: feesOf(c.maxFeePerGas, c.maxPriorityFeePerGas) ?? [],
              sentAt: -1,
              bumps: 0,
              by: c.by,
              reason: `cancelled (${c.by}) before a restart`,
            };
      // Its transactions (or the cancellation at their nonces) may still land: new submissions must not reuse their nonces.
      const live = cancel !== null && cancel.txs.length > 0 ? cancel.txs : ours;
      for (const o of live) {
        try {
          this.nonces.adopt(e.account, o.nonce, { txHash: o.hash, route: r.route });
        } catch (err) {
          if (!(err instanceof NonceError)) throw err;
          this.ctx.log.warn('ledger: two pending submissions share a nonce', { id: e.id, nonce: String(o.nonce), error: err.shortMessage });
        }
      }
      this.tracked.set(e.id, {
        sub,
        opp: null,
        ours,
        lastBlock: e.targetBlock + this.c.targetBlocks - 1,
        valueWei: 0n,
        prep: null,
        fees: feesOf(e.maxFeePerGas, e.maxPriorityFeePerGas),
        sentAt: -1,
        bumps: 0,
        prior: [],
        cancel,
      });
      resumed++;
    }
    this.ctx.log.info('submitter ready', {
      mode: this.live ? 'live' : 'dry-run',
      account: this.signer?.address ?? null,
      signer: this.signer === null ? null : this.signer.backend,
      routes: [...this.routes.keys()],
      strategy: this.c.strategy,
      ledger: this.c.ledgerPath,
      resumed,
    });
  }

  onBatch(msgs: Message[]): void {
    if (this.out.error() !== null) throw this.out.error();
    for (const msg of msgs) {
      // The scorer numbers its late records (verification outcomes) consecutively: (seq, 32768),
      // (seq, 32769)… Forwarded under those ids, a Submission emitted between two of them has no
      // free id: it went out under an id already used and the main thread dropped it as a
      // duplicate. So they go out as late records of ours, numbered after whatever we emitted.
      if (msg.sub >= LATE_SUB_BASE && this.forwarded) this.out.late(msg.kind, msg.data, msg.firstSeenNs);
      else {
        this.out.open(msg.seq, msg.firstSeenNs).records.push([msg.kind, msg.data, msg.sub]);
        this.forwarded = true;
      }
      if (msg.kind === Kind.BlockEvent) {
        // What arrived before this head starts against the previous one, as it would have unqueued.
        this.queue.pump();
        this.onHead(msg.data as BlockEvent);
      } else if (msg.kind === Kind.Opportunity) this.onOpportunity(msg.data as Opportunity);
      this.out.flush();
    }
    // Queued in this batch: the best go first.
    this.queue.pump();
  }

  settled(): Promise<void> | null {
    return this.out.settled();
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => this.out.fail(err)).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** Runs `fn` after the block checks and tracked-submission changes before it, and tracks it. */
  private serial(fn: () => Promise<void>): void {
    this.checking = this.checking.then(fn);
    this.track(this.checking);
  }

  // ---- opportunities -------------------------------------------------------------------------

  private onOpportunity(opp: Opportunity): void {
    const m = this.ctx.metrics;
    const eligible = opp.verification === 'verified' || (this.c.submitUnverified && opp.verification === 'unverified');
    if (!eligible) {
      if (opp.verification !== 'pending') m.countKeyed('skip', opp.verification);
      return;
    }
    if (this.seen.has(opp.id)) return m.count('skip.duplicate');
    this.seen.add(opp.id);
    if (this.seen.size > 100_000) this.seen.delete(this.seen.values().next().value!);
    if (this.head !== null && opp.targetBlock <= this.head.number) return this.skip(opp, this.staleReason(opp.targetBlock));
    const paused = this.guard.paused();
    if (paused !== null) return this.skip(opp, `paused by ${paused.by}: ${paused.reason}`);
    if (!this.live) {
      // Nothing is sent, so nothing queues; without a key it is done within this turn.
      const r = this.dryRun(opp);
      if (r !== undefined) this.track(r);
      return;
    }
    this.queue.push(opp.id, opp.profit.netWei, opp.targetBlock, { opp, prep: null, tried: [], exclude: new Set(), cancelAsked: false, resigned: false });
    m.count('queue.queued');
  }

  private staleReason(targetBlock: number): string {
    return `stale: target block ${targetBlock} is not after the head ${this.head?.number ?? '?'}`;
  }

  private skip(opp: Opportunity, reason: string): void {
    this.ctx.metrics.countKeyed('skip', reason.split(':')[0]!);
    this.emit(this.record(opp, 'skipped', { reason }));
  }

  private record(opp: Opportunity, status: SubmissionStatus, f: Partial<Submission> = {}): Submission {
    return {
      id: opp.id,
      kind: opp.kind,
      status,
      route: null,
      protected: false,
      account: opp.searcher,
      txHashes: [],
      nonces: [],
      targetBlock: opp.targetBlock,
      predictedNetWei: opp.profit.netWei,
      realizedNetWei: null,
      gasPaidWei: null,
      block: null,
      reason: null,
      timings: { firstSeenNs: opp.timings.firstSeenNs, signedNs: 0, sentNs: 0 },
      ...f,
    };
  }

  private emit(s: Submission): void {
    this.ctx.metrics.countKeyed('submission', s.status);
    this.out.late(Kind.Submission, s, s.timings.firstSeenNs);
    this.out.flush();
  }

  /**
   * Builds and signs `opp`'s bundle, and records it in the ledger; null when it is skipped.
   * Synchronous without a key (nothing to wait for), else a promise.
   */
  private prepare(opp: Opportunity): PreparedSubmission | null | Promise<PreparedSubmission | null> {
    const r = prepareSubmission(this.deps, opp);
    return r instanceof Promise ? r.then((p) => this.recordPrepared(opp, p)) : this.recordPrepared(opp, r);
  }

  private recordPrepared(opp: Opportunity, p: PreparedSubmission | SkippedSubmission): PreparedSubmission | null {
    if ('skip' in p) {
      this.skip(opp, p.skip);
      return null;
    }
    // Scored (or, when verified, verified) → signed bundle ready to send.
    recordNs(this.toSigned, p.base.timings.signedNs - (opp.timings.verifiedNs || opp.timings.scoredNs));
    const route = p.chain[0] ?? 'dry-run';
    const prot = route !== 'public';
    const fees = opp.gas.reduce((n, g) => n + (g === null ? 0n : g.gasUsed * (opp.baseFee + g.priorityFee)), 0n) + p.plan.builderPaymentWei;
    const ourFees = feesOfPlan(p);
    this.ledger!.append({
      type: 'submission',
      id: opp.id,
      oppId: opp.id,
      kind: opp.kind,
      route: this.live ? route : 'dry-run',
      protected: prot,
      dryRun: !this.live || p.chain.length === 0,
      account: p.account,
      nonces: p.nonces,
      txHashes: p.sendable.txHashes,
      ours: p.sendable.ours,
      targetBlock: opp.targetBlock,
      predictedNetWei: p.plan.predictedNetWei,
      feesWei: fees,
      mevAvoidedWei: prot ? opp.profit.grossWei : 0n,
      ...(p.nonces.length > 0 ? { maxFeePerGas: ourFees.map((f) => f.maxFeePerGas), maxPriorityFeePerGas: ourFees.map((f) => f.maxPriorityFeePerGas) } : {}),
    });
    return p;
  }

  /** Built, signed and recorded, never sent (no key, dry-run mode, or no route configured). */
  private dryRun(opp: Opportunity, prepared?: PreparedSubmission): Promise<void> | undefined {
    const r = prepared ?? this.prepare(opp);
    if (r instanceof Promise) return r.then((p) => this.dryRunDone(p));
    this.dryRunDone(r);
    return undefined;
  }

  private dryRunDone(p: PreparedSubmission | null): void {
    if (p === null) return;
    if (p.nonces.length > 0) this.nonces.release(p.account, p.nonces);
    this.emit({ ...p.base, status: 'dry-run', reason: this.live ? 'no route configured' : this.signer === null ? 'no signing key' : 'dry-run mode' });
  }

  // ---- the send queue ------------------------------------------------------------------------

  /** One attempt of a queued submission: built and signed the first time, then sent down its route chain. */
  private async attempt(e: QueueEntry<Queued>): Promise<AttemptOutcome> {
    const q = e.value;
    const opp = q.opp;
    const paused = this.guard.paused();
    if (paused !== null) {
      if (q.prep === null) this.skip(opp, `paused by ${paused.by}: ${paused.reason}`);
      else this.failed(q, `paused by ${paused.by}: ${paused.reason} (before attempt ${e.attempt}); ${q.tried.join('; ')}`);
      return 'done';
    }
    if (q.prep === null) {
      let p: PreparedSubmission | null;
      try {
        p = await this.prepare(opp);
      } catch (err) {
        // The account's first nonce read failed: nothing was recorded; the pools it claimed are
        // given back so the retry can claim them again.
        if (!(err instanceof ChainReadError)) throw err;
        for (const pool of opp.pools) this.claimed.get(opp.targetBlock)?.delete(pool.toLowerCase());
        this.ctx.metrics.countKeyed('chain', err.code);
        q.tried.push(`attempt ${e.attempt}: nonce read: ${err.message}`);
        this.ctx.metrics.count('queue.retry');
        return { retry: `nonce read: ${err.message}` };
      }
      if (p === null) return 'done';
      if (p.chain.length === 0) {
        this.dryRunDone(p);
        return 'done';
      }
      q.prep = p;
    } else {
      // A retry: the nonces were given back when the last attempt failed; take the lowest free
      // ones again and re-sign where they differ.
      const p = q.prep;
      const fresh = await this.nonces.reserve(p.account, p.signed.length);
      for (let k = 0; k < p.signed.length; k++) {
        if (fresh[k] === p.nonces[k]) continue;
        const tx = this.resign(p.signed[k]!, fresh[k]!);
        const i = p.sendable.ours[k]!;
        p.signed[k] = tx;
        p.nonces[k] = tx.nonce;
        p.sendable.rawTxs[i] = tx.raw;
        p.sendable.txHashes[i] = tx.hash;
        q.resigned = true;
      }
    }
    const r = await this.sendChain(q, e.attempt);
    if (r === 'sent') {
      if (q.cancelAsked) this.serial(() => this.cancelTracked(opp.id, 'operator'));
      return 'done';
    }
    if (q.cancelAsked) {
      this.cancelledUnsent(q, 'cancelled by the operator while it was being sent');
      return 'done';
    }
    if (r.retry) {
      this.ctx.metrics.count('queue.retry');
      return { retry: r.reason };
    }
    this.failed(q, q.tried.join('; ') || 'no route');
    return 'done';
  }

  /** A queued submission left the queue without another attempt. */
  private dropped(e: QueueEntry<Queued>, why: DropReason): void {
    const q = e.value;
    const m = this.ctx.metrics;
    switch (why) {
      case 'stale':
        m.count('queue.stale');
        if (q.prep === null) this.skip(q.opp, this.staleReason(q.opp.targetBlock));
        else this.failed(q, `${this.staleReason(q.opp.targetBlock)} before attempt ${e.attempt + 1}; ${q.tried.join('; ')}`);
        return;
      case 'exhausted':
        m.count('queue.exhausted');
        this.failed(q, `${q.tried.join('; ')} (${e.attempt} attempts)`);
        return;
      case 'cancelled':
        this.cancelledUnsent(q, 'cancelled by the operator before it was sent');
        return;
      case 'stopped':
        if (q.prep === null) this.skip(q.opp, 'stopped: the submitter stopped before it was sent');
        else this.failed(q, `stopped before attempt ${e.attempt + 1}; ${q.tried.join('; ')}`);
        return;
    }
  }

  /** Every route refused it, for good or after its retries (or it was never built: the nonce read kept failing). */
  private failed(q: Queued, reason: string): void {
    const p = q.prep;
    this.emit(p === null ? this.record(q.opp, 'failed', { reason }) : { ...p.base, status: 'failed', route: null, reason });
  }

  /** Withdrawn before any route took it: nothing to undo on the chain. */
  private cancelledUnsent(q: Queued, reason: string): void {
    this.ctx.metrics.count('queue.cancelled');
    const p = q.prep;
    if (p === null) {
      this.emit(this.record(q.opp, 'cancelled', { reason }));
      return;
    }
    this.ledger!.append({ type: 'cancel', id: p.opp.id, route: p.chain[0]!, by: 'operator', ok: true, definite: true, txHashes: [], nonces: p.nonces });
    this.emit({ ...p.base, status: 'cancelled', route: null, reason });
  }

  /**
   * Sends a prepared submission down its route chain. `sent` when a route took it (or may have);
   * otherwise its nonces are given back and `retry` says whether a route failed retryably.
   */
  private async sendChain(q: Queued, attempt: number): Promise<'sent' | { retry: boolean; reason: string }> {
    const m = this.ctx.metrics;
    const p = q.prep!;
    const { opp, account, signed, nonces, sendable } = p;
    const ledger = this.ledger!;
    const tried: string[] = [];
    let retry = false;
    for (const r of p.chain) {
      if (q.exclude.has(r)) continue;
      const breaker = this.breakers.get(r)!;
      if (!breaker.allow()) {
        tried.push(`${r}: breaker open`);
        m.countKeyed('route.breaker-open', r);
        continue;
      }
      const outcome = await this.sendOn(r, sendable, account, signed, nonces);
      const err = outcome.results.find((x) => x.error !== null)?.error;
      // Re-signed with other nonces (a retry's, or after `nonce too low/high`): the ledger names what this attempt carried.
      const resigned = outcome.resigned || q.resigned ? { txHashes: sendable.txHashes, nonces } : {};
      q.resigned = false;
      ledger.append({ type: 'send', id: opp.id, route: r, ok: outcome.ok, definite: outcome.definite, ...resigned, ...(err ? { error: `${err.kind}: ${err.message}`.slice(0, 200) } : {}) });
      if (outcome.ok) {
        breaker.success();
        m.countKeyed('route.ok', r);
        const fellBack = tried.length > 0 ? `fell back after ${tried.join('; ')}` : null;
        this.sent(p, r, attempt > 1 ? `sent on attempt ${attempt} after ${q.tried.join('; ')}${fellBack === null ? '' : `; ${fellBack}`}` : fellBack);
        return 'sent';
      }
      breaker.failure();
      m.countKeyed('route.failed', r);
      tried.push(`${r}: ${err ? `${err.kind} ${err.message}` : 'refused'}`);
      if (!outcome.definite || outcome.results.some((x) => x.ok)) {
        // It may have been taken (an unknown answer), or part of it was (a transaction route that
        // took the first of our transactions): the same nonces must not go out on another route.
        this.sent(p, r, `outcome unknown (${tried.join('; ')}); not sent elsewhere`);
        return 'sent';
      }
      if (retryableFailure(err ?? null, outcome.definite)) retry = true;
      else q.exclude.add(r);
    }
    this.nonces.release(account, nonces);
    const reason = tried.join('; ') || 'no route';
    q.tried.push(`${q.tried.length > 0 || retry ? `attempt ${attempt}: ` : ''}${reason}`);
    return { retry, reason };
  }

  /** A route took (or may have taken) the submission: its nonces are live there and it is tracked. */
  private sent(p: PreparedSubmission, r: RouteName, reason: string | null): void {
    for (const tx of p.signed) this.nonces.bind(p.account, tx.nonce, { txHash: tx.hash, route: r });
    const sub: Submission = { ...p.base, txHashes: [...p.sendable.txHashes], nonces: [...p.nonces], status: 'sent', route: r, protected: r !== 'public', reason, timings: { ...p.base.timings, sentNs: monoNs() } };
    this.tracked.set(p.opp.id, {
      sub,
      opp: p.opp,
      ours: [...p.signed],
      lastBlock: p.opp.targetBlock + this.c.targetBlocks - 1,
      valueWei: p.valueWei,
      prep: p,
      fees: feesOfPlan(p),
      sentAt: this.head?.number ?? p.opp.targetBlock - 1,
      bumps: 0,
      prior: [],
      cancel: null,
    });
    this.emit(sub);
  }

  /**
   * One route; a `nonce too low/high` answer resyncs the nonces and re-signs once, updating
   * `signed`, `nonces` and the sendable in place (`resigned` says so).
   */
  private async sendOn(r: RouteName, s: Sendable, account: string, signed: SignedTx[], nonces: bigint[]): Promise<RouteOutcome & { resigned?: true }> {
    const route = this.routes.get(r)!;
    if (this.c.callBundle && route instanceof FlashbotsRoute) {
      // Simulated at the relay first: a bundle that would revert there is refused before it is sent.
      const sim = await route.callBundle(s, 'latest');
      const bad = sim.ok ? sim.result.results.find((x) => x.error !== undefined || x.revert !== undefined) : null;
      if (!sim.ok || bad) {
        this.ctx.metrics.count('route.call-bundle-refused');
        const message = sim.ok ? `eth_callBundle: ${bad!.txHash} ${bad!.error ?? ''} ${bad!.revert ?? ''}`.trim() : `eth_callBundle: ${sim.error.kind} ${sim.error.message}`;
        return { route: r, ok: false, definite: true, results: [{ endpoint: 'callBundle', ok: false, id: null, error: { kind: 'rpc', message } }] };
      }
    }
    const outcome = await route.send(s);
    const msg = outcome.results.map((x) => x.error?.message ?? '').join(' ').toLowerCase();
    const kind = msg.includes('nonce too low') ? 'nonce-too-low' : msg.includes('nonce too high') ? 'nonce-too-high' : null;
    if (outcome.ok || kind === null || this.signer === null) return outcome;
    this.ctx.metrics.countKeyed('nonce.resync', kind);
    this.nonces.release(account, signed.map((t) => t.nonce));
    await this.nonces.onError(account, kind);
    const fresh = await this.nonces.reserve(account, signed.length);
    for (let k = 0; k < signed.length; k++) {
      const i = s.ours[k]!;
      const tx = this.resign(signed[k]!, fresh[k]!);
      signed[k] = tx;
      // The submission's record, the final release and the ledger read these arrays: left with the
      // old nonces, a failed resend released nonces another submission may hold by now.
      nonces[k] = tx.nonce;
      s.rawTxs[i] = tx.raw;
      s.txHashes[i] = tx.hash;
    }
    return { ...(await route.send(s)), resigned: true };
  }

  private resign(old: SignedTx, nonce: bigint, fees?: Fees): SignedTx {
    const tx = decodeOurs(old.raw, this.c.chainId);
    return this.signer!.signTx({ ...tx, ...fees, nonce });
  }

  // ---- blocks --------------------------------------------------------------------------------

  private onHead(head: BlockEvent): void {
    this.head = head;
    this.queue.onHead(head.number);
    for (const b of this.claimed.keys()) if (b <= head.number) this.claimed.delete(b);
    if (head.reorg) this.reopen(head);
    if (this.tracked.size === 0) return;
    // Checks run one at a time, in head order.
    this.serial(() => this.check(head));
  }

  private reopen(head: BlockEvent): void {
    for (let i = this.landed.length - 1; i >= 0; i--) {
      const l = this.landed[i]!;
      if (l.block < head.number) continue;
      this.landed.splice(i, 1);
      this.ledger!.append({ type: 'reopened', id: l.t.sub.id, block: l.block, reason: 'reorg' });
      l.t.sub = { ...l.t.sub, status: 'reopened', block: null, realizedNetWei: null, gasPaidWei: null, reason: `block ${l.block} was reorganized away` };
      l.t.lastBlock = Math.max(l.t.lastBlock, head.number);
      this.tracked.set(l.t.sub.id, l.t);
      this.emit(l.t.sub);
    }
  }

  private async check(head: BlockEvent): Promise<void> {
    const due = [...this.tracked.values()].filter((t) => t.sub.targetBlock <= head.number || t.cancel !== null);
    if (due.length === 0) return;
    let block: RpcBlock | null;
    try {
      block = await this.reader.call<RpcBlock | null>('eth_getBlockByNumber', [`0x${head.number.toString(16)}`, false]);
    } catch (err) {
      if (!(err instanceof ChainReadError)) throw err;
      this.ctx.metrics.countKeyed('chain', err.code);
      return; // the next head checks again
    }
    if (block === null) return;
    const at = new Map(block.transactions.map((h, i) => [h.toLowerCase(), i]));
    // Replacements and cancellations go out together once the block is read.
    const work: Promise<void>[] = [];
    for (const t of due) {
      if (t.sentAt < 0) t.sentAt = head.number;
      if (t.cancel !== null && t.cancel.txs.some((tx) => at.has(tx.hash.toLowerCase()))) {
        await this.cancelledIn(t, head.number);
        continue;
      }
      // Ours in force, or an earlier version a replacement did not displace in time.
      const versions: Variant[] = [{ ours: t.ours, txHashes: t.sub.txHashes }, ...t.prior];
      const v = versions.find((x) => x.ours.some((tx) => at.has(tx.hash.toLowerCase())));
      if (v !== undefined) {
        if (v !== versions[0]) {
          t.ours = v.ours;
          t.sub = { ...t.sub, txHashes: v.txHashes };
        }
        const idx = v.txHashes.map((h) => at.get(h.toLowerCase()));
        const allIn = idx.every((i) => i !== undefined) && idx.every((i, k) => k === 0 || i! > idx[k - 1]!);
        await this.landedIn(t, head.number, allIn);
        continue;
      }
      if (t.cancel !== null) {
        work.push(this.followCancel(t, head));
        continue;
      }
      // A victim that landed without us takes the bundle with it (its transaction can never be in a
      // later block): it is missed now, whatever blocks it still targets.
      const victimIn = t.sub.txHashes.some((h) => !t.ours.some((o) => o.hash === h) && at.has(h.toLowerCase()));
      if (head.number < t.lastBlock && !victimIn) {
        if (this.replaceable(t, head)) work.push(this.replace(t, head));
        continue;
      }
      // Its window passed: were our nonces used by something else (replaced) or just not used (missed)?
      let status: 'missed' | 'replaced' = 'missed';
      let reason = `not in blocks ${t.sub.targetBlock}…${t.lastBlock}`;
      if (t.ours.length > 0 && t.sub.account !== null) {
        try {
          const n = BigInt(await this.reader.call<string>('eth_getTransactionCount', [t.sub.account, `0x${head.number.toString(16)}`]));
          this.nonces.onBlock(t.sub.account, n);
          if (n > t.ours[0]!.nonce) {
            status = 'replaced';
            reason = `nonce ${t.ours[0]!.nonce} was used by another transaction`;
          }
        } catch (err) {
          if (!(err instanceof ChainReadError)) throw err;
        }
      }
      if (victimIn) reason += `; the victim landed without us (block ${head.number})`;
      if (t.sub.route === 'flashbots') this.freeNonces(t);
      else if (status === 'missed' && this.cancels(t)) {
        // Still in a mempool, where it may land late (and at a loss): cancelled at its nonces.
        work.push(this.sendCancel(t, head, 'window', reason));
        continue;
      }
      this.finish(t, status, head.number, reason, null, null);
    }
    await Promise.all(work);
  }

  // ---- replacement and cancellation -----------------------------------------------------------

  /** Whether a transaction route's expired submission is cancelled (config, a key, and something to cancel). */
  private cancels(t: Tracked): boolean {
    const r = this.c.replacement;
    return r.cancelExpired && r.afterBlocks > 0 && this.signer !== null && t.ours.length > 0 && t.sub.account !== null && t.sub.route !== null && this.routes.has(t.sub.route);
  }

  /** Whether `t`, still within its window at `head`, is due for a fee bump. */
  private replaceable(t: Tracked, head: BlockEvent): boolean {
    const r = this.c.replacement;
    if (r.afterBlocks === 0 || t.bumps >= r.maxReplacements || t.prep === null || t.opp === null || t.fees === null || this.signer === null) return false;
    if (head.number - t.sentAt < r.afterBlocks || t.sub.route === null || !this.routes.has(t.sub.route)) return false;
    // On a transaction route a victim's transaction is not ours to order: our legs sit around it by
    // their tips, which a bump would upset. Bundles fix the order themselves.
    return t.sub.route === 'flashbots' || t.prep.sendable.ours.length === t.sub.txHashes.length;
  }

  /**
   * Re-sends `t`'s transactions at the same nonces with fees bumped (≥ `feeBumpPct` on both fields)
   * on the route that took them, for the blocks left in its window, when the bump still leaves a
   * profit; a bundle goes to the relays again under the same `replacementUuid`.
   */
  private async replace(t: Tracked, head: BlockEvent): Promise<void> {
    const m = this.ctx.metrics;
    const p = t.prep!;
    const opp = t.opp!;
    const account = t.sub.account!;
    const routeName = t.sub.route!;
    const r = this.c.replacement;
    t.bumps++;
    // The next bump waits `afterBlocks` again, whether this one goes out or not.
    t.sentAt = head.number;
    const nextBase = nextBaseFee(head);
    const remaining = t.lastBlock - head.number;
    const fees = t.fees!.map((f) => replacementFees(f, r.feeBumpPct, nextBase, remaining));
    // Worth it: at the next block's base fee and the new tips, what our gas would cost beyond the
    // price the profit was predicted at must leave a profit.
    const planned = feesOfPlan(p);
    let extra = 0n;
    for (let k = 0; k < fees.length; k++) {
      const d = nextBase + fees[k]!.maxPriorityFeePerGas - (opp.baseFee + planned[k]!.maxPriorityFeePerGas);
      if (d > 0n) extra += p.gasUsed[k]! * d;
    }
    if (t.sub.predictedNetWei - extra <= 0n) {
      m.count('queue.replace-unprofitable');
      return;
    }
    const breaker = this.breakers.get(routeName)!;
    if (!breaker.allow()) {
      m.countKeyed('route.breaker-open', routeName);
      return;
    }
    const next = t.ours.map((o, k) => this.resign(o, o.nonce, fees[k]));
    const rawTxs = [...p.sendable.rawTxs];
    const txHashes = [...t.sub.txHashes] as Hex[];
    next.forEach((tx, k) => {
      rawTxs[p.sendable.ours[k]!] = tx.raw;
      txHashes[p.sendable.ours[k]!] = tx.hash;
    });
    const s: Sendable = { id: t.sub.id, rawTxs, txHashes, ours: p.sendable.ours, targetBlock: head.number + 1, blocks: remaining, replacementUuid: p.sendable.replacementUuid };
    const outcome = await this.routes.get(routeName)!.send(s);
    const err = outcome.results.find((x) => x.error !== null)?.error;
    // A bundle is taken whole; a transaction route sends ours one by one and stops at a refusal.
    const taken = next.map((_, k) => (routeName === 'flashbots' ? outcome.ok || !outcome.definite : outcome.results[k] !== undefined && (outcome.results[k]!.ok || isUnknownOutcome(outcome.results[k]!.error))));
    const ours = t.ours.map((o, k) => (taken[k] ? next[k]! : o));
    const nowFees = t.fees!.map((f, k) => (taken[k] ? fees[k]! : f));
    const hashes = [...t.sub.txHashes];
    ours.forEach((o, k) => (hashes[p.sendable.ours[k]!] = o.hash));
    this.ledger!.append({
      type: 'replace',
      id: t.sub.id,
      route: routeName,
      ok: outcome.ok,
      definite: outcome.definite,
      ...(err ? { error: `${err.kind}: ${err.message}`.slice(0, 200) } : {}),
      txHashes: hashes as Hex[],
      nonces: ours.map((o) => o.nonce),
      maxFeePerGas: nowFees.map((f) => f.maxFeePerGas),
      maxPriorityFeePerGas: nowFees.map((f) => f.maxPriorityFeePerGas),
    });
    if (!taken.some(Boolean)) {
      breaker.failure();
      m.count('queue.replace-refused');
      return;
    }
    breaker.success();
    for (const [k, tx] of next.entries()) {
      if (!taken[k]) continue;
      try {
        this.nonces.replace(account, tx.nonce, tx.hash, routeName);
      } catch (e) {
        // Mined meanwhile (forgotten by a block): the next check finds which version landed.
        if (!(e instanceof NonceError)) throw e;
      }
      p.sendable.rawTxs[p.sendable.ours[k]!] = tx.raw;
      p.sendable.txHashes[p.sendable.ours[k]!] = tx.hash;
    }
    const before = t.fees![0]!;
    t.prior.unshift({ ours: t.ours, txHashes: t.sub.txHashes });
    t.ours = ours;
    t.fees = nowFees;
    m.count('queue.replaced');
    const reason = `fee bump ${t.bumps} of ${r.maxReplacements} at block ${head.number}, same nonces: maxFeePerGas ${before.maxFeePerGas} → ${nowFees[0]!.maxFeePerGas}, maxPriorityFeePerGas ${before.maxPriorityFeePerGas} → ${nowFees[0]!.maxPriorityFeePerGas}`;
    t.sub = { ...t.sub, status: 'replaced', txHashes: hashes, block: null, reason };
    this.emit(t.sub);
  }

  /**
   * Cancels `t`'s transactions on the route that took them: a 0-value transfer to ourselves at each
   * nonce, both fees bumped over what is there (ours, or the previous cancellation). The outcome
   * comes when one of them is mined (`cancelled`) or ours lands after all.
   */
  private async sendCancel(t: Tracked, head: BlockEvent | null, by: 'window' | 'operator', reason: string): Promise<void> {
    const m = this.ctx.metrics;
    const account = t.sub.account!;
    const routeName = t.sub.route!;
    const r = this.c.replacement;
    const prev = t.cancel;
    const from = head?.number ?? t.lastBlock;
    const nextBase = head === null ? 0n : nextBaseFee(head);
    // What the cancellation must outbid: the previous cancellation, ours, or (fees not recorded) a guess.
    const over: Fees[] =
      prev !== null && prev.fees.length === t.ours.length ? prev.fees : (t.fees ?? t.ours.map(() => ({ maxFeePerGas: 2n * nextBase + FALLBACK_TIP, maxPriorityFeePerGas: FALLBACK_TIP })));
    const fees = over.map((f) => replacementFees(f, r.feeBumpPct, nextBase, this.c.targetBlocks));
    const txs = t.ours.map((o, k) => this.signer!.signTx({ chainId: this.c.chainId, to: account as Hex, data: '0x', value: 0n, gas: CANCEL_GAS, ...fees[k]!, nonce: o.nonce }));
    const s: Sendable = { id: t.sub.id, rawTxs: txs.map((x) => x.raw), txHashes: txs.map((x) => x.hash), ours: txs.map((_, k) => k), targetBlock: from + 1, blocks: this.c.targetBlocks, replacementUuid: uuidOf(t.sub.id) };
    const outcome = await this.routes.get(routeName)!.send(s);
    const err = outcome.results.find((x) => x.error !== null)?.error;
    const taken = txs.filter((_, k) => outcome.results[k] !== undefined && (outcome.results[k]!.ok || isUnknownOutcome(outcome.results[k]!.error)));
    this.ledger!.append({
      type: 'cancel',
      id: t.sub.id,
      route: routeName,
      by,
      ok: outcome.ok,
      definite: outcome.definite,
      ...(err ? { error: `${err.kind}: ${err.message}`.slice(0, 200) } : {}),
      txHashes: s.txHashes,
      nonces: t.ours.map((o) => o.nonce),
      maxFeePerGas: fees.map((f) => f.maxFeePerGas),
      maxPriorityFeePerGas: fees.map((f) => f.maxPriorityFeePerGas),
    });
    if (taken.length === 0) {
      m.count('queue.cancel-refused');
      const why = `${reason}; its cancellation was refused (${err ? `${err.kind} ${err.message}` : 'refused'})`;
      if (prev !== null) {
        // The earlier cancellation stays in force; the next bump waits its turn.
        prev.bumps++;
        prev.sentAt = from;
      } else if (by === 'window') this.finish(t, 'missed', from, why, null, null);
      else this.ctx.log.warn('cancel: the route refused the cancellation; the submission stays pending', { id: t.sub.id, error: err?.message ?? null });
      return;
    }
    for (const tx of taken) {
      try {
        this.nonces.replace(account, tx.nonce, tx.hash, routeName);
      } catch (e) {
        if (!(e instanceof NonceError)) throw e;
      }
    }
    m.count('queue.cancel-sent');
    t.cancel = { txs: taken, fees: fees.slice(0, taken.length), sentAt: from, bumps: prev === null ? 0 : prev.bumps + 1, by, reason };
  }

  /** Withdraws a bundle from the relays (`eth_cancelBundle` by its `replacementUuid`). */
  private async cancelBundle(t: Tracked, by: 'window' | 'operator', reason: string): Promise<void> {
    const route = this.routes.get('flashbots');
    if (!(route instanceof FlashbotsRoute)) return;
    const outcome = await route.cancel(uuidOf(t.sub.id));
    const err = outcome.results.find((x) => x.error !== null)?.error;
    this.ledger!.append({ type: 'cancel', id: t.sub.id, route: 'flashbots', by, ok: outcome.ok, definite: outcome.definite, ...(err ? { error: `${err.kind}: ${err.message}`.slice(0, 200) } : {}), txHashes: [], nonces: t.ours.map((o) => o.nonce) });
    if (!outcome.ok && outcome.definite) {
      this.ctx.metrics.count('queue.cancel-refused');
      this.ctx.log.warn('cancel: every relay refused eth_cancelBundle; the bundle stays pending', { id: t.sub.id, error: err?.message ?? null });
      return;
    }
    this.ctx.metrics.count('queue.cancel-sent');
    t.cancel = { txs: [], fees: [], sentAt: this.head?.number ?? -1, bumps: 0, by, reason };
  }

  /** The operator's `op=cancel` of a tracked submission (runs in the check sequence). */
  private async cancelTracked(id: string, by: 'operator'): Promise<void> {
    const t = this.tracked.get(id);
    if (t === undefined || t.cancel !== null) return;
    const reason = 'cancelled by the operator';
    if (t.sub.route === 'flashbots') return this.cancelBundle(t, by, reason);
    if (!this.cancels(t)) {
      this.ctx.log.warn('cancel: nothing to cancel it with (no key, no route, or no transaction of ours)', { id });
      return;
    }
    await this.sendCancel(t, this.head, by, reason);
  }

  /** A cancellation is out and not mined at `head`: resolved when its nonce is used, bumped while not. */
  private async followCancel(t: Tracked, head: BlockEvent): Promise<void> {
    const c = t.cancel!;
    if (c.sentAt < 0) c.sentAt = head.number;
    if (t.sub.route === 'flashbots') {
      // Withdrawn from the relays: once a block after the withdrawal passed without it, it is over.
      if (head.number > c.sentAt) {
        this.freeNonces(t);
        this.ctx.metrics.count('queue.cancelled');
        this.finish(t, 'cancelled', head.number, `${c.reason}: withdrawn from the relays (eth_cancelBundle)`, null, null);
      }
      return;
    }
    const account = t.sub.account!;
    let n: bigint;
    try {
      n = BigInt(await this.reader.call<string>('eth_getTransactionCount', [account, `0x${head.number.toString(16)}`]));
    } catch (err) {
      if (!(err instanceof ChainReadError)) throw err;
      this.ctx.metrics.countKeyed('chain', err.code);
      return;
    }
    const first = t.ours[0]!.nonce;
    if (n > first) return this.usedElsewhere(t, head, n);
    const r = this.c.replacement;
    if (head.number - c.sentAt < r.afterBlocks) return;
    if (c.bumps < r.maxReplacements) return this.sendCancel(t, head, c.by, c.reason);
    // Its nonce stays held: the cancellation or ours may still land, and a new transaction there
    // would have to outbid them.
    this.ctx.log.warn('cancel: the cancellation was not mined; giving up on it', { id: t.sub.id, nonce: String(first) });
    this.finish(t, 'missed', head.number, `${c.reason}; its cancellation was not mined (nonce ${first} may still be taken)`, null, null);
  }

  /** The nonce of a cancelling submission was used in a block not checked: receipts say by what. */
  private async usedElsewhere(t: Tracked, head: BlockEvent, chainNonce: bigint): Promise<void> {
    const c = t.cancel!;
    const versions: Variant[] = [{ ours: t.ours, txHashes: t.sub.txHashes }, ...t.prior];
    const hashes = [...c.txs.map((x) => x.hash), ...versions.flatMap((v) => v.ours.map((o) => o.hash))];
    let receipts: (RpcReceipt | null)[];
    try {
      const res = await this.reader.batch(hashes.map((h) => ['eth_getTransactionReceipt', [h]] as const));
      receipts = res.map((x) => ('result' in x ? (x.result as RpcReceipt | null) : null));
    } catch (err) {
      if (!(err instanceof ChainReadError)) throw err;
      this.ctx.metrics.countKeyed('chain', err.code);
      return;
    }
    const found = receipts.findIndex((x) => x !== null);
    if (found >= 0 && found < c.txs.length) return this.cancelledIn(t, Number(receipts[found]!.blockNumber));
    if (found >= 0) {
      let k = found - c.txs.length;
      const v = versions.find((x) => (k -= x.ours.length) < 0)!;
      t.ours = v.ours;
      t.sub = { ...t.sub, txHashes: v.txHashes };
      return this.landedIn(t, Number(receipts[found]!.blockNumber), v.ours.length === v.txHashes.length);
    }
    this.nonces.onBlock(t.sub.account!, chainNonce);
    this.finish(t, 'replaced', head.number, `nonce ${t.ours[0]!.nonce} was used by another transaction`, null, null);
  }

  /** A cancellation of `t` is mined in block `n`: its nonces are free, and it cost its gas. */
  private async cancelledIn(t: Tracked, n: number): Promise<void> {
    const c = t.cancel!;
    let gasPaid = 0n;
    let last = -1n;
    try {
      const res = await this.reader.batch(c.txs.map((tx) => ['eth_getTransactionReceipt', [tx.hash]] as const));
      for (const [k, x] of res.entries()) {
        const rc = 'result' in x ? (x.result as RpcReceipt | null) : null;
        if (rc === null) continue;
        gasPaid += BigInt(rc.gasUsed) * BigInt(rc.effectiveGasPrice);
        if (c.txs[k]!.nonce > last) last = c.txs[k]!.nonce;
      }
    } catch (err) {
      if (!(err instanceof ChainReadError)) throw err;
      this.ctx.metrics.countKeyed('chain', err.code);
      return; // the next head finds the nonce used and asks again
    }
    if (last >= 0n && t.sub.account !== null) this.nonces.onBlock(t.sub.account, last + 1n);
    this.ctx.metrics.count('queue.cancelled');
    this.finish(t, 'cancelled', n, `${c.reason}: a 0-value self-transfer took nonce ${c.txs[0]!.nonce}`, -gasPaid, gasPaid);
  }

  /**
   * Frees the nonces of a bundle that can no longer land (relays drop a bundle after its last
   * target block, and its victim may be gone) and that the chain has not used: the next submission
   * takes them, instead of leaving a gap that holds every later transaction of the account back.
   * Transactions sent to a mempool (the other routes) may still land, so theirs stay live.
   */
  private freeNonces(t: Tracked): void {
    const account = t.sub.account;
    if (account === null) return;
    const free: bigint[] = [];
    for (const o of t.ours) {
      try {
        if (!this.nonces.unbind(account, o.nonce, 'flashbots')) free.push(o.nonce);
      } catch (err) {
        // Not held: the chain passed it (forgotten by onBlock), or a restart never bound it.
        if (!(err instanceof NonceError)) throw err;
      }
    }
    this.nonces.release(account, free);
  }

  /** Some or all of our transactions are in block `n`: receipts give gas and the realized profit. */
  private async landedIn(t: Tracked, n: number, allIn: boolean): Promise<void> {
    let receipts: (RpcReceipt | null)[];
    try {
      const res = await this.reader.batch(t.ours.map((tx) => ['eth_getTransactionReceipt', [tx.hash]] as const));
      receipts = res.map((r) => ('result' in r ? (r.result as RpcReceipt | null) : null));
    } catch (err) {
      if (!(err instanceof ChainReadError)) throw err;
      this.ctx.metrics.countKeyed('chain', err.code);
      return; // checked again at the next head
    }
    const account = (t.sub.account ?? '').toLowerCase();
    const token = (t.opp?.profit.token ?? this.c.weth).toLowerCase();
    let gasPaid = 0n;
    let tokenDelta = 0n;
    const other = new Map<string, bigint>();
    let reverted = false;
    let lastNonce = -1n;
    for (const [k, r] of receipts.entries()) {
      if (r === null) continue;
      if (t.ours[k]!.nonce > lastNonce) lastNonce = t.ours[k]!.nonce;
      gasPaid += BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice);
      if (r.status !== '0x1') reverted = true;
      for (const log of r.logs) {
        if (log.topics[0] !== TRANSFER_TOPIC || log.topics.length < 3) continue;
        const from = `0x${log.topics[1]!.slice(26)}`.toLowerCase();
        const to = `0x${log.topics[2]!.slice(26)}`.toLowerCase();
        const v = (to === account ? BigInt(log.data) : 0n) - (from === account ? BigInt(log.data) : 0n);
        const addr = log.address.toLowerCase();
        if (addr === token) tokenDelta += v;
        else if (v !== 0n) other.set(addr, (other.get(addr) ?? 0n) + v);
      }
    }
    // Mined up to `lastNonce`: the account's nonce is past it, so the manager forgets those it held
    // (left live, every landed nonce stayed in its map for the whole run).
    if (lastNonce >= 0n && account !== '') this.nonces.onBlock(account, lastNonce + 1n);
    const inWei = token === this.c.weth.toLowerCase() || t.opp === null ? tokenDelta : t.opp.profit.gross === 0n ? 0n : (tokenDelta * t.opp.profit.grossWei) / t.opp.profit.gross;
    const realized = inWei - gasPaid - t.valueWei;
    const status = reverted ? 'reverted' : allIn ? 'included' : 'missed';
    const held = [...other].filter(([, v]) => v !== 0n).map(([tok, v]) => `${v} of ${tok}`);
    const what = reverted ? 'one of our transactions reverted' : allIn ? null : `only part of the bundle landed in block ${n}`;
    const reason = what === null ? null : held.length > 0 ? `${what}; left holding ${held.join(', ')} (not valued in realizedNetWei)` : what;
    this.finish(t, status, n, reason, realized, gasPaid);
  }

  private finish(t: Tracked, status: 'included' | 'reverted' | 'missed' | 'replaced' | 'cancelled', block: number, reason: string | null, realized: bigint | null, gasPaid: bigint | null): void {
    this.tracked.delete(t.sub.id);
    this.ledger!.append({ type: 'outcome', id: t.sub.id, status, block, ...(realized !== null ? { realizedNetWei: realized } : {}), ...(gasPaid !== null ? { gasPaidWei: gasPaid } : {}), ...(reason ? { reason } : {}) });
    t.sub = { ...t.sub, status, block, reason, realizedNetWei: realized, gasPaidWei: gasPaid };
    if (status === 'included' || status === 'reverted') {
      this.landed.push({ block, t });
      if (this.landed.length > 256) this.landed.shift();
    }
    const before = this.guard.paused();
    // The auto-pause weighs what is certain: an included bundle's realized net, and otherwise the
    // gas paid. A partial landing (a sandwich whose back-run reverted) also moved tokens other than
    // the profit token, which `realized` does not value; counting its profit-token outflow as a loss
    // would pause on inventory.
    const certain = status === 'included' ? (realized ?? 0n) : -(gasPaid ?? 0n);
    this.guard.recordOutcome({ status: status === 'included' ? 'included' : status === 'reverted' ? 'reverted' : 'not-included', realizedNetWei: certain });
    const after = this.guard.paused();
    if (after !== null && before === null) this.ctx.log.warn('submission paused', { by: after.by, reason: after.reason });
    this.publishState();
    this.emit(t.sub);
  }

  // ---- operator control ----------------------------------------------------------------------

  private pollControl(): void {
    const c = this.control!;
    const now = [Atomics.load(c, CONTROL.PAUSE_SEQ), Atomics.load(c, CONTROL.RESUME_SEQ), Atomics.load(c, CONTROL.RESET_SEQ)];
    if (now[0] !== this.controlSeen[0]) {
      this.guard.pause('operator', 'paused through the gateway');
      this.ctx.log.warn('submission paused by the operator');
    }
    if (now[1] !== this.controlSeen[1]) {
      this.guard.resume();
      this.ctx.log.info('submission resumed by the operator');
    }
    if (now[2] !== this.controlSeen[2]) {
      this.guard.reset();
      for (const b of this.breakers.values()) b.reset();
      this.ctx.log.info('breakers and auto-pause reset by the operator');
    }
    this.controlSeen = now;
    const { ids, taken } = takeCancels(this.ctx.shared.control!, this.cancelsTaken);
    this.cancelsTaken = taken;
    for (const id of ids) this.operatorCancel(id);
    this.publishState();
  }

  /** `op=cancel&id=`: withdraws a queued submission, or cancels a sent one on its route. */
  private operatorCancel(id: string): void {
    this.ctx.log.warn('cancel requested by the operator', { id });
    const s = this.queue.cancel(id);
    if (s === 'cancelled') return;
    if (s === 'running') {
      // Acted on when its attempt ends: withdrawn if no route took it, cancelled on the route if one did.
      this.queue.get(id)!.value.cancelAsked = true;
      return;
    }
    if (this.tracked.has(id)) {
      this.serial(() => this.cancelTracked(id, 'operator'));
      return;
    }
    this.ctx.metrics.count('queue.cancel-unknown');
    this.ctx.log.warn('cancel: no queued or pending submission has this id', { id });
  }

  /** Publishes the queue's depth and sends in flight (the gateway's gauges). */
  private publishQueue(): void {
    const c = this.control;
    if (c === null) return;
    // Plain stores: each is a gauge read on its own; no other slot depends on them.
    Atomics.store(c, CONTROL.QUEUE_DEPTH, this.queue.queued + this.queue.waiting);
    Atomics.store(c, CONTROL.SENDS_IN_FLIGHT, this.queue.running);
  }

  private publishState(): void {
    const c = this.control;
    if (c === null) return;
    const p = this.guard.paused();
    Atomics.store(c, CONTROL.PAUSED, p === null ? 0 : PAUSE_SOURCES.indexOf(p.by));
    BREAKER_ROUTES.forEach((r, k) => {
      const b = this.breakers.get(r);
      Atomics.store(c, CONTROL.BREAKERS + k, b === undefined ? 0 : BREAKER_STATES.indexOf(b.state));
    });
  }

  async onStop(): Promise<void> {
    if (this.controlTimer) clearInterval(this.controlTimer);
    // What still waits for a slot or a retry is reported (skipped or failed) and not sent.
    this.queue.stop();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await this.out.drain();
    this.ledger?.close();
  }
}

/** Fees of each of our transactions as built (plan order). */
function feesOfPlan(p: PreparedSubmission): Fees[] {
  const out: Fees[] = [];
  for (const s of p.plan.steps) if ('ours' in s) out.push({ maxFeePerGas: s.ours.maxFeePerGas, maxPriorityFeePerGas: s.ours.maxPriorityFeePerGas });
  return out;
}

/** Fields of one of our signed type-2 transactions, for re-signing with another nonce. */
function decodeOurs(raw: Hex, chainId: number): { chainId: number; to: Hex; data: Hex; value: bigint; gas: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  const t = parseTransaction(raw);
  return { chainId, to: t.to as Hex, data: (t.data ?? '0x') as Hex, value: t.value ?? 0n, gas: t.gas!, maxFeePerGas: t.maxFeePerGas!, maxPriorityFeePerGas: t.maxPriorityFeePerGas! };
}
