import type { RawMessage } from '../../messages/envelope.js';
import { Kind, type SyntheticTx, createPackr } from '../../messages/schema.js';
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
 * counts the hop, and forwards every record (block events too) in order. Records travel on as the
 * bytes they came in (`ctx.forward`), without an unpack and a re-pack: a stage's garbage per record
 * is then a few bytes instead of ~1 KB, and its young-generation collections, each a pause that
 * records queue behind, become rare.
 */
export class PassThrough implements Actor {
  readonly io: boolean;
  private readonly faults: FaultInjector;

  constructor(private readonly ctx: ActorContext<PassThroughConfig>) {
    this.io = ctx.config.io;
    this.faults = new FaultInjector(ctx.name, ctx.config.faults, ctx.shared.faults);
  }

  onRawBatch(msgs: readonly RawMessage[]): void {
    const { ctx } = this;
    const work = ctx.config.workNs;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!; // an index, not for-of: the array iterator was this loop's only garbage
      this.faults.check(m.seq);
      burn(work);
      if (m.kind === Kind.SyntheticTx && !bumpHops(m.bytes, m.start, m.end)) {
        // Not in the packed form bumpHops knows: count the hop on the decoded record.
        const tx = ctx.decode(m) as SyntheticTx;
        tx.hops++;
        ctx.emit('out', m.kind, m.seq, m.sub, m.firstSeenNs, tx);
      } else ctx.forward('out', m);
    }
  }
}

/**
 * How this thread's packer writes a `SyntheticTx`: its record id, then `body` as msgpack bin, then
 * `hops`. Learnt from the packer itself, so a schema change disables the fast path instead of
 * corrupting records.
 */
const PROBE = createPackr().pack({ body: new Uint8Array(0), hops: 0 } satisfies SyntheticTx);
/** Record id of the `SyntheticTx` structure, or -1 when the probe does not have the expected form. */
const SYNTHETIC_TX_RECORD = PROBE.length === 4 && PROBE[1] === 0xc4 && PROBE[2] === 0 && PROBE[3] === 0 ? PROBE[0]! : -1;

/**
 * Adds one to the `hops` of a packed `SyntheticTx` in `bytes[start..end)`, in place, when the
 * payload is the record id, a bin `body` and then `hops` as its last bytes in one of the two forms
 * msgpackr writes small counts in: a positive fixint below 0x3f (0x40–0x7f are record ids when
 * records are on, so 0x3f cannot grow in place) or a uint8 (`0xcc`, n) below 255. False, and the
 * bytes untouched, for any other form.
 */
export function bumpHops(bytes: Uint8Array, start: number, end: number): boolean {
  if (SYNTHETIC_TX_RECORD < 0 || end - start < 4 || bytes[start] !== SYNTHETIC_TX_RECORD) return false;
  const tag = bytes[start + 1]!;
  let len: number;
  let body: number;
  if (tag === 0xc4) {
    len = bytes[start + 2]!;
    body = start + 3;
  } else if (tag === 0xc5) {
    len = (bytes[start + 2]! << 8) | bytes[start + 3]!;
    body = start + 4;
  } else if (tag === 0xc6) {
    if (end - start < 7) return false;
    len = ((bytes[start + 2]! << 24) | (bytes[start + 3]! << 16) | (bytes[start + 4]! << 8) | bytes[start + 5]!) >>> 0;
    body = start + 6;
  } else return false;
  const at = body + len;
  if (at === end - 1 && bytes[at]! < 0x3f) {
    bytes[at] = bytes[at]! + 1;
    return true;
  }
  if (at === end - 2 && bytes[at] === 0xcc && bytes[at + 1]! < 0xff) {
    bytes[at + 1] = bytes[at + 1]! + 1;
    return true;
  }
  return false;
}
