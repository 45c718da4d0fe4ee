/** A node websocket source (`eth_subscribe` pending transactions and heads). */
export interface RpcWsSourceConfig {
  kind: 'rpc-ws';
  /** Unique name, used in metrics and logs (`source.<name>.txs`). */
  name: string;
  /** `ws://` or `wss://` endpoint. */
  url: string;
  /** `full` transaction objects, `hashes` + batched fetch, or `auto` (full, falling back to hashes). */
  mode: 'auto' | 'full' | 'hashes';
  /** Tuning; each defaults as in `RPC_WS_DEFAULTS` (src/actors/ingest/sources/rpc-ws.ts). */
  fetchBatch?: number;
  fetchDelayMs?: number;
  backfillOnReconnect?: boolean;
  recentHashes?: number;
  maxFrameBytes?: number;
  requestTimeoutMs?: number;
  heartbeatMs?: number;
  connectTimeoutMs?: number;
  reconnect?: { initialMs?: number; maxMs?: number; factor?: number };
}

/** A capture file or directory read back as a source. */
export interface CaptureSourceConfig {
  kind: 'capture';
  name: string;
  path: string;
  /** `max` (as fast as the ring takes it) or a multiple of the recorded pace (1 = real time). */
  speed: 'max' | number;
}

/** One ingest source. */
export type IngestSourceConfig = RpcWsSourceConfig | CaptureSourceConfig;

/** Recording what the sources deliver to a capture (`--record`). */
export interface RecordConfig {
  /** Directory of capture segments. */
  dir: string;
  /** Rotate to a new segment past this size. */
  segmentBytes: number;
  /** Delete the oldest segments while the capture exceeds this; 0 keeps everything. */
  retainBytes: number;
  /** Also start a new segment once one has been open this long (ms); 0 or absent: by size only. */
  segmentMs?: number;
  /** Delete segments whose last record is older than this (ms); 0 or absent: no age limit. */
  retainMs?: number;
}

/** Config slice of the ingest actor. */
export interface IngestConfig {
  sources: IngestSourceConfig[];
  /** Recent transaction hashes remembered for the cross-source merge. */
  dedupeWindow: number;
  record: RecordConfig | null;
  /** Chain id written to capture headers; null when unknown. */
  chainId: number | null;
}
