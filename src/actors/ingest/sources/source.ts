import type { BlockEvent, RpcTransaction } from '../../../messages/schema.js';
import type { OrionError } from '../../../runtime/errors.js';

/**
 * The contract between the ingest actor and what feeds it (a node websocket, a capture file). A
 * source pushes into a {@link SourceSink} from its own socket or timer handlers on the ingest
 * thread's event loop; the actor merges, dedupes across sources and writes the ring.
 */

/** Where a source delivers events; called synchronously from the source's socket handlers. */
export interface SourceSink {
  /** A pending transaction: exactly one of raw/rpc set; hash lowercase 0x-hex; seenNs = monoNs() when the frame arrived. */
  tx(source: number, seenNs: number, hash: string, raw: Uint8Array | null, rpc: RpcTransaction | null): void;
  /** A new head (full BlockEvent: fill every field from the newHeads object; reorg = parentHash !== previous head's hash when the number did not advance by exactly one, or the same number came with another hash). */
  block(source: number, seenNs: number, block: BlockEvent): void;
  /** Connection state changes and errors, for logs/metrics (never throws into the source). */
  status(source: number, event: SourceStatusEvent): void;
}

/** A feed of pending transactions and heads, driven by the ingest actor. */
export interface Source {
  /** Index of this source in `config.ingest.sources`; passed back on every sink call. */
  readonly id: number;
  /** Name for logs and metrics. */
  readonly name: string;
  /** True when ingest must wait for ring space rather than shed this source's txs (a capture replay). */
  readonly lossless?: boolean;
  /** Begins connecting/reading; returns at once (delivery happens from event handlers). */
  start(): void;
  /** Closes sockets and cancels every timer; resolves when nothing of the source is left running. */
  stop(): Promise<void>;
  /** A snapshot of the counters. @remarks Allocates; not for the hot path. */
  stats(): SourceStats;
}

/** How a node delivers pending transactions: full objects, or hashes the source fetches. */
export type SourceMode = 'full' | 'hashes';

/**
 * Why a frame from the node was dropped. Stable: metrics and tests key on these.
 * - `not-json`: the frame does not parse as JSON.
 * - `oversized`: larger than `maxFrameBytes` (dropped unparsed).
 * - `unknown-subscription`: a notification for a subscription this connection did not open.
 * - `malformed-tx`: a pending-tx notification or fetch result that is not a tx object with a 32-byte hash (or raw hex).
 * - `malformed-head`: a newHeads object missing or mangling a field a `BlockEvent` needs.
 * - `rpc-error`: a JSON-RPC error reply (to a subscription, a fetch, a backfill, or an unparseable request).
 * - `unexpected-frame`: valid JSON that is neither a notification nor a reply to a request in flight.
 */
export type BadFrameCode = 'not-json' | 'oversized' | 'unknown-subscription' | 'malformed-tx' | 'malformed-head' | 'rpc-error' | 'unexpected-frame';

/** Every {@link BadFrameCode}, in a fixed order (for zeroed counters and metric names). */
export const BAD_FRAME_CODES: readonly BadFrameCode[] = Object.freeze([
  'not-json', 'oversized', 'unknown-subscription', 'malformed-tx', 'malformed-head', 'rpc-error', 'unexpected-frame',
] as const);

/** Counters of one source; a snapshot from {@link Source.stats}. */
export interface SourceStats {
  /** True while a connection is open (subscribed or subscribing). */
  connected: boolean;
  /** Connection attempts so far, including the first. */
  connectAttempts: number;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Websocket messages received. */
  frames: number;
  /** Transactions delivered to the sink. */
  txs: number;
  /** Heads delivered to the sink. */
  blocks: number;
  /** Transactions not delivered because this source already delivered (or is fetching) the hash. */
  duplicatesSuppressed: number;
  /** Transactions requested by hash (hash mode). */
  fetches: number;
  /** Fetches that failed (error reply, timeout); the hash may come back through a backfill. */
  fetchErrors: number;
  /** Fetches answered `null`: the tx was mined or dropped meanwhile. Expected, not an error. */
  fetchMissing: number;
  /** Transactions delivered from a reconnect backfill (`txpool_content` or the pending block). */
  backfilled: number;
  /** Dropped frames by reason. */
  badFrames: Record<BadFrameCode, number>;
  /** How pending transactions currently arrive. */
  mode: SourceMode;
  /** Last error or bad frame, one line, or null. */
  lastError: string | null;
}

/** What a source reports through {@link SourceSink.status}. `endpoint` never carries a URL's path or credentials. */
export type SourceStatusEvent =
  | { type: 'connecting'; endpoint: string; attempt: number }
  | { type: 'connected'; endpoint: string; reconnect: boolean }
  | { type: 'subscribed'; stream: 'pending-full' | 'pending-hashes' | 'heads'; subscription: string }
  | { type: 'mode'; mode: SourceMode; reason: string }
  | { type: 'backfill'; method: string; txs: number; duplicates: number }
  | { type: 'disconnected'; code: number; reason: string }
  | { type: 'retry'; attempt: number; delayMs: number }
  | { type: 'bad-frame'; code: BadFrameCode; detail: string }
  | { type: 'error'; error: OrionError }
  | { type: 'stopped' };
