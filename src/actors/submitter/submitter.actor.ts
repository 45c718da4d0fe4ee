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
import { buildBundle } from './bundle.js';
import { CircuitBreaker, SubmissionGuard } from './circuit-breaker.js';
import { BREAKER_ROUTES, BREAKER_STATES, CONTROL, PAUSE_SOURCES, readSecrets } from './control.js';
import { Ledger } from './ledger.js';
import { NonceError, NonceManager } from './nonce-manager.js';
import { chooseRoutes } from './route-policy.js';
import { FlashbotsRoute } from './routes/flashbots.js';
import { MevBlockerRoute } from './routes/mev-blocker.js';
import { PrivateRpcRoute } from './routes/private-rpc.js';
import { PublicRoute } from './routes/public.js';
import { NativeSigner } from './signer.js';
import type { Submission, SubmissionStatus } from './submission.js';
import type { SubmitterConfig } from './submitter-config.js';
import type { Hex, Route, RouteName, RouteOutcome, Sendable, SignedTx } from './types.js';

/** The submitter's slice: its config with the state node and chain id resolved. */
export type SubmitterSlice = SubmitterConfig & { rpcUrl: string; chainId: number; weth: string };

/** keccak256("Transfer(address,address,uint256)") */
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

/** A sent submission waiting for its block. */
interface Tracked {
  sub: Submission;
  opp: Opportunity;
  ours: SignedTx[];
  /** Last block it can land in. */
  lastBlock: number;
  /** Ether our transactions send (coinbase payment), counted against the realized profit. */
  valueWei: bigint;
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
 * with nonces from the {@link NonceManager}, picks a route ({@link chooseRoutes}), sends with
 * fallbacks behind per-route circuit breakers, and on every block checks what landed: included (all
 * its transactions in one block, in order) with the realized profit from our receipts, reverted,
 * missed or replaced. Every step is appended to the {@link Ledger} before it is reported, and
 * reported downstream as a `Submission` record; every input record is forwarded unchanged.
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
  private head: BlockEvent | null = null;
  private readonly control: Int32Array | null;
  private controlSeen = [0, 0, 0];
  private controlTimer: NodeJS.Timeout | null = null;
  /** Work in flight (sends, block checks), awaited on stop. */
  private readonly inflight = new Set<Promise<void>>();
  private checking: Promise<void> = Promise.resolve();
  private readonly toSigned;
  private readonly live: boolean;
  /** A record went out under its input's id: late ones have an id to follow (see onBatch). */
  private forwarded = false;

  constructor(private readonly ctx: ActorContext<SubmitterSlice>) {
    this.c = ctx.config;
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
  }

  async onStart(): Promise<void> {
    this.ledger = Ledger.open(this.c.ledgerPath);
    const report = this.ledger.openReport();
    if (report.tornTail !== null) this.ctx.log.warn('ledger: truncated a torn last line (a crash mid-write)', { path: report.path, ...report.tornTail });
    if (this.control) {
      for (let i = 0; i < 3; i++) this.controlSeen[i] = Atomics.load(this.control, i);
      Atomics.store(this.control, CONTROL.LIVE, this.live ? 1 : 0);
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
      // Its transactions may still land: new submissions must not reuse their nonces.
      for (const o of ours) {
        try {
          this.nonces.adopt(e.account, o.nonce, { txHash: o.hash, route: r.route });
        } catch (err) {
          if (!(err instanceof NonceError)) throw err;
          this.ctx.log.warn('ledger: two pending submissions share a nonce', { id: e.id, nonce: String(o.nonce), error: err.shortMessage });
        }
      }
      this.tracked.set(e.id, { sub, opp: null as unknown as Opportunity, ours, lastBlock: e.targetBlock + this.c.targetBlocks - 1, valueWei: 0n });
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
      if (msg.kind === Kind.BlockEvent) this.onHead(msg.data as BlockEvent);
      else if (msg.kind === Kind.Opportunity) this.onOpportunity(msg.data as Opportunity);
      this.out.flush();
    }
  }

  settled(): Promise<void> | null {
    return this.out.settled();
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => this.out.fail(err)).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
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
    if (this.head !== null && opp.targetBlock <= this.head.number) return this.skip(opp, `stale: target block ${opp.targetBlock} is not after the head ${this.head.number}`);
    const paused = this.guard.paused();
    if (paused !== null) return this.skip(opp, `paused by ${paused.by}: ${paused.reason}`);
    this.track(this.submit(opp));
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

  private async submit(opp: Opportunity): Promise<void> {
    const m = this.ctx.metrics;
    let plan;
    try {
      plan = buildBundle(opp, this.c, this.c.chainId);
    } catch (err) {
      return this.skip(opp, `unbuildable: ${(err as Error).message}`);
    }
    const sizeUsd = (Number(opp.amountIn) / 1e18) * this.c.ethUsd * (opp.profit.token === this.c.weth ? 1 : Number(opp.profit.grossWei) / Math.max(1, Number(opp.profit.gross)));
    const profitUsd = (Number(plan.predictedNetWei) / 1e18) * this.c.ethUsd;
    // A plan of several of our transactions (a direct pair-swap cycle) is safe only all-or-nothing:
    // a transaction route sends them one by one, and a leg that lands without the next loses the
    // amount in. Such plans go to bundle routes only. A sandwich's two legs are apart by design and
    // are ordered around the victim by their tips.
    const oursCount = plan.steps.filter((s) => 'ours' in s).length - (plan.builderPaymentWei > 0n ? 1 : 0);
    const atomicOnly = oursCount > 1 && opp.kind !== 'v2-sandwich';
    const available = new Set([...this.routes.keys()].filter((r) => !atomicOnly || r === 'flashbots'));
    const choice = chooseRoutes(this.c, sizeUsd, profitUsd, available);
    if (atomicOnly && choice.chain.length === 0 && this.routes.size > 0) return this.skip(opp, `needs-bundle-route: ${oursCount} transactions of ours must land together, and no relay is configured`);
    // Plans are verified one by one on the head state: two for the same block through the same pool
    // would each break the other's exact amounts. The first one submitted keeps the pool.
    let claimed = this.claimed.get(opp.targetBlock);
    if (claimed === undefined) this.claimed.set(opp.targetBlock, (claimed = new Set()));
    const clash = opp.pools.find((p) => claimed!.has(p.toLowerCase()));
    if (clash !== undefined) return this.skip(opp, `conflict: pool ${clash} is already traded by a submission for block ${opp.targetBlock}`);
    for (const p of opp.pools) claimed.add(p.toLowerCase());
    const account = this.signer?.address ?? opp.searcher!;
    if (this.signer !== null && this.signer.address !== opp.searcher?.toLowerCase()) {
      return this.skip(opp, `wrong-account: the plan trades from ${opp.searcher}, the key signs for ${this.signer.address}`);
    }
    const nonces = this.signer === null ? [] : await this.nonces.reserve(account, plan.steps.filter((s) => 'ours' in s).length);
    const signed: SignedTx[] = [];
    const rawTxs: Hex[] = [];
    const txHashes: Hex[] = [];
    const ours: number[] = [];
    let valueWei = 0n;
    for (const s of plan.steps) {
      if ('victim' in s) {
        rawTxs.push(s.victim.raw);
        txHashes.push(s.victim.hash);
        continue;
      }
      valueWei += s.ours.value;
      if (this.signer === null) continue;
      const tx = this.signer.signTx({ ...s.ours, nonce: nonces[signed.length]! });
      signed.push(tx);
      ours.push(rawTxs.length);
      rawTxs.push(tx.raw);
      txHashes.push(tx.hash);
    }
    const signedNs = monoNs();
    // Scored (or, when verified, verified) → signed bundle ready to send.
    recordNs(this.toSigned, signedNs - (opp.timings.verifiedNs || opp.timings.scoredNs));
    const route = choice.chain[0] ?? 'dry-run';
    const prot = route !== 'public';
    const base = this.record(opp, 'dry-run', {
      account,
      route,
      protected: prot,
      txHashes,
      nonces,
      predictedNetWei: plan.predictedNetWei,
      timings: { firstSeenNs: opp.timings.firstSeenNs, signedNs, sentNs: 0 },
    });
    const fees = opp.gas.reduce((n, g) => n + (g === null ? 0n : g.gasUsed * (opp.baseFee + g.priorityFee)), 0n) + plan.builderPaymentWei;
    const ledger = this.ledger!;
    ledger.append({
      type: 'submission',
      id: opp.id,
      oppId: opp.id,
      kind: opp.kind,
      route: this.live ? route : 'dry-run',
      protected: prot,
      dryRun: !this.live || choice.chain.length === 0,
      account,
      nonces,
      txHashes,
      ours,
      targetBlock: opp.targetBlock,
      predictedNetWei: plan.predictedNetWei,
      feesWei: fees,
      mevAvoidedWei: prot ? opp.profit.grossWei : 0n,
    });
    if (!this.live || choice.chain.length === 0) {
      if (nonces.length > 0) this.nonces.release(account, nonces);
      this.emit({ ...base, status: 'dry-run', reason: this.live ? 'no route configured' : this.signer === null ? 'no signing key' : 'dry-run mode' });
      return;
    }
    const sendable: Sendable = { id: opp.id, rawTxs, txHashes, ours, targetBlock: opp.targetBlock, blocks: this.c.targetBlocks, replacementUuid: uuidOf(opp.id) };
    const tried: string[] = [];
    for (const r of choice.chain) {
      const breaker = this.breakers.get(r)!;
      if (!breaker.allow()) {
        tried.push(`${r}: breaker open`);
        m.countKeyed('route.breaker-open', r);
        continue;
      }
      const outcome = await this.sendOn(r, sendable, account, signed, nonces);
      const err = outcome.results.find((x) => x.error !== null)?.error;
      // Re-signed with fresh nonces: the ledger names what this attempt carried.
      const resigned = outcome.resigned ? { txHashes, nonces } : {};
      ledger.append({ type: 'send', id: opp.id, route: r, ok: outcome.ok, definite: outcome.definite, ...resigned, ...(err ? { error: `${err.kind}: ${err.message}`.slice(0, 200) } : {}) });
      if (outcome.ok) {
        breaker.success();
        m.countKeyed('route.ok', r);
        for (const tx of signed) this.nonces.bind(account, tx.nonce, { txHash: tx.hash, route: r });
        const sub: Submission = { ...base, status: 'sent', route: r, protected: r !== 'public', reason: tried.length > 0 ? `fell back after ${tried.join('; ')}` : null, timings: { ...base.timings, sentNs: monoNs() } };
        this.tracked.set(opp.id, { sub, opp, ours: signed, lastBlock: opp.targetBlock + this.c.targetBlocks - 1, valueWei });
        this.emit(sub);
        return;
      }
      breaker.failure();
      m.countKeyed('route.failed', r);
      tried.push(`${r}: ${err ? `${err.kind} ${err.message}` : 'refused'}`);
      if (!outcome.definite || outcome.results.some((x) => x.ok)) {
        // It may have been taken (an unknown answer), or part of it was (a transaction route that
        // took the first of our transactions): the same nonces must not go out on another route.
        for (const tx of signed) this.nonces.bind(account, tx.nonce, { txHash: tx.hash, route: r });
        const sub: Submission = { ...base, status: 'sent', route: r, protected: r !== 'public', reason: `outcome unknown (${tried.join('; ')}); not sent elsewhere`, timings: { ...base.timings, sentNs: monoNs() } };
        this.tracked.set(opp.id, { sub, opp, ours: signed, lastBlock: opp.targetBlock + this.c.targetBlocks - 1, valueWei });
        this.emit(sub);
        return;
      }
    }
    this.nonces.release(account, nonces);
    this.emit({ ...base, status: 'failed', route: null, reason: tried.join('; ') || 'no route' });
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

  private resign(old: SignedTx, nonce: bigint): SignedTx {
    const tx = decodeOurs(old.raw, this.c.chainId);
    return this.signer!.signTx({ ...tx, nonce });
  }

  // ---- blocks --------------------------------------------------------------------------------

  private onHead(head: BlockEvent): void {
    this.head = head;
    for (const b of this.claimed.keys()) if (b <= head.number) this.claimed.delete(b);
    if (head.reorg) this.reopen(head);
    if (this.tracked.size === 0) return;
    // Checks run one at a time, in head order.
    const prev = this.checking;
    this.checking = prev.then(() => this.check(head));
    this.track(this.checking);
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
    const due = [...this.tracked.values()].filter((t) => t.sub.targetBlock <= head.number);
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
    for (const t of due) {
      const idx = t.sub.txHashes.map((h) => at.get(h.toLowerCase()));
      const oursIdx = t.ours.map((tx) => at.get(tx.hash.toLowerCase()));
      const allIn = idx.every((i) => i !== undefined) && idx.every((i, k) => k === 0 || i! > idx[k - 1]!);
      const anyOurs = oursIdx.some((i) => i !== undefined);
      if (allIn || anyOurs) {
        await this.landedIn(t, head.number, allIn);
        continue;
      }
      // A victim that landed without us takes the bundle with it (its transaction can never be in a
      // later block): it is missed now, whatever blocks it still targets.
      const victimIn = t.sub.txHashes.some((h) => !t.ours.some((o) => o.hash === h) && at.has(h.toLowerCase()));
      if (head.number < t.lastBlock && !victimIn) continue;
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
      this.finish(t, status, head.number, reason, null, null);
    }
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

  private finish(t: Tracked, status: 'included' | 'reverted' | 'missed' | 'replaced', block: number, reason: string | null, realized: bigint | null, gasPaid: bigint | null): void {
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
    this.publishState();
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
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await this.out.drain();
    this.ledger?.close();
  }
}

/** A relay `replacementUuid` (v4 layout) derived from the submission id, so a retry replaces its bundle. */
function uuidOf(id: string): string {
  const h = id.replace(/^0x/, '').padEnd(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Fields of one of our signed type-2 transactions, for re-signing with another nonce. */
function decodeOurs(raw: Hex, chainId: number): { chainId: number; to: Hex; data: Hex; value: bigint; gas: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  const t = parseTransaction(raw);
  return { chainId, to: t.to as Hex, data: (t.data ?? '0x') as Hex, value: t.value ?? 0n, gas: t.gas!, maxFeePerGas: t.maxFeePerGas!, maxPriorityFeePerGas: t.maxPriorityFeePerGas! };
}
