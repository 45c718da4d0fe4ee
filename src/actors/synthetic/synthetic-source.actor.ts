import { type BlockEvent, Kind, type SyntheticTx } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import { monoNs } from '../../runtime/clock.js';
import type { FaultSpec, SyntheticConfig } from '../../runtime/config.js';
import { FaultInjector, burn } from './faults.js';

/** Config slice of the synthetic source. */
export interface SyntheticSourceConfig {
  rate: number;
  count: number;
  recordBytes: number;
  blockEvery: number;
  onFull: SyntheticConfig['onFull'];
  workNs: number;
  faults: FaultSpec[];
}

/** Records emitted per poll before the host gets a turn (heartbeat, stop flag). */
const POLL_BUDGET = 1024;

/**
 * Stand-in for ingest: emits synthetic transactions (and an in-band block event every
 * `blockEvery`) on a fixed schedule. A record's first-seen time is when the source emitted it, as
 * real ingest stamps arrival. The source's own timer slack (~100 µs per sleep here) is therefore
 * not charged to the pipeline. A source held back by a full ring emits late, so benchmarks correct
 * for coordinated omission with the expected interval (1/rate) when they record latency. Sequence
 * numbers and the schedule origin live in shared memory, so a restarted source continues where it
 * stopped.
 */
export class SyntheticSource implements Actor {
  private readonly body: Uint8Array;
  private readonly bodyView: DataView;
  private readonly tx: SyntheticTx;
  private readonly faults: FaultInjector;
  private readonly intervalNs: number;
  private epoch = 0;

  constructor(private readonly ctx: ActorContext<SyntheticSourceConfig>) {
    const c = ctx.config;
    this.body = new Uint8Array(c.recordBytes);
    this.bodyView = new DataView(this.body.buffer);
    this.tx = { body: this.body, hops: 1 };
    this.faults = new FaultInjector(ctx.name, c.faults, ctx.shared.faults);
    this.intervalNs = c.rate > 0 ? 1e9 / c.rate : 0;
  }

  onStart(): void {
    this.epoch = this.ctx.seqEpochNs() || this.ctx.seqEpochNs(monoNs());
  }

  poll(): number {
    const c = this.ctx.config;
    const ctx = this.ctx;
    let now = monoNs();
    for (let n = 0; n < POLL_BUDGET; n++) {
      const seq = ctx.peekSeq();
      if (c.count > 0 && seq >= c.count) return -1;
      const due = this.intervalNs > 0 ? this.epoch + seq * this.intervalNs : now;
      if (due > now) {
        now = monoNs();
        if (due > now) return (due - now) / 1e6;
      }
      this.faults.check(seq);
      burn(c.workNs);
      ctx.nextSeq();
      ctx.metrics.records++;
      const firstSeen = monoNs();
      if (c.blockEvery > 0 && seq % (c.blockEvery + 1) === c.blockEvery) {
        const number = Math.floor(seq / (c.blockEvery + 1)) + 1;
        const block: BlockEvent = {
          number,
          hash: blockHash(number),
          parentHash: blockHash(number - 1),
          timestamp: Math.floor(firstSeen / 1e9),
          baseFeePerGas: 1_000_000_000n,
          gasLimit: 30_000_000n,
          gasUsed: 0n,
          miner: ZERO_ADDRESS,
          prevRandao: blockHash(number),
          excessBlobGas: null,
          reorg: false,
        };
        ctx.emit('out', Kind.BlockEvent, seq, 0, firstSeen, block);
        continue;
      }
      // Stamp the sequence into the body so the far end can check content as well as order.
      this.bodyView.setUint32(0, seq >>> 0, true);
      if (c.onFull === 'shed') ctx.offer('out', Kind.SyntheticTx, seq, 0, firstSeen, this.tx);
      else ctx.emit('out', Kind.SyntheticTx, seq, 0, firstSeen, this.tx);
    }
    return 0;
  }
}

function blockHash(n: number): string {
  return `0x${n.toString(16).padStart(64, '0')}`;
}
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';
