import { closeSync, openSync, readSync } from 'node:fs';
import { LATE_SUB_BASE } from '../../src/actors/ordered-output.js';
import { rpc } from '../../src/devnet/anvil.js';
import { Kind } from '../../src/messages/schema.js';
import { hostActor } from '../../src/runtime/actor-host.js';
import { monoNs } from '../../src/runtime/clock.js';
import { parseBig } from './big-json.js';
import { headEvent } from './head-event.js';

/**
 * A source stage for submitter tests: emits the opportunities a test appends to an inbox file (one
 * {@link stringifyBig} line each) and a `BlockEvent` for every block the node mines, in block
 * order. It stands in for ingest → scorer when a test needs opportunities it built itself (many
 * at once, exact plans) in front of the real submitter thread. A line with `"late": true` goes out
 * the way the scorer emits a verification outcome (`OrderedOutput.late`): under the last record's
 * seq with sub `LATE_SUB_BASE + k`, k counting such records since that record.
 */

/** Config of the source. */
export interface OpportunitySourceConfig {
  /** The node whose blocks become BlockEvents. */
  rpcUrl: string;
  /** File of opportunity lines; read from its start, then followed. */
  inbox: string;
}

hostActor<OpportunitySourceConfig>((ctx) => {
  const { rpcUrl, inbox } = ctx.config;
  const buf = Buffer.alloc(1 << 20);
  let offset = 0;
  let carry = '';
  let head = -1;
  /** The last direct record's seq, and how many late records followed it. */
  let lastSeq = -1;
  let lates = 0;
  const direct = (kind: Kind, now: number, data: unknown): void => {
    lastSeq = ctx.nextSeq();
    lates = 0;
    ctx.emit('out', kind, lastSeq, 0, now, data);
  };
  return {
    io: true,
    async onStart() {
      head = Number(await rpc<string>(rpcUrl, 'eth_blockNumber', []));
    },
    async poll() {
      // New inbox lines first: an opportunity targets the block after the head it was built on.
      let fd = -1;
      try {
        fd = openSync(inbox, 'r');
        for (let n = readSync(fd, buf, 0, buf.length, offset); n > 0; n = readSync(fd, buf, 0, buf.length, offset)) {
          offset += n;
          carry += buf.toString('utf8', 0, n);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      } finally {
        if (fd >= 0) closeSync(fd);
      }
      const lines = carry.split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        if (line === '') continue;
        const now = monoNs();
        const { late, ...opp } = parseBig<Record<string, unknown>>(line);
        opp.timings = { firstSeenNs: now, scoredNs: now, verifiedNs: now };
        if (late === true && lastSeq >= 0) ctx.emit('out', Kind.Opportunity, lastSeq, LATE_SUB_BASE + lates++, now, opp);
        else direct(Kind.Opportunity, now, opp);
      }
      const latest = Number(await rpc<string>(rpcUrl, 'eth_blockNumber', []));
      while (head < latest) {
        head++;
        const ev = await headEvent(rpcUrl, `0x${head.toString(16)}`);
        direct(Kind.BlockEvent, monoNs(), ev);
      }
      return 25;
    },
  };
});
