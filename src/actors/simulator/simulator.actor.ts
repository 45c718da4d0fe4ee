import type { Message } from '../../messages/envelope.js';
import { type BlockEvent, type DecodedTx, Kind, type SimulatedTx, type SwapIntent } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { monoNs } from '../../runtime/clock.js';
import { recordNs } from '../../runtime/metrics.js';
import { OrderedOutput, type OutputSlot } from '../ordered-output.js';
import { EvmPool } from './evm-pool.js';
import { resolveHardfork } from './hardfork.js';
import type { EvmEnv, SimulateOutcome } from './evm-task.js';
import type { SimulatorConfig } from './simulator-config.js';

/** The simulator's slice as the engine hands it: URL and chain id resolved. */
export interface SimulatorSlice extends SimulatorConfig {
  rpcUrl: string;
  chainId: number;
  /** `config.deterministic`: shed nothing, run every transaction on the head it arrived under. */
  deterministic?: boolean;
}

/** An unclassified transaction waiting for (or in) the EVM, and the output slot it fills. */
interface EvmJob {
  slot: OutputSlot;
  tx: DecodedTx;
  /** {@link estimatedValue}: what shedding keeps. */
  value: bigint;
  /** Head generation it was queued under. */
  gen: number;
  /** The head it arrived under (it runs on that one in deterministic mode). */
  head: BlockEvent;
}

/**
 * The simulator stage. Swaps the decoder classified with every pool named ({@link poolsResolved}:
 * known routers and pairs) take the fast path:
 * forwarded unchanged, the scorer prices them with closed-form math. Transactions the decoder could
 * not classify are run in the EVM on the head state (a piscina pool of `threads` workers) and
 * become a `SimulatedTx` (status, gas, logs, revert reason, pools moved, the sender's balance
 * changes). Block events pass through and start a new head.
 *
 * Output order is input order, whatever finishes first, so downstream is deterministic; the input
 * is committed only once a batch's outputs are out (`settled`), so a crash loses nothing. Load is
 * shed before a task starts: a transaction whose sender's nonce on the head is known to differ
 * (`skipped.nonce`: it cannot run first; one the EVM finds `invalid` is not emitted either), a
 * queued transaction whose head is no longer current (`shed.stale`), one first seen more than
 * `maxAgeMs` ago (`shed.age`), and past `maxPending` the one of least estimated value
 * (`shed.full`). State read failures count `state.<code>` and skip the transaction.
 */
export class Simulator implements Actor {
  readonly io = true;
  private readonly pool: EvmPool | null;
  private env: EvmEnv;
  private readonly out: OrderedOutput;
  /** EVM entries not yet dispatched, in input order. */
  private readonly waiting: EvmJob[] = [];
  private running = 0;
  private head: BlockEvent | null = null;
  /** Senders' nonces on the current head, learned from EVM runs; cleared on each head. */
  private readonly nonces = new Map<string, bigint>();
  private gen = 0;
  /** The current head generation, shared with the EVM workers so a stale task is not run. */
  private readonly headGen = new Int32Array(new SharedArrayBuffer(4));
  private readonly seenToSimulated;
  private readonly simService;
  /** `config.deterministic`: the output depends on the input only (see {@link EngineConfig.deterministic}). */
  private readonly det: boolean;

  constructor(private readonly ctx: ActorContext<SimulatorSlice>) {
    const c = ctx.config;
    this.out = new OrderedOutput(ctx);
    this.det = c.deterministic === true;
    this.env = { rpcUrl: c.rpcUrl, chainId: c.chainId, hardfork: c.hardfork, deterministic: this.det };
    this.pool = c.evm ? new EvmPool(c.threads) : null;
    this.seenToSimulated = ctx.metrics.histogram('firstSeenToSimulated');
    this.simService = ctx.metrics.histogram('evmServiceTime');
  }

  async onStart(): Promise<void> {
    if (this.pool === null) return;
    this.env = { ...this.env, hardfork: await resolveHardfork(this.env.hardfork, this.env.rpcUrl, this.ctx.log) };
    this.ctx.log.info('EVM pool started', { threads: this.pool.threads, rpc: this.env.rpcUrl, hardfork: this.env.hardfork });
  }

  onBatch(msgs: Message[]): void {
    if (this.out.error() !== null) throw this.out.error();
    const m = this.ctx.metrics;
    for (const msg of msgs) {
      const slot = this.out.open(msg.seq, msg.firstSeenNs);
      if (msg.kind === Kind.BlockEvent) {
        this.head = msg.data as BlockEvent;
        this.gen++;
        Atomics.store(this.headGen, 0, this.gen);
        this.nonces.clear();
        // Replay: queued runs keep their head (each task names the head it runs on).
        if (!this.det) this.shedStale();
        this.pool?.warm(this.env, this.head);
        slot.records.push([msg.kind, msg.data, msg.sub]);
      } else if (msg.kind === Kind.DecodedTx) {
        const tx = msg.data as DecodedTx;
        if (tx.intent !== null && poolsResolved(tx.intent)) {
          m.count('fast');
          slot.records.push([msg.kind, tx, msg.sub]);
        } else if (this.pool === null) m.count('skipped.evm-off');
        // No state to run on before the first head.
        else if (this.head === null) m.count('skipped.no-head');
        // Its sender's nonce on the head state is known and is not this one: it cannot run first in
        // the next block (an earlier transaction of the sender is pending), so the EVM would only
        // say `invalid`.
        else if (!this.det && (this.nonces.get(tx.from) ?? tx.nonce) !== tx.nonce) m.count('skipped.nonce');
        else {
          slot.open = 1;
          this.admit({ slot, tx, value: estimatedValue(tx), gen: this.det ? -1 : this.gen, head: this.head });
        }
      } else slot.records.push([msg.kind, msg.data, msg.sub]);
    }
    this.dispatch();
    this.out.flush();
  }

  /** Queues an EVM entry, shedding the least valuable waiting one when full. */
  private admit(e: EvmJob): void {
    const max = this.ctx.config.maxPending;
    if (this.det || this.waiting.length + this.running < max) {
      this.waiting.push(e);
      return;
    }
    let low = e;
    for (const w of this.waiting) if (w.value < low.value) low = w;
    this.shed(low, 'shed.full');
    if (low !== e) {
      this.waiting.splice(this.waiting.indexOf(low), 1);
      this.waiting.push(e);
    }
  }

  private shed(e: EvmJob, counter: string): void {
    this.ctx.metrics.count(counter);
    e.slot.open = 0;
  }

  /** A new head makes every undispatched simulation stale: its transaction may be in that block. */
  private shedStale(): void {
    for (const w of this.waiting) this.shed(w, 'shed.stale');
    this.waiting.length = 0;
  }

  private dispatch(): void {
    const pool = this.pool;
    if (pool === null) return;
    const maxAgeNs = this.ctx.config.maxAgeMs * 1e6;
    while (this.running < pool.threads && this.waiting.length > 0) {
      const e = this.waiting.shift()!;
      const t0 = monoNs();
      if (maxAgeNs > 0 && !this.det && t0 - e.slot.firstSeenNs > maxAgeNs) {
        this.shed(e, 'shed.age');
        continue;
      }
      this.running++;
      pool
        .simulate({ op: 'simulate', env: this.env, head: this.det ? e.head : this.head!, tx: e.tx, gen: e.gen, headGen: this.headGen })
        .then(
          (r) => {
            recordNs(this.simService, monoNs() - t0);
            this.complete(e, r);
          },
          (err: unknown) => {
            // The pool failing is the stage failing: crash so the batch is redelivered.
            this.out.fail(err);
          },
        )
        .finally(() => {
          this.running--;
          this.dispatch();
          this.out.flush();
        });
    }
  }

  private complete(e: EvmJob, r: SimulateOutcome): void {
    const m = this.ctx.metrics;
    e.slot.open = 0;
    if (!r.ok) {
      if (r.reason === 'stale') m.count('shed.stale');
      else m.countKeyed('state', r.code);
      return;
    }
    // Only runs on the current head teach its nonces (a late result of an older head does not).
    if (e.gen === this.gen) this.nonces.set(e.tx.from, r.senderNonce);
    const now = monoNs();
    const sim: SimulatedTx = { tx: e.tx, ...r.result, simulatedNs: now };
    m.countKeyed('evm', sim.status);
    // A transaction the head state cannot run (nonce gap, unaffordable) did nothing to score; not
    // emitting it also keeps the output the same whether the nonce skip above caught it first.
    if (sim.status === 'invalid') return;
    e.slot.records.push([Kind.SimulatedTx, sim, 0]);
    if (sim.pools.length > 0) m.count('evm.touchedPools');
    recordNs(this.seenToSimulated, now - e.slot.firstSeenNs);
  }

  settled(): Promise<void> | null {
    return this.out.settled();
  }

  async onStop(): Promise<void> {
    await this.out.drain();
    await this.pool?.close();
  }
}

/**
 * True when the decoder named every pool the intent swaps through (known routers: CREATE2 from a
 * configured factory; direct pair calls), so closed-form math can price it. A known router ABI on
 * an unknown address gives legs without pools: those run in the EVM.
 */
export function poolsResolved(intent: SwapIntent): boolean {
  if (intent.legs.length === 0) return false;
  for (const leg of intent.legs) {
    const hops = leg.path.length > 0 ? leg.path.length - 1 : 1;
    if (leg.pools.length !== hops) return false;
  }
  return true;
}

/** What a transaction is worth to look at: what its sender pays for gas at most, plus the ether it moves. */
function estimatedValue(tx: DecodedTx): bigint {
  return (tx.maxFeePerGas ?? tx.gasPrice ?? 0n) * tx.gas + tx.value;
}
