import type { Message } from '../../messages/envelope.js';
import { type BlockEvent, type DecodedTx, Kind, type RawTx } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { monoNs } from '../../runtime/clock.js';
import { recordNs } from '../../runtime/metrics.js';
import { classifyCalldataWithReason } from './calldata/classify.js';
import { RouterRegistry } from './calldata/router-registry.js';
import type { DecoderConfig } from './decoder-config.js';
import { EarlyFilter } from './early-filter.js';
import { decodeTransaction } from './tx/decode-tx.js';
import { TxDecodeError } from './tx/errors.js';
import { decodeRpcTransaction } from './tx/from-rpc.js';
import { recoveryBackend } from './tx/sender.js';
import { readSenderHints } from '../../replay/capture/senders.js';

/**
 * The decoder stage: turns each `RawTx` into one canonical `DecodedTx` (every transaction type,
 * validity checked, sender recovered once with native secp256k1), classifies its calldata into a
 * swap intent, and drops early what no enabled strategy can use. Block events pass through in
 * order, and give the filter the head it checks deadlines against.
 *
 * Every rejection and every drop is counted under a stable code (`reject.<TX_…>`,
 * `filtered.<reason>`); a bad transaction never stops the stage.
 */
export class Decoder implements Actor {
  private readonly registry: RouterRegistry;
  private readonly filter: EarlyFilter;
  private readonly opts: { chainId?: bigint; maxBytes: number; senders?: ReadonlyMap<string, string> };
  private readonly seenToDecoded;
  private head: BlockEvent | null = null;
  /** Offer every decoded tx to the `tap` port (set by the engine for the gateway's `txs` topic). */
  private readonly tap: boolean;

  constructor(private readonly ctx: ActorContext<DecoderConfig & { tap?: boolean }>) {
    const c = ctx.config;
    this.registry = new RouterRegistry(c.routers);
    this.filter = new EarlyFilter(c.filter);
    this.opts = c.chainId === null ? { maxBytes: c.maxTxBytes } : { chainId: BigInt(c.chainId), maxBytes: c.maxTxBytes };
    if (c.senderHints) this.opts.senders = readSenderHints(c.senderHints);
    this.seenToDecoded = ctx.metrics.histogram('firstSeenToDecoded');
    this.tap = c.tap === true;
  }

  onStart(): void {
    const backend = recoveryBackend();
    this.ctx.metrics.countKeyed('secp256k1', backend, 0);
    if (backend === 'native') this.ctx.log.info('sender recovery: native libsecp256k1', { backend });
    else this.ctx.log.warn('sender recovery: pure JS (the native secp256k1 binding did not load; ~50x slower)', { backend });
  }

  onBatch(msgs: Message[]): void {
    const { ctx } = this;
    for (const m of msgs) {
      if (m.kind === Kind.RawTx) this.decode(m as Message<RawTx>);
      else {
        if (m.kind === Kind.BlockEvent) this.head = m.data as BlockEvent;
        ctx.emit('out', m.kind, m.seq, m.sub, m.firstSeenNs, m.data);
      }
    }
  }

  private decode(m: Message<RawTx>): void {
    const { ctx } = this;
    const metrics = ctx.metrics;
    const raw = m.data;
    let tx: DecodedTx;
    try {
      if (raw.raw !== null) {
        tx = decodeTransaction(raw.raw, this.opts);
        if (raw.hash !== null && raw.hash !== tx.hash) tx.hashMismatch = true;
      } else if (raw.rpc !== null) {
        const r = decodeRpcTransaction(raw.rpc, this.opts);
        tx = r.tx;
        tx.hashMismatch = r.hashMismatch;
      } else {
        metrics.count('reject.TX_EMPTY');
        return;
      }
    } catch (err) {
      if (!(err instanceof TxDecodeError)) throw err;
      metrics.countKeyed('reject', err.code);
      return;
    }
    if (tx.hashMismatch) metrics.count('hashMismatch');
    tx.firstSeenNs = m.firstSeenNs;
    tx.source = raw.source;
    const c = classifyCalldataWithReason(tx.to, tx.input, tx.value, this.registry, tx.from);
    tx.intent = c.intent;
    metrics.countKeyed('calldata', c.reason);
    // The gateway's `txs` topic sees every decoded tx; a full tap ring drops it (counted), never waits.
    if (this.tap) ctx.offer('tap', Kind.DecodedTx, m.seq, 0, m.firstSeenNs, tx);
    const drop = this.filter.check(tx, this.head);
    if (drop !== null) {
      metrics.countKeyed('filtered', drop);
      return;
    }
    if (tx.intent !== null) metrics.countKeyed('intent', tx.intent.kind);
    metrics.count('decoded');
    ctx.emit('out', Kind.DecodedTx, m.seq, 0, m.firstSeenNs, tx);
    recordNs(this.seenToDecoded, monoNs() - m.firstSeenNs);
  }
}
