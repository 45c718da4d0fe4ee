/**
 * The submitter's ledger: every submission, each route attempt, outcomes (and reorgs that undo
 * them), predicted and realized profit, fees, the MEV exposure protected sends avoided, and the
 * operator's own transactions sent through the protect RPC. `GET /mev/stats` and the restart
 * recovery of pending submissions are computed from it.
 *
 * Storage: one append-only JSON-lines file, each entry written with ONE `writeSync` of a complete
 * line on an `O_APPEND` descriptor and then `fdatasync`ed, so an entry is durable when
 * {@link Ledger.append} returns. Why not a WAL-backed embedded database:
 * - none is available: Node 20 has no `node:sqlite`, and npm here skips install scripts, so no
 *   native binding (better-sqlite3, lmdb, leveldown) can be built;
 * - the write rate is a few entries per block (a submission, its sends, an outcome), so one
 *   fdatasync per entry (measured p50 0.2 ms, p99 3 ms on ext4 here) costs nothing a database
 *   would save;
 * - a crash (process killed mid-write, power loss) leaves at worst a torn last line: {@link Ledger.open}
 *   truncates it back to the last complete line and says so in {@link Ledger.openReport}; a
 *   damaged line anywhere else is an error naming its line and byte offset, never skipped;
 * - two writers (the submitter thread and the gateway's protect RPC) may append to the same file:
 *   on Linux an `O_APPEND` write to a regular file positions and copies under the inode lock, so
 *   whole-line writes never interleave; readers only consume lines ending in `\n` (a reader may
 *   see a line half-copied, so open truncates an incomplete tail only once it has stayed the same
 *   for `settleMs`);
 * - it is greppable (`grep <txHash> ledger.jsonl`), which is how an operator audits it and how the
 *   secrets test checks it.
 * Limits: {@link Ledger.open} replays the whole file and keeps every record in memory (read in
 * 1 MiB chunks; measured ~9 µs and ~1 KB of heap per line: 3·10^5 lines, 86 MB, open in 2.8 s;
 * 10^6 lines take ~9 s and over 1 GB, about the practical ceiling); {@link Ledger.stats} costs the
 * records of the last week, all-time totals are kept as lines are applied; there is no rotation or
 * compaction (start a new file to archive); nothing stops two engines from sharing one file (Node
 * has no advisory lock), and the duplicate-id check across two live writers is best-effort (each
 * checks what it has read).
 *
 * Recovery: write the `submission` before the first send. After a crash, a submission with no
 * `send` is in doubt (status `recorded`, listed by {@link Ledger.pending}): the crash may have come
 * between the send and its record, so its nonces may be in use until its blocks pass.
 *
 * Every line carries `"v":1`. Amounts are decimal strings of wei (bigints in, strings stored).
 * Entries must never hold secrets: {@link Ledger.append} refuses fields named like a key and
 * 64-hex-digit strings outside the hash fields (see {@link SECRET_SAFE_FIELDS}).
 */
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { OrionError, type OrionErrorCode } from '../../runtime/errors.js';
import type { Hex, RouteName } from './types.js';

/** Format version written in every line (`"v":1`). */
export const LEDGER_VERSION = 1;

/** A `Record` over {@link RouteName}, so a route added to types.ts fails to compile here until listed. */
const ROUTES: Record<RouteName, true> = { flashbots: true, 'mev-blocker': true, 'private-rpc': true, public: true, 'dry-run': true };

/** Every route name, in the order `tradesByRoute` lists them. */
export const ROUTE_NAMES: readonly RouteName[] = Object.freeze(Object.keys(ROUTES) as RouteName[]);

/**
 * How a sent submission or protected transaction ended. All are terminal until a `reopened` entry.
 * `cancelled`: our cancellation (a 0-value self-transfer at the nonce) was mined, or a bundle was
 * withdrawn from the relays (`eth_cancelBundle`) and its block passed without it.
 */
export type OutcomeStatus = 'included' | 'missed' | 'reverted' | 'replaced' | 'expired' | 'cancelled';

/** An opportunity's plan as built, signed and (unless dry-run) handed to a route. Written before the first send. */
export interface SubmissionEntry {
  v: 1;
  type: 'submission';
  /** Submission id (see `Sendable.id`): stable across retries and route fallbacks. */
  id: string;
  /** Unix ms. */
  at: number;
  /** The opportunity it came from. */
  oppId: string;
  /** Strategy (`sandwich`, `backrun`, …). */
  kind: string;
  /** The route chosen first; a fallback shows up as another `send`. */
  route: RouteName;
  /** Whether that route keeps the transactions out of the public mempool. */
  protected: boolean;
  /** Built and recorded, never sent. */
  dryRun: boolean;
  /** Our sending account (lowercase address). */
  account: string;
  /** Decimal nonce of each of our transactions: `nonces[i]` is the nonce of `txHashes[ours[i]]`. */
  nonces: string[];
  /** Every transaction of the bundle, victims' included, in order. */
  txHashes: Hex[];
  /** Indexes in `txHashes` of our own transactions. */
  ours: number[];
  targetBlock: number;
  /** Predicted profit net of fees, wei (may be negative). */
  predictedNetWei: string;
  /** What we pay: gas at the predicted price plus any builder payment, wei. */
  feesWei: string;
  /** Estimated MEV exposure the protected route avoided, wei; `"0"` unless `protected`. */
  mevAvoidedWei: string;
  /**
   * `maxFeePerGas` and `maxPriorityFeePerGas` of each of our transactions (as `nonces`), wei; what
   * a replacement or cancellation after a restart must outbid. Absent in ledgers written before them.
   */
  maxFeePerGas?: string[];
  maxPriorityFeePerGas?: string[];
}

/** What a route answered to one attempt (a send, a replacement). */
export interface RouteAnswer {
  route: RouteName;
  /** At least one endpoint accepted. */
  ok: boolean;
  /** False when an endpoint may have accepted without saying so (see `RouteOutcome.definite`). */
  definite: boolean;
  /** Short reason of a refusal; 64-hex runs are redacted, at most 200 characters. */
  error?: string;
}

/** One route attempt of a submission; a fallback adds another. */
export interface SendEntry extends RouteAnswer {
  v: 1;
  type: 'send';
  id: string;
  at: number;
  /**
   * Set when this attempt carried our transactions re-signed with fresh nonces (after a `nonce too
   * low/high` answer): every transaction of the bundle and our nonces, as in the submission entry.
   * From then on the record's `entry` lists these.
   */
  txHashes?: Hex[];
  nonces?: string[];
}

/** How a submission or protected transaction ended (or the latest of its outcomes, after a reorg). */
export interface OutcomeEntry {
  v: 1;
  type: 'outcome';
  id: string;
  at: number;
  status: OutcomeStatus;
  /** Block it landed in (`included`, `reverted`) or the last block it could have. */
  block?: number;
  /** Realized profit net of everything paid, wei (negative for a loss, e.g. the gas of a revert). */
  realizedNetWei?: string;
  /** Gas actually paid, wei. */
  gasPaidWei?: string;
  /** Short free text; 64-hex runs are redacted, at most 200 characters. */
  reason?: string;
}

/**
 * Our transactions re-sent with the same nonces and higher fees (a transaction route's mempool
 * replacement, or a bundle re-sent under the same `replacementUuid`). When the route took it (or
 * may have), the record's `entry` lists these transactions from then on; the ones they replace may
 * still be the ones mined.
 */
export interface ReplaceEntry extends RouteAnswer {
  v: 1;
  type: 'replace';
  id: string;
  at: number;
  /** Every transaction of the bundle, ours replaced, in order (as the submission entry's). */
  txHashes: Hex[];
  /** Our nonces, unchanged. */
  nonces: string[];
  /** The new fees of each of our transactions, wei. */
  maxFeePerGas: string[];
  maxPriorityFeePerGas: string[];
}

/**
 * A cancellation: on a transaction route, a 0-value transfer to ourselves at each of our nonces
 * with higher fees (`txHashes`, one per nonce), which frees the nonces once mined; on the relay
 * route, `eth_cancelBundle` (no transactions); for a submission no route took, just the end of its
 * retries. The outcome follows (`cancelled` when it worked).
 */
export interface CancelEntry {
  v: 1;
  type: 'cancel';
  id: string;
  at: number;
  route: RouteName;
  /** `window`: its target window passed (or its victim landed without it); `operator`: `op=cancel`. */
  by: 'window' | 'operator';
  ok: boolean;
  definite: boolean;
  error?: string;
  /** The cancelling transactions, one per nonce in `nonces`; empty for a bundle or an unsent submission. */
  txHashes: Hex[];
  nonces: string[];
  maxFeePerGas?: string[];
  maxPriorityFeePerGas?: string[];
}

/** A reorg dropped the block of an outcome: the entry is pending again and its realized values void. */
export interface ReopenedEntry {
  v: 1;
  type: 'reopened';
  id: string;
  at: number;
  /** The block that was reorged out. */
  block: number;
  reason: 'reorg';
}

/** The operator's own transaction sent through the protect RPC; resolved later by an `outcome`. */
export interface ProtectEntry {
  v: 1;
  type: 'protect';
  id: string;
  at: number;
  txHash: Hex;
  route: RouteName;
  /** Sender (lowercase address). */
  account: string;
  /** Size of the trade in wei (its value, or the wei-equivalent of the swap input). */
  sizeWei: string;
  /** What a sandwich could have extracted from it in the public mempool, wei. */
  exposureWei: string;
}

/** One line of the ledger. */
export type LedgerEntry = SubmissionEntry | SendEntry | ReplaceEntry | CancelEntry | OutcomeEntry | ReopenedEntry | ProtectEntry;

/** An amount as {@link Ledger.append} takes it: a bigint or a decimal string. */
export type WeiInput = bigint | string;

type Loosen<E> = {
  [K in keyof E as K extends 'v' | 'at' ? never : K]: K extends `${string}Wei` ? WeiInput : K extends 'nonces' | 'maxFeePerGas' | 'maxPriorityFeePerGas' ? readonly WeiInput[] : E[K] extends (infer U)[] ? readonly U[] : E[K];
} & { v?: 1; at?: number };
type LoosenEach<E> = E extends LedgerEntry ? Loosen<E> : never;

/** What {@link Ledger.append} takes: an entry whose `v` and `at` may be left out and whose amounts may be bigints. */
export type LedgerInput = LoosenEach<LedgerEntry>;

/**
 * Where a submission stands. `recorded`: no send recorded yet (after a crash it is in doubt: the
 * crash may have come between a send and its record); `refused`: every route refused definitely;
 * `pending`: a route took it (or may have) and no outcome is known, or a reorg reopened it;
 * `dry-run`: never sent.
 */
export type RecordStatus = 'recorded' | 'refused' | 'pending' | 'dry-run' | OutcomeStatus;

/** The current state of one submission. Owned by the ledger: read, never mutate. */
export interface SubmissionRecord {
  readonly type: 'submission';
  readonly id: string;
  /** The submission entry, with the transactions and nonces of the latest re-signed send, if any. */
  readonly entry: SubmissionEntry;
  /** Route attempts in order. */
  readonly sends: readonly SendEntry[];
  /** Fee-bumped re-sends a route took (or may have), in order. */
  readonly replacements: readonly ReplaceEntry[];
  /** The latest cancellation a route took (or may have), or null. */
  readonly cancel: CancelEntry | null;
  /** Outcomes and reopenings in order. */
  readonly history: readonly (OutcomeEntry | ReopenedEntry)[];
  readonly status: RecordStatus;
  /** The route of the last send that took it (or may have), else `entry.route`. */
  readonly route: RouteName;
  /** The outcome in force: null before one, and after a reorg reopened it. */
  readonly outcome: OutcomeEntry | null;
}

/** The current state of one protect-RPC transaction. Owned by the ledger: read, never mutate. */
export interface ProtectRecord {
  readonly type: 'protect';
  readonly id: string;
  readonly entry: ProtectEntry;
  readonly history: readonly (OutcomeEntry | ReopenedEntry)[];
  /** `pending` until an outcome. */
  readonly status: 'pending' | OutcomeStatus;
  readonly outcome: OutcomeEntry | null;
}

/** The state of one id. */
export type LedgerRecord = SubmissionRecord | ProtectRecord;

/**
 * Totals over the submissions and protect transactions whose first entry (`submission` or
 * `protect`) is dated in `[from, to]`: a trade belongs to the window it was made in, and its
 * current status counts, whenever it was reached (so a closed window's set of trades never
 * changes, only their outcomes resolve).
 */
export interface StatsWindow {
  /** Unix ms, inclusive. */
  from: number;
  /** Unix ms, inclusive. */
  to: number;
  /** MEV avoided, wei: `mevAvoidedWei` of included protected submissions plus `exposureWei` of included protect txs. */
  savingsWei: string;
  /** Sum of the negative realized nets, as a positive number, wei. */
  lossesWei: string;
  /** Sum of the positive realized nets, wei. */
  profitWei: string;
  /** Sum of all realized nets (`profitWei − lossesWei`), wei. */
  netWei: string;
  /** Predicted net of the included submissions, to set against their realized net. */
  predictedNetWei: string;
  /** Gas actually paid (from outcomes), wei. */
  gasPaidWei: string;
  /** Submissions a route took or may have taken (not dry-run, not refused everywhere). */
  trades: number;
  /** Trades by the route that took them (the last fallback's, if any). */
  tradesByRoute: Record<RouteName, number>;
  included: number;
  missed: number;
  reverted: number;
  replaced: number;
  expired: number;
  /** Trades whose cancellation was mined (or whose bundle was withdrawn). */
  cancelled: number;
  /** Trades without an outcome yet (including those in doubt after a crash). */
  pending: number;
  /** `included / (included + missed + reverted)`; null when that is 0. */
  inclusionRate: number | null;
  /** Submissions every route refused definitely. */
  refused: number;
  dryRuns: number;
  /** Operator transactions sent through the protect RPC. */
  protectTxs: number;
}

/** What {@link Ledger.stats} returns: rolling windows ending at `nowMs`. */
export interface LedgerStats {
  /** `[now − 24 h, now]`. */
  daily: StatsWindow;
  /** `[now − 7 d, now]`. */
  weekly: StatsWindow;
  /** Every record, whatever its date (`from` 0, `to` now). */
  allTime: StatsWindow;
}

/** What {@link Ledger.open} found. */
export interface LedgerOpenReport {
  /** The file; null for an in-memory ledger. */
  path: string | null;
  /** The file did not exist and was created. */
  created: boolean;
  /** Entries replayed. */
  entries: number;
  /** File size after any repair. */
  bytes: number;
  /** A torn last line (crash mid-write) that was truncated away, or null. */
  tornTail: { offset: number; bytes: number; line: number } | null;
}

/** Options of {@link Ledger.open}. */
export interface LedgerOptions {
  /** Clock for entries appended without `at` (unix ms). Default `Date.now`. */
  now?: () => number;
  /**
   * How long an incomplete last line must stay unchanged before open treats it as torn and
   * truncates it, ms: another live writer's line may be half-visible for microseconds. Default 20.
   */
  settleMs?: number;
}

/**
 * Fields whose strings may be 64 hex digits (hashes, ids); anywhere else such a string is refused,
 * as it could be a private key.
 */
export const SECRET_SAFE_FIELDS: readonly string[] = Object.freeze(['id', 'oppId', 'txHash', 'txHashes']);

/** Field names refused outright: a guard against logging a key by accident. */
const SECRET_NAME = /key|secret|priv|mnemonic|seed|passw/i;
/** A run of 64 hex digits: the shape of a private key (and of a hash). */
const HEX64_RUN = /(0x)?[0-9a-fA-F]{64,}/;
const HEX64_RUN_G = /(0x)?[0-9a-fA-F]{64,}/g;

/** Longest line {@link Ledger.append} writes. */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_TEXT = 200;
const READ_CHUNK = 1024 * 1024;
const DAY_MS = 86_400_000;
const TWO_256 = 1n << 256n;

/** Damaged or inconsistent ledger file; fatal: restarting cannot mend a file. */
export class LedgerError extends OrionError {
  override name = 'LedgerError';
  /** The ledger file. */
  readonly file: string;
  /** Byte offset of the line concerned, or -1. */
  readonly offset: number;
  /** 1-based line number, or 0. */
  readonly line: number;

  constructor(file: string, offset: number, line: number, what: string, options: { cause?: unknown } = {}) {
    // errors.ts has no ledger code yet; 'ORION_ERR_LEDGER' is meant to join OrionErrorCode there.
    super('ORION_ERR_LEDGER' as string as OrionErrorCode, `${offset >= 0 ? `${file} line ${line} at byte ${offset}` : file}: ${what}`, { fatal: true, ...options });
    this.file = file;
    this.offset = offset;
    this.line = line;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema: one table drives validation and normalization of appended and replayed entries alike.

type FieldKind = 'ref' | 'name' | 'note' | 'time' | 'uint' | 'uints' | 'bool' | 'route' | 'address' | 'hash' | 'hashes' | 'wei' | 'uwei' | 'udecs' | 'status' | 'reorg' | 'by';
type FieldSpec = readonly [name: string, kind: FieldKind, optional?: 'optional'];

const SCHEMA: Record<LedgerEntry['type'], readonly FieldSpec[]> = {
  submission: [
    ['id', 'ref'], ['at', 'time'], ['oppId', 'ref'], ['kind', 'name'], ['route', 'route'], ['protected', 'bool'], ['dryRun', 'bool'],
    ['account', 'address'], ['nonces', 'udecs'], ['txHashes', 'hashes'], ['ours', 'uints'], ['targetBlock', 'uint'],
    ['predictedNetWei', 'wei'], ['feesWei', 'uwei'], ['mevAvoidedWei', 'uwei'],
    ['maxFeePerGas', 'udecs', 'optional'], ['maxPriorityFeePerGas', 'udecs', 'optional'],
  ],
  send: [['id', 'ref'], ['at', 'time'], ['route', 'route'], ['ok', 'bool'], ['definite', 'bool'], ['error', 'note', 'optional'], ['txHashes', 'hashes', 'optional'], ['nonces', 'udecs', 'optional']],
  replace: [
    ['id', 'ref'], ['at', 'time'], ['route', 'route'], ['ok', 'bool'], ['definite', 'bool'], ['error', 'note', 'optional'],
    ['txHashes', 'hashes'], ['nonces', 'udecs'], ['maxFeePerGas', 'udecs'], ['maxPriorityFeePerGas', 'udecs'],
  ],
  cancel: [
    ['id', 'ref'], ['at', 'time'], ['route', 'route'], ['by', 'by'], ['ok', 'bool'], ['definite', 'bool'], ['error', 'note', 'optional'],
    ['txHashes', 'hashes'], ['nonces', 'udecs'], ['maxFeePerGas', 'udecs', 'optional'], ['maxPriorityFeePerGas', 'udecs', 'optional'],
  ],
  outcome: [
    ['id', 'ref'], ['at', 'time'], ['status', 'status'], ['block', 'uint', 'optional'], ['realizedNetWei', 'wei', 'optional'],
    ['gasPaidWei', 'uwei', 'optional'], ['reason', 'note', 'optional'],
  ],
  reopened: [['id', 'ref'], ['at', 'time'], ['block', 'uint'], ['reason', 'reorg']],
  protect: [['id', 'ref'], ['at', 'time'], ['txHash', 'hash'], ['route', 'route'], ['account', 'address'], ['sizeWei', 'uwei'], ['exposureWei', 'uwei']],
};

const STATUSES: readonly string[] = ['included', 'missed', 'reverted', 'replaced', 'expired', 'cancelled'];
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Decimal string of an amount; `signed` allows negatives. Never echoes the value (it could be anything). */
function wei(where: string, v: unknown, signed: boolean): string {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'string' && DECIMAL.test(v)) n = BigInt(v);
  else throw new TypeError(`${where} must be a bigint or a decimal string`);
  if (!signed && n < 0n) throw new RangeError(`${where} must not be negative`);
  if (n >= TWO_256 || n <= -TWO_256) throw new RangeError(`${where} is out of range`);
  return n.toString();
}

function text(where: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${where} must be a non-empty string`);
  if (v.length > max) throw new RangeError(`${where} must be at most ${max} characters`);
  return v;
}

function normalizeField(where: string, kind: FieldKind, v: unknown, safe: boolean): unknown {
  switch (kind) {
    case 'ref':
    case 'name':
      // The secret check comes first, so a key is refused as one whatever else is wrong.
      if (!safe && typeof v === 'string' && HEX64_RUN.test(v)) throw new TypeError(`${where} holds 64 hex digits (a private key?): refused`);
      return text(where, v, kind === 'ref' ? MAX_TEXT : 64);
    case 'note':
      if (typeof v !== 'string') throw new TypeError(`${where} must be a string`);
      // Free text from RPC errors may quote hashes or raw data: redact rather than refuse.
      return v.replace(HEX64_RUN_G, '0x[redacted]').slice(0, MAX_TEXT);
    case 'time':
    case 'uint':
      if (!isUint(v)) throw new TypeError(`${where} must be a non-negative safe integer`);
      return v;
    case 'uints':
      if (!Array.isArray(v) || !v.every(isUint)) throw new TypeError(`${where} must be an array of non-negative integers`);
      return [...v];
    case 'bool':
      if (typeof v !== 'boolean') throw new TypeError(`${where} must be a boolean`);
      return v;
    case 'route':
      if (typeof v !== 'string' || !ROUTE_NAMES.includes(v as RouteName)) throw new TypeError(`${where} must be one of ${ROUTE_NAMES.join(', ')}`);
      return v;
    case 'address':
      if (typeof v !== 'string' || !ADDRESS.test(v)) throw new TypeError(`${where} must be a 0x-prefixed 20-byte address`);
      return v.toLowerCase();
    case 'hash':
      if (typeof v !== 'string' || !HASH.test(v)) throw new TypeError(`${where} must be a 0x-prefixed 32-byte hash`);
      return v.toLowerCase();
    case 'hashes':
      if (!Array.isArray(v) || !v.every((h) => typeof h === 'string' && HASH.test(h))) throw new TypeError(`${where} must be an array of 0x-prefixed 32-byte hashes`);
      return v.map((h: string) => h.toLowerCase());
    case 'wei':
    case 'uwei':
      return wei(where, v, kind === 'wei');
    case 'udecs':
      if (!Array.isArray(v)) throw new TypeError(`${where} must be an array of bigints or decimal strings`);
      return v.map((x, i) => wei(`${where}[${i}]`, x, false));
    case 'status':
      if (typeof v !== 'string' || !STATUSES.includes(v)) throw new TypeError(`${where} must be one of ${STATUSES.join(', ')}`);
      return v;
    case 'reorg':
      if (v !== 'reorg') throw new TypeError(`${where} must be 'reorg'`);
      return v;
    case 'by':
      if (v !== 'window' && v !== 'operator') throw new TypeError(`${where} must be 'window' or 'operator'`);
      return v;
  }
}

/**
 * Checks an entry against {@link SCHEMA} and returns it in canonical form (`v` and `type` first,
 * fields in schema order, amounts as decimal strings, hex lowercase). Unknown fields are refused;
 * a field named like a secret is refused with its own message. Messages never echo values.
 */
function normalize(raw: unknown, defaultAt: (() => number) | null): LedgerEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('ledger entry must be an object');
  const o = raw as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== 'string' || !Object.hasOwn(SCHEMA, type)) throw new TypeError(`ledger entry type must be one of ${Object.keys(SCHEMA).join(', ')}`);
  const spec = SCHEMA[type as LedgerEntry['type']];
  for (const k of Object.keys(o)) {
    if (SECRET_NAME.test(k)) throw new TypeError(`${type}.${k}: a field named like a secret is refused (the ledger must never hold keys)`);
    if (k !== 'v' && k !== 'type' && !spec.some(([name]) => name === k)) throw new TypeError(`${type}.${k}: unknown field`);
  }
  if (o.v !== undefined && o.v !== LEDGER_VERSION) throw new RangeError(`${type}.v: format version is not ${LEDGER_VERSION}`);
  if (o.v === undefined && defaultAt === null) throw new TypeError(`${type}.v: missing format version`);
  const out: Record<string, unknown> = { v: LEDGER_VERSION, type };
  for (const [name, kind, optional] of spec) {
    let v = o[name];
    if (v === undefined && name === 'at' && defaultAt !== null) v = defaultAt();
    if (v === undefined) {
      if (optional) continue;
      throw new TypeError(`${type}.${name}: missing`);
    }
    out[name] = normalizeField(`${type}.${name}`, kind, v, SECRET_SAFE_FIELDS.includes(name));
  }
  const e = out as unknown as LedgerEntry;
  if (e.type === 'submission') {
    if (!e.protected && e.mevAvoidedWei !== '0') throw new RangeError('submission.mevAvoidedWei must be "0" unless protected');
    if (e.ours.some((i) => i >= e.txHashes.length)) throw new RangeError('submission.ours: index past txHashes');
    if (e.nonces.length !== e.ours.length) throw new RangeError('submission.nonces: one per index in ours');
  }
  if (e.type === 'submission' || e.type === 'replace' || e.type === 'cancel') {
    for (const f of ['maxFeePerGas', 'maxPriorityFeePerGas'] as const) {
      const fees = e[f];
      if (fees !== undefined && fees.length !== e.nonces.length) throw new RangeError(`${e.type}.${f}: one per nonce`);
    }
  }
  if (e.type === 'cancel' && e.txHashes.length !== 0 && e.txHashes.length !== e.nonces.length) throw new RangeError('cancel.txHashes: none, or one per nonce');
  return e;
}

interface MutableSubmission {
  type: 'submission';
  id: string;
  entry: SubmissionEntry;
  sends: SendEntry[];
  replacements: ReplaceEntry[];
  cancel: CancelEntry | null;
  history: (OutcomeEntry | ReopenedEntry)[];
  status: RecordStatus;
  route: RouteName;
  outcome: OutcomeEntry | null;
}

interface MutableProtect {
  type: 'protect';
  id: string;
  entry: ProtectEntry;
  history: (OutcomeEntry | ReopenedEntry)[];
  status: 'pending' | OutcomeStatus;
  outcome: OutcomeEntry | null;
}

type MutableRecord = MutableSubmission | MutableProtect;

function isPending(r: MutableRecord): boolean {
  return r.status === 'pending' || r.status === 'recorded';
}

/** A torn last line found by {@link Ledger} while opening. */
interface Torn {
  /** Offset to truncate to. */
  cut: number;
  /** File size seen. */
  end: number;
  line: number;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The submitter's durable record (see the top of this file for the format and why). Open one per
 * writer (the submitter thread, the gateway); each sees the other's lines after {@link refresh}.
 * Queries ({@link get}, {@link pending}, {@link stats}) read memory only.
 * @remarks Allocates; a few calls per block, not for the hot path. Every append blocks on fdatasync.
 */
export class Ledger {
  /** The ledger file; null for an in-memory ledger (`ledgerPath: null`), which writes nothing. */
  readonly path: string | null;
  private fd: number;
  private closed = false;
  private readonly now: () => number;
  private readonly settleMs: number;
  /** Bytes consumed: the offset just after the last complete line read. */
  private offset = 0;
  /** Lines consumed. */
  private lines = 0;
  private readonly records = new Map<string, MutableRecord>();
  /** Records sorted by the date of their first entry (ties in file order): windows are a binary search and a slice. */
  private readonly byTime: MutableRecord[] = [];
  /** All-time totals, kept current by every apply (a record's old contribution out, its new one in). */
  private readonly total = new WindowSum();
  private readonly pendingIds = new Set<string>();
  private report: LedgerOpenReport;
  private readBufLazy: Buffer | null = null;

  private get readBuf(): Buffer {
    return (this.readBufLazy ??= Buffer.allocUnsafe(READ_CHUNK));
  }

  private get where(): string {
    return this.path ?? '(in-memory ledger)';
  }

  private constructor(path: string | null, fd: number, created: boolean, options: LedgerOptions) {
    this.path = path;
    this.fd = fd;
    this.now = options.now ?? Date.now;
    this.settleMs = options.settleMs ?? 20;
    this.report = { path, created, entries: 0, bytes: 0, tornTail: null };
  }

  /**
   * Opens (creating it and its directory if needed) and replays the ledger at `path`. A torn last
   * line is truncated away and reported in {@link openReport}; any other damaged line throws a
   * {@link LedgerError} naming its line and byte offset. `null`: an empty in-memory ledger that
   * validates and applies entries as a file-backed one does and writes nothing.
   */
  static open(path: string | null, options: LedgerOptions = {}): Ledger {
    if (options.settleMs !== undefined && !isUint(options.settleMs)) throw new TypeError('ledger: settleMs must be a non-negative integer');
    // No file: entries are validated and applied as usual, and kept in memory only.
    if (path === null) return new Ledger(null, -1, true, options);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let fd: number;
    let created = false;
    try {
      fd = openSync(path, 'ax+', 0o600);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      fd = openSync(path, 'a+');
    }
    const ledger = new Ledger(path, fd, created, options);
    try {
      if (!fstatSync(fd).isFile()) throw new TypeError(`ledger: ${path} is not a regular file`);
      if (created) fsyncDir(dirname(path));
      ledger.load();
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return ledger;
  }

  /** What {@link open} found: entries replayed, and the torn tail it truncated, if any. */
  openReport(): LedgerOpenReport {
    return this.report;
  }

  /** Entries read (replayed, appended, refreshed) so far. */
  get entries(): number {
    return this.lines;
  }

  /**
   * Validates `input`, writes it as one line and fdatasyncs: the entry is durable on return. Adds
   * `v` and `at` (now) when missing. Reads other writers' new lines first, so ids they created are
   * known. Throws a `TypeError` for a malformed entry or one that could hold a secret (a field
   * named like a key, a 64-hex-digit string outside {@link SECRET_SAFE_FIELDS}), a `RangeError`
   * for an inconsistent one (duplicate id, unknown id, a send of a dry-run).
   */
  append(input: LedgerInput): LedgerEntry {
    this.checkOpen();
    const entry = normalize(input, this.now);
    this.refresh();
    const problem = this.conflict(entry);
    if (problem) throw new RangeError(`${entry.type} ${entry.id}: ${problem}`);
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    if (line.length > MAX_LINE_BYTES) throw new RangeError(`${entry.type} ${entry.id}: line of ${line.length} bytes exceeds ${MAX_LINE_BYTES}`);
    if (this.path === null) {
      this.apply(entry);
      this.lines++;
      return entry;
    }
    try {
      // One write on an O_APPEND descriptor: the kernel appends the whole line under the inode
      // lock, so another writer's line can only come before or after it, never inside.
      const n = writeSync(this.fd, line);
      if (n !== line.length) throw new Error(`short write (${n} of ${line.length} bytes), disk full?`);
      fdatasyncSync(this.fd);
    } catch (err) {
      // A half-written line, or a failed fdatasync (after which the kernel may have dropped the
      // data and retrying proves nothing): this instance stops; open repairs a torn tail.
      this.close();
      throw new LedgerError(this.where, -1, 0, `append failed, the entry may not be durable; the ledger is closed, reopen it`, { cause: err });
    }
    this.refresh();
    return entry;
  }

  /**
   * Reads the complete lines other writers appended since the last read and applies them. An
   * incomplete last line (being written) is left for the next call. Returns the entries read.
   */
  refresh(): number {
    this.checkOpen();
    if (this.path === null) return 0;
    const before = this.lines;
    this.consume(false);
    return this.lines - before;
  }

  /** The current state of one submission or protect transaction. */
  get(id: string): LedgerRecord | undefined {
    return this.records.get(id);
  }

  /**
   * Submissions a route took (or may have: an indefinite send, or no send recorded before a
   * crash) with no outcome, or reopened by a reorg; and protect transactions without an outcome.
   * In the order they were first recorded. Dry-runs and submissions refused everywhere are not pending.
   */
  pending(): LedgerRecord[] {
    const out: LedgerRecord[] = [];
    for (const id of this.pendingIds) out.push(this.records.get(id)!);
    return out.sort((a, b) => a.entry.at - b.entry.at);
  }

  /**
   * Rolling daily and weekly windows ending at `nowMs` (default now), and all time.
   * @remarks Allocates; costs O(log n + records in the week), all time is kept incrementally.
   */
  stats(nowMs: number = this.now()): LedgerStats {
    const daily = new WindowSum();
    const weekly = new WindowSum();
    const dayFrom = nowMs - DAY_MS;
    const weekFrom = nowMs - 7 * DAY_MS;
    const t = this.byTime;
    for (let i = lowerBound(t, weekFrom); i < t.length && t[i]!.entry.at <= nowMs; i++) {
      const r = t[i]!;
      weekly.add(r, 1);
      if (r.entry.at >= dayFrom) daily.add(r, 1);
    }
    return { daily: daily.result(dayFrom, nowMs), weekly: weekly.result(weekFrom, nowMs), allTime: this.total.result(0, nowMs) };
  }

  /** Closes the file; later calls throw. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private checkOpen(): void {
    if (this.closed) throw new LedgerError(this.where, -1, 0, 'ledger is closed');
  }

  /** Replays the file; repairs a torn tail once it has stayed unchanged for `settleMs`. */
  private load(): void {
    let previous: Torn | null = null;
    for (let attempt = 0; attempt < 100; attempt++) {
      const torn = this.consume(true);
      if (torn === null) {
        this.report.entries = this.lines;
        this.report.bytes = this.offset;
        return;
      }
      // The same incomplete tail twice, and the size still the same: nobody is writing it.
      if (previous !== null && previous.cut === torn.cut && previous.end === torn.end && fstatSync(this.fd).size === torn.end) {
        ftruncateSync(this.fd, torn.cut);
        fdatasyncSync(this.fd);
        this.report.tornTail = { offset: torn.cut, bytes: torn.end - torn.cut, line: torn.line };
        this.report.entries = this.lines;
        this.report.bytes = torn.cut;
        return;
      }
      previous = torn;
      sleepMs(this.settleMs);
    }
    throw new LedgerError(this.where, previous?.cut ?? -1, previous?.line ?? 0, 'the last line keeps changing: is another writer stuck mid-line?');
  }

  /**
   * Reads and applies complete lines from `offset` to the end of the file. At open (`atOpen`), the
   * last complete line is held back: when nothing follows it and it is not JSON, it is torn (a
   * crash can leave garbage ending in a newline) and returned with any incomplete tail; otherwise
   * the incomplete tail is returned as torn. After open an incomplete tail is just not read yet.
   */
  private consume(atOpen: boolean): Torn | null {
    let held: { text: string; offset: number; next: number } | null = null;
    let pos = this.offset;
    let lineStart = this.offset;
    let carry: Buffer | null = null;
    for (;;) {
      const n = readSync(this.fd, this.readBuf, 0, READ_CHUNK, pos);
      if (n === 0) break;
      pos += n;
      const data: Buffer = carry ? Buffer.concat([carry, this.readBuf.subarray(0, n)]) : this.readBuf.subarray(0, n);
      let i = 0;
      for (let nl = data.indexOf(10, i); nl >= 0; nl = data.indexOf(10, i)) {
        const line = { text: data.toString('utf8', i, nl), offset: lineStart, next: lineStart + nl + 1 - i };
        if (atOpen) {
          if (held) this.applyLine(held.text, held.offset, held.next);
          held = line;
        } else this.applyLine(line.text, line.offset, line.next);
        lineStart = line.next;
        i = nl + 1;
      }
      // The read buffer is reused: keep a copy of the unfinished line.
      carry = i < data.length ? Buffer.from(data.subarray(i)) : null;
    }
    const end = pos;
    if (held) {
      if (end === held.next && !parses(held.text)) return { cut: held.offset, end, line: this.lines + 1 };
      this.applyLine(held.text, held.offset, held.next);
    }
    if (atOpen && end > this.offset) return { cut: this.offset, end, line: this.lines + 1 };
    return null;
  }

  /** Parses, validates and applies one line; any problem is a {@link LedgerError} at its position. */
  private applyLine(text: string, offset: number, next: number): void {
    const lineNo = this.lines + 1;
    let entry: LedgerEntry;
    try {
      entry = normalize(JSON.parse(text), null);
    } catch (err) {
      throw new LedgerError(this.where, offset, lineNo, `damaged or unknown entry (${err instanceof SyntaxError ? 'not JSON' : (err as Error).message}); a crash only tears the last line, so this one was altered or written by another format version`, { cause: err });
    }
    const problem = this.conflict(entry);
    if (problem) throw new LedgerError(this.where, offset, lineNo, `${entry.type} ${entry.id}: ${problem}`);
    this.apply(entry);
    this.offset = next;
    this.lines = lineNo;
  }

  /** Why `e` cannot follow what the ledger holds, or null. */
  private conflict(e: LedgerEntry): string | null {
    const r = this.records.get(e.id);
    switch (e.type) {
      case 'submission':
      case 'protect':
        return r ? `id already recorded (as ${r.type})` : null;
      case 'send':
        if (!r) return 'no submission with this id';
        if (r.type !== 'submission') return 'a send belongs to a submission, not a protect tx';
        if (r.entry.dryRun) return 'a dry-run submission is never sent';
        if ((e.txHashes === undefined) !== (e.nonces === undefined)) return 'a re-signed send lists both txHashes and nonces';
        if (e.txHashes !== undefined && (e.txHashes.length !== r.entry.txHashes.length || e.nonces!.length !== r.entry.nonces.length)) return 'a re-signed send lists as many transactions and nonces as its submission';
        return null;
      case 'replace':
      case 'cancel':
        if (!r) return 'no submission with this id';
        if (r.type !== 'submission') return `a ${e.type} belongs to a submission, not a protect tx`;
        if (r.entry.dryRun) return `a dry-run submission has nothing to ${e.type}`;
        if (e.nonces.length !== r.entry.nonces.length) return `a ${e.type} lists as many nonces as its submission`;
        if (e.type === 'replace' && e.txHashes.length !== r.entry.txHashes.length) return 'a replace lists as many transactions as its submission';
        return null;
      case 'outcome':
      case 'reopened':
        return r ? null : 'no submission or protect tx with this id';
    }
  }

  private apply(e: LedgerEntry): void {
    const existing = this.records.get(e.id);
    if (existing) this.total.add(existing, -1);
    let r: MutableRecord;
    switch (e.type) {
      case 'submission':
        r = { type: 'submission', id: e.id, entry: e, sends: [], replacements: [], cancel: null, history: [], status: e.dryRun ? 'dry-run' : 'recorded', route: e.route, outcome: null };
        this.insert(r);
        break;
      case 'protect':
        r = { type: 'protect', id: e.id, entry: e, history: [], status: 'pending', outcome: null };
        this.insert(r);
        break;
      case 'send': {
        const s = this.records.get(e.id) as MutableSubmission;
        r = s;
        s.sends.push(e);
        if (e.txHashes !== undefined) s.entry = { ...s.entry, txHashes: e.txHashes, nonces: e.nonces! };
        if (e.ok || !e.definite) {
          // Taken (or maybe taken): pending again even after an outcome, as a retry of the same id is.
          s.status = 'pending';
          s.route = e.route;
          s.outcome = null;
        } else if (s.status === 'recorded') s.status = 'refused';
        break;
      }
      case 'replace': {
        const s = this.records.get(e.id) as MutableSubmission;
        r = s;
        if (e.ok || !e.definite) {
          s.replacements.push(e);
          s.entry = { ...s.entry, txHashes: e.txHashes, maxFeePerGas: e.maxFeePerGas, maxPriorityFeePerGas: e.maxPriorityFeePerGas };
        }
        break;
      }
      case 'cancel': {
        // The outcome that follows ends it; until then it stays as it was (pending: the nonces may
        // still carry our transactions or the cancellation).
        const s = this.records.get(e.id) as MutableSubmission;
        r = s;
        if (e.ok || !e.definite) s.cancel = e;
        break;
      }
      case 'outcome':
        r = this.records.get(e.id)!;
        r.history.push(e);
        r.status = e.status;
        r.outcome = e;
        break;
      case 'reopened':
        r = this.records.get(e.id)!;
        r.history.push(e);
        r.status = 'pending';
        r.outcome = null;
        break;
    }
    this.total.add(r, 1);
    if (isPending(r)) this.pendingIds.add(r.id);
    else this.pendingIds.delete(r.id);
  }

  private insert(r: MutableRecord): void {
    this.records.set(r.id, r);
    const t = this.byTime;
    // Entries come dated now, so this is a push but for a backdated entry or two writers' clocks.
    if (t.length === 0 || t[t.length - 1]!.entry.at <= r.entry.at) t.push(r);
    else t.splice(lowerBound(t, r.entry.at + 1), 0, r);
  }
}

/** First index of `sorted` dated at or after `at`. */
function lowerBound(sorted: readonly MutableRecord[], at: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.entry.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Makes a new file's directory entry durable (the file's own fdatasync does not cover it). */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Accumulates one {@link StatsWindow}; `add(r, -1)` takes a record's contribution back out. */
class WindowSum {
  private savings = 0n;
  private losses = 0n;
  private profit = 0n;
  private predicted = 0n;
  private gasPaid = 0n;
  private readonly counts = { trades: 0, included: 0, missed: 0, reverted: 0, replaced: 0, expired: 0, cancelled: 0, pending: 0, refused: 0, dryRuns: 0, protectTxs: 0 };
  private readonly byRoute = Object.fromEntries(ROUTE_NAMES.map((r) => [r, 0])) as Record<RouteName, number>;

  add(r: MutableRecord, sign: 1 | -1): void {
    const c = this.counts;
    const s = BigInt(sign);
    if (r.type === 'protect') {
      // The operator's own trade: only what it was spared counts, not its profit.
      c.protectTxs += sign;
      if (r.status === 'included') this.savings += s * BigInt(r.entry.exposureWei);
      return;
    }
    if (r.status === 'dry-run') {
      c.dryRuns += sign;
      return;
    }
    if (r.status === 'refused') {
      c.refused += sign;
      return;
    }
    c.trades += sign;
    this.byRoute[r.route] += sign;
    if (r.status === 'recorded' || r.status === 'pending') c.pending += sign;
    else c[r.status] += sign;
    if (r.status === 'included') {
      this.predicted += s * BigInt(r.entry.predictedNetWei);
      if (r.entry.protected) this.savings += s * BigInt(r.entry.mevAvoidedWei);
    }
    const o = r.outcome;
    if (o?.realizedNetWei !== undefined) {
      const net = BigInt(o.realizedNetWei);
      if (net < 0n) this.losses -= s * net;
      else this.profit += s * net;
    }
    if (o?.gasPaidWei !== undefined) this.gasPaid += s * BigInt(o.gasPaidWei);
  }

  result(from: number, to: number): StatsWindow {
    const c = this.counts;
    const landedOrNot = c.included + c.missed + c.reverted;
    return {
      from,
      to,
      savingsWei: this.savings.toString(),
      lossesWei: this.losses.toString(),
      profitWei: this.profit.toString(),
      netWei: (this.profit - this.losses).toString(),
      predictedNetWei: this.predicted.toString(),
      gasPaidWei: this.gasPaid.toString(),
      trades: c.trades,
      tradesByRoute: { ...this.byRoute },
      included: c.included,
      missed: c.missed,
      reverted: c.reverted,
      replaced: c.replaced,
      expired: c.expired,
      cancelled: c.cancelled,
      pending: c.pending,
      inclusionRate: landedOrNot === 0 ? null : c.included / landedOrNot,
      refused: c.refused,
      dryRuns: c.dryRuns,
      protectTxs: c.protectTxs,
    };
  }
}
