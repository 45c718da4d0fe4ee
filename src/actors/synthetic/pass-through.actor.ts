import type { Message } from '../../messages/envelope.js';
import { Kind, type SyntheticTx } from '../../messages/schema.js';
import type { Actor, ActorContext } from '../../runtime/actor.js';
import type { FaultSpec } from '../../runtime/config.js';
import { FaultInjector, burn } from './faults.js';

/** Config slice of a synthetic pass-through stage. */
export interface PassThroughConfig {
  workNs: number;
  /** Run the actor's event loop between batches (exercises the host's I/O mode). */
  io: boolean;
  faults: FaultSpec[];
}

/**
 * Stand-in for decoder, simulator, scorer and submitter: burns the configured CPU per record,
 * counts the hop, and forwards every record (block events too) in order.
 */
export class PassThrough implements Actor {
  readonly io: boolean;
  private readonly faults: FaultInjector;

  constructor(private readonly ctx: ActorContext<PassThroughConfig>) {
    this.io = ctx.config.io;
    this.faults = new FaultInjector(ctx.name, ctx.config.faults, ctx.shared.faults);
  }

  onBatch(msgs: Message[]): void {
    const { ctx } = this;
    const work = ctx.config.workNs;
    for (const m of msgs) {
      this.faults.check(m.seq);
      burn(work);
      if (m.kind === Kind.SyntheticTx) (m.data as SyntheticTx).hops++;
      ctx.emit('out', m.kind, m.seq, m.sub, m.firstSeenNs, m.data);
    }
  }
}
