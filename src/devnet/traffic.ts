import { createRequire } from 'node:module';
import { sha256 } from '@noble/hashes/sha2';
import { keccak_256 } from '@noble/hashes/sha3';
import {
  type AccessList,
  type Address,
  bytesToHex,
  encodeFunctionData,
  encodePacked,
  getAddress,
  type Hex,
  hexToBytes,
  maxUint256,
  type SignedAuthorization,
  serializeTransaction,
  type TransactionSerializable,
  toRlp,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { hashAuthorization } from 'viem/utils';
import WebSocket from 'ws';
import { OrionError } from '../runtime/errors.js';
import { type RpcCall, rpcBatch } from './anvil.js';
import { mulberry32 } from '../runtime/prng.js';
import { ERC20_ABI, type UniswapDeployment, V2_PAIR_ABI, V2_ROUTER_ABI, V3_POOL_ABI, V3_SWAP_ROUTER_ABI } from './uniswap.js';

/** What a generated transaction does. */
export type TrafficKind = 'v2-swap' | 'v3-swap' | 'pair-swap' | 'eth-transfer' | 'erc20-transfer' | 'approve' | 'revert' | 'delegate' | 'blob';

/** Every {@link TrafficKind}, in a fixed order. */
export const TRAFFIC_KINDS: readonly TrafficKind[] = ['v2-swap', 'v3-swap', 'pair-swap', 'eth-transfer', 'erc20-transfer', 'approve', 'revert', 'delegate', 'blob'];

/** EIP-2718 transaction type: 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844 blob, 4 EIP-7702. */
export type TxType = 0 | 1 | 2 | 3 | 4;

/**
 * Default share of each kind, weighted toward swaps as mainnet's public mempool is. `pair-swap` is
 * two transactions (a transfer into the pair, then `pair.swap`); `delegate` is type 4; `blob` is type 3.
 */
export const DEFAULT_MIX: Readonly<Record<TrafficKind, number>> = {
  'v2-swap': 0.34,
  'v3-swap': 0.14,
  'pair-swap': 0.05,
  'eth-transfer': 0.12,
  'erc20-transfer': 0.12,
  approve: 0.06,
  revert: 0.08,
  delegate: 0.05,
  // Half a percent keeps blob transactions under Prague's 6-blob target per 1 s block up to ~1000 tx/s.
  blob: 0.005,
};

/** Default share of types 0, 1 and 2 among kinds free to use any (all but `delegate`, `blob`, `pair-swap`). */
export const DEFAULT_TYPES: Readonly<Record<0 | 1 | 2, number>> = { 0: 0.15, 1: 0.1, 2: 0.75 };

/** Where traffic goes: a node, the contracts on it and the keys that trade. */
export interface TrafficTarget {
  rpcUrl: string;
  /** Websocket endpoint the transactions are sent over; default `rpcUrl` with `ws:`. */
  wsUrl?: string;
  chainId: number;
  deployment: UniswapDeployment;
  /** Keys of funded, approved accounts (`deployment.accounts`); other keys are ignored. */
  privateKeys: readonly Hex[];
  /** The node's hardfork; before `prague` no type 4 is sent, before `cancun` no type 3. */
  hardfork?: string;
}

/** Options of {@link startTraffic}. */
export interface TrafficOptions {
  /** Transactions per second. */
  rate: number;
  /** Seeds every choice: the same seed gives the same sequence of intents (kind, type, sender, function). */
  seed: number;
  /** Stop after this many transactions. */
  count?: number;
  /** Stop after this long. Without `count` or `durationMs` it runs until `stop()`. */
  durationMs?: number;
  /** Relative weights per kind, merged over {@link DEFAULT_MIX}; 0 turns a kind off. */
  mix?: Partial<Record<TrafficKind, number>>;
  /** Relative weights of types 0, 1, 2, merged over {@link DEFAULT_TYPES}. */
  types?: Partial<Record<0 | 1 | 2, number>>;
  /** Share of type 0 transactions sent without EIP-155 replay protection; default 0.1. */
  unprotectedShare?: number;
  /**
   * Re-anchor the pool model on the node's state this often (ms); default 1000, 0 = never. With 0,
   * amounts depend only on the seed and the start state, so a fresh devnet replays the same
   * transactions; with re-anchoring, slippage bounds stay realistic however long the run.
   */
  resyncMs?: number;
  /**
   * After sending, keep watching (and re-sending what the node dropped) until the node has mined
   * every accepted transaction or this many ms passed; default 0 (resolve once the replies are in).
   */
  settleMs?: number;
  /** Keep a record of every transaction in `records`; default true (turn off for long soaks). */
  keepRecords?: boolean;
}

/** One sent transaction. */
export interface TrafficTx {
  /** Position in the send order. */
  index: number;
  hash: Hex;
  from: Address;
  to: Address;
  type: TxType;
  kind: TrafficKind;
  nonce: number;
  /** Contract function (`swapExactTokensForTokens`, `multicall:exactInputSingle+unwrapWETH9`, `transfer`, …) or `eth`. */
  method: string;
  /** Built to revert (slippage bound too tight, expired deadline, overdraft, no input). */
  expectRevert: boolean;
  /** Type 0 only: false for a pre-EIP-155 signature without chain id. */
  eip155: boolean;
  /** Swaps: the slippage tolerance the bound was built with, in bps (10 000 = no bound). */
  slippageBps?: number;
  /** Type 4: the accounts that delegate. */
  authorities?: Address[];
  /** Wall-clock send time, ms since the epoch (sub-millisecond). */
  sentAt: number;
  /** The node accepted it (`undefined` until the reply arrives). */
  accepted?: boolean;
  /** The node's error, when it refused. */
  error?: string;
}

/** What a traffic run did. */
export interface TrafficReport {
  sent: number;
  accepted: number;
  rejected: number;
  /** Refusals and socket failures by reason. */
  errors: Record<string, number>;
  byKind: Record<TrafficKind, number>;
  byType: Record<TxType, number>;
  expectedReverts: number;
  durationMs: number;
  /** Transactions sent per second of sending. */
  achievedRate: number;
  /** How far sending fell behind the schedule at worst. */
  maxLagMs: number;
  /** Mean time to build, sign and serialize one transaction. */
  buildUsMean: number;
  /** Which secp256k1 signed: the native binding or its pure-JS fallback. */
  signer: 'native' | 'js';
  /** Transactions sent again because the node had dropped them. */
  rebroadcasts: number;
  /** With `settleMs`: accepted transactions still not mined when it ran out. */
  unmined?: number;
  records: readonly TrafficTx[];
}

/** A running traffic generator. */
export interface TrafficRun {
  /** Every transaction sent so far (empty with `keepRecords: false`). */
  readonly records: readonly TrafficTx[];
  /** Resolves once connected and the start state is read. */
  readonly ready: Promise<void>;
  /** Resolves when `count` or `durationMs` is reached (or after `stop()`) and every reply is in. */
  readonly done: Promise<TrafficReport>;
  /** Stops sending, waits for outstanding replies, and reports. */
  stop(): Promise<TrafficReport>;
}

// ---------------------------------------------------------------------------------------------
// Signing. Native libsecp256k1 signs in ~40 µs; viem's pure-JS account signs in ~1 ms, which
// would cap the generator near 1000 tx/s with nothing left for anything else.

interface Secp256k1 { ecdsaSign(msg32: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number } }

function loadSecp256k1(): { lib: Secp256k1; native: boolean } {
  const req = createRequire(import.meta.url);
  try {
    // The package's main entry silently falls back to JS; loading the bindings directly tells us which we got.
    return { lib: req('secp256k1/bindings') as Secp256k1, native: true };
  } catch {
    return { lib: req('secp256k1/elliptic') as Secp256k1, native: false };
  }
}

const secp = loadSecp256k1();

function signDigest(digest: Uint8Array, key: Uint8Array): { r: Hex; s: Hex; recid: number } {
  const { signature, recid } = secp.lib.ecdsaSign(digest, key);
  return { r: bytesToHex(signature.subarray(0, 32)), s: bytesToHex(signature.subarray(32, 64)), recid };
}

/**
 * Signs `tx` with `key` locally: keccak of the unsigned serialization, native ECDSA, then the
 * signed serialization. Returns the bytes to send (a blob transaction's network form with its
 * sidecars) and the hash (of the canonical form, which is what nodes report).
 */
export function signTransaction(tx: TransactionSerializable, key: Uint8Array): { raw: Hex; hash: Hex } {
  const { sidecars, ...canonicalTx } = tx as TransactionSerializable & { sidecars?: unknown };
  const unsigned = serializeTransaction(canonicalTx as TransactionSerializable);
  const { r, s, recid } = signDigest(keccak_256(hexToBytes(unsigned)), key);
  // viem derives the legacy v (27/28, or chainId * 2 + 35/36) from v; typed ones take yParity.
  const sig = { r, s, yParity: recid, v: 27n + BigInt(recid) };
  const canonical = serializeTransaction(canonicalTx as TransactionSerializable, sig);
  const hash = bytesToHex(keccak_256(hexToBytes(canonical)));
  return { raw: sidecars ? networkForm(canonical, sidecars as BlobSidecars) : canonical, hash };
}

type BlobSidecars = readonly { blob: Hex; commitment: Hex; proof: Hex }[];
const sidecarRlp = new WeakMap<BlobSidecars, string>();

/**
 * EIP-4844 network form: `0x03 || rlp([tx_payload_body, blobs, commitments, proofs])`, put
 * together from the canonical form and the sidecars' RLP (cached per sidecars array) instead of
 * re-encoding 128 KiB per blob on every transaction, which made a blob transaction cost ~4 ms.
 */
function networkForm(canonical: Hex, sidecars: BlobSidecars): Hex {
  let rest = sidecarRlp.get(sidecars);
  if (rest === undefined) {
    rest = [sidecars.map((x) => x.blob), sidecars.map((x) => x.commitment), sidecars.map((x) => x.proof)].map((list) => toRlp(list).slice(2)).join('');
    sidecarRlp.set(sidecars, rest);
  }
  const body = canonical.slice(4); // after 0x03: the RLP list of the signed payload
  const len = (body.length + rest.length) / 2;
  const digits = len.toString(16);
  const lenHex = digits.length % 2 === 0 ? digits : `0${digits}`;
  // RLP list header: one byte below 56 bytes of payload, else 0xf7 + length-of-length, then the length.
  const header = len < 56 ? (0xc0 + len).toString(16) : (0xf7 + lenHex.length / 2).toString(16) + lenHex;
  return `0x03${header}${body}${rest}`;
}

/** Signs an EIP-7702 authorization (delegate `key`'s account to `address`). */
export function signAuthorization(key: Uint8Array, chainId: number, address: Address, nonce: number): SignedAuthorization {
  const { r, s, recid } = signDigest(hexToBytes(hashAuthorization({ address, chainId, nonce })), key);
  return { address, chainId, nonce, r, s, yParity: recid };
}

/**
 * The all-zero blob is the one blob whose KZG commitment and proof need no trusted setup: both are
 * the G1 point at infinity (0xc0 then 47 zero bytes), and the proof verifies. So blob transactions
 * work without a KZG library.
 */
const ZERO_BLOB_COMMITMENT: Hex = `0xc0${'00'.repeat(47)}`;
const ZERO_BLOB_SIDECAR = { blob: `0x${'00'.repeat(131072)}` as Hex, commitment: ZERO_BLOB_COMMITMENT, proof: ZERO_BLOB_COMMITMENT };
const ZERO_BLOB_VERSIONED_HASH: Hex = `0x01${bytesToHex(sha256(hexToBytes(ZERO_BLOB_COMMITMENT))).slice(4)}`;
/** Where blob transactions go, like an L2's batch inbox: an address nobody has the key of. */
const BLOB_INBOX: Address = '0xff00000000000000000000000000000000000a71';

// ---------------------------------------------------------------------------------------------
// A JSON-RPC client over one websocket: one connection keeps sends in order (so nonces arrive in
// order) and costs one frame per transaction instead of an HTTP request.

type Reply = (error: string | undefined, result: unknown) => void;

class RpcSocket {
  private nextId = 1;
  private readonly waiting = new Map<number, Reply>();
  private closedReason: string | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', () => this.failAll('socket closed'));
    ws.on('error', (e) => this.failAll(`socket error: ${e.message}`));
  }

  static connect(url: string): Promise<RpcSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(new RpcSocket(ws)));
      ws.once('error', (e) => reject(new OrionError('ORION_ERR_DEVNET', `cannot connect to ${url}: ${e.message}`, { cause: e })));
    });
  }

  get inflight(): number { return this.waiting.size; }
  get buffered(): number { return this.ws.bufferedAmount; }
  get closed(): string | undefined { return this.closedReason; }

  /** Sends one call; `reply` runs with the node's error message or the result. */
  send(method: string, paramsJson: string, reply: Reply): void {
    if (this.closedReason) { reply(this.closedReason, undefined); return; }
    const id = this.nextId++;
    this.waiting.set(id, reply);
    // Built by hand: JSON.stringify of a 256 KiB blob transaction costs more than the signing.
    this.ws.send(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${paramsJson}}`);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => { this.ws.once('close', () => resolve()); this.ws.close(); });
  }

  private onMessage(text: string): void {
    let msg: { id?: number; result?: unknown; error?: { message?: string } };
    try { msg = JSON.parse(text); } catch { return; }
    if (typeof msg.id !== 'number') return;
    const reply = this.waiting.get(msg.id);
    if (!reply) return;
    this.waiting.delete(msg.id);
    reply(msg.error ? (msg.error.message ?? 'unknown error') : undefined, msg.result);
  }

  private failAll(reason: string): void {
    this.closedReason ??= reason;
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const reply of all) reply(reason, undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// The planner: turns the seeded random stream into intents. Every random draw happens in the same
// order whatever the chain state, so a seed always gives the same kinds, senders, types and
// functions; amounts come from a local model of the pools (read once at start, then updated with
// each planned swap as if it executed in send order), so slippage bounds are realistic without a
// node query per transaction.

/**
 * A pool as the planner models it: V2 reserves, or for V3 the virtual reserves x = L/√P, y = L·√P,
 * which make a V3 pool a constant-product pool while the price stays inside the active liquidity.
 */
interface ModelPool { address: Address; token0: Address; token1: Address; r0: bigint; r1: bigint; /** V2 venue index; -1 for V3. */ venue: number; /** V3 fee in ppm. */ fee: number }
type V2Pool = ModelPool;
type V3Pool = ModelPool;

/** A planned swap's effect on one pool, kept until the node has mined its transaction. */
interface Effect { pool: ModelPool; zeroForOne: boolean; dIn: bigint; dOut: bigint }

interface TxPlan {
  to: Address;
  data: Hex;
  value: bigint;
  gas: bigint;
  method: string;
  expectRevert: boolean;
  type: TxType;
  eip155: boolean;
  /** Priority fee, in units of the fee base / 10 000. */
  tipBps: number;
  /** Legacy gas price, in units of the fee base / 10 000. */
  gasPriceBps: number;
  accessList: AccessList;
  authorizations?: { authority: number; target: Address; chainId: number; nonce: number }[];
  slippageBps?: number;
}

interface Intent { kind: TrafficKind; account: number; txs: TxPlan[]; effects: Effect[] }

const E18 = 10n ** 18n;
const DFL_BURN = 100n;
const SLIPPAGE_BPS = [10, 30, 50, 50, 50, 100, 100, 100, 200, 300, 500, 1000, 10_000] as const;
const AUTHORITIES_PER_ACCOUNT = 2;
/**
 * V3 swap sizes are shares of the virtual reserves divided by this: concentrated liquidity makes
 * the virtual reserves several times the tokens really in range, and a swap sized on them would
 * run the price out of the range, where the constant-liquidity model no longer holds.
 */
const V3_DEPTH = 8n;
/** A deliberately reverting swap asks for this much more than the quote (or offers this much less). */
const TOO_TIGHT_NUM = 3n;
const TOO_TIGHT_DEN = 2n;
/** Direct pair swaps outbid everything else so their two transactions land next to each other. */
const PAIR_SWAP_TIP_BPS = 500_000;

/** EIP-2930 intrinsic cost of an access list: 2400 per address, 1900 per storage key. */
function accessListGas(list: AccessList): bigint {
  let gas = 0n;
  for (const e of list) gas += 2400n + 1900n * BigInt(e.storageKeys.length);
  return gas;
}

function applyEffect(e: Effect): void {
  if (e.zeroForOne) { e.pool.r0 += e.dIn; e.pool.r1 -= e.dOut; } else { e.pool.r1 += e.dIn; e.pool.r0 -= e.dOut; }
}

function amountOut(aIn: bigint, rIn: bigint, rOut: bigint): bigint {
  const inFee = aIn * 997n;
  return (inFee * rOut) / (rIn * 1000n + inFee);
}

function amountIn(aOut: bigint, rIn: bigint, rOut: bigint): bigint {
  return (rIn * aOut * 1000n) / ((rOut - aOut) * 997n) + 1n;
}

/** `amount` scaled by `f` in [0, 1), in bigint. */
function frac(amount: bigint, f: number): bigint {
  return (amount * BigInt(Math.floor(f * 1e12))) / 1_000_000_000_000n;
}

class Planner {
  private readonly rand: () => number;
  private readonly kinds: { kind: TrafficKind; cum: number }[] = [];
  private readonly typeCum: [number, number, number];
  private readonly fot: Set<string>;
  private readonly tokens: Address[];
  private readonly maxReserve = new Map<string, bigint>();
  private readonly authorityNonces: number[];

  constructor(
    seed: number,
    opts: TrafficOptions,
    private readonly d: UniswapDeployment,
    private readonly chainId: number,
    private readonly accounts: readonly Address[],
    private readonly authorities: readonly Address[],
    authorityNonces: readonly number[],
    private readonly v2: V2Pool[],
    private readonly v3: V3Pool[],
    private readonly chainNow: () => bigint,
    allowed: ReadonlySet<TrafficKind>,
  ) {
    this.rand = mulberry32(seed);
    const mix = { ...DEFAULT_MIX, ...opts.mix };
    let cum = 0;
    for (const kind of TRAFFIC_KINDS) {
      const w = allowed.has(kind) ? Math.max(0, mix[kind] ?? 0) : 0;
      if (w > 0) { cum += w; this.kinds.push({ kind, cum }); }
    }
    if (cum === 0) throw new RangeError('opts.mix gives every available kind weight 0');
    for (const k of this.kinds) k.cum /= cum;
    const t = { ...DEFAULT_TYPES, ...opts.types };
    const tsum = t[0] + t[1] + t[2];
    if (!(tsum > 0)) throw new RangeError('opts.types gives types 0, 1 and 2 weight 0');
    this.typeCum = [t[0] / tsum, (t[0] + t[1]) / tsum, 1];
    this.unprotected = opts.unprotectedShare ?? 0.1;
    this.fot = new Set(d.tokens.filter((x) => x.feeOnTransfer).map((x) => x.address.toLowerCase()));
    this.tokens = [d.weth, ...d.tokens.map((x) => x.address)];
    for (const p of v2) {
      for (const [tok, r] of [[p.token0, p.r0], [p.token1, p.r1]] as const) {
        const k = tok.toLowerCase();
        if (r > (this.maxReserve.get(k) ?? 0n)) this.maxReserve.set(k, r);
      }
    }
    this.authorityNonces = [...authorityNonces];
    // Blob transactions come from one account that sends nothing else, as an L2 batcher does: when
    // anvil postpones a blob transaction for lack of blob space it drops the sender's next
    // transactions, and this keeps that from stalling the traders.
    this.batcher = this.kinds.some((k) => k.kind === 'blob') && accounts.length >= 2 ? accounts.length - 1 : -1;
  }

  /** Index of the account that sends the blob transactions, -1 when there are none. */
  readonly batcher: number;

  private readonly unprotected: number;

  private pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.rand() * xs.length) % xs.length]!; }
  private logUniform(lo: number, hi: number): number { return lo * Math.exp(Math.log(hi / lo) * this.rand()); }
  private isFot(t: Address): boolean { return this.fot.has(t.toLowerCase()); }
  private isWeth(t: Address): boolean { return t.toLowerCase() === this.d.weth.toLowerCase(); }

  /** Fresh-looking recipient: another trader half the time, otherwise a seeded random address. */
  private recipient(self: number): Address {
    const other = this.rand() < 0.5;
    const idx = Math.floor(this.rand() * this.accounts.length);
    const bytes = new Uint8Array(20);
    for (let i = 0; i < 20; i += 4) new DataView(bytes.buffer).setUint32(i, Math.floor(this.rand() * 2 ** 32));
    if (other && this.accounts.length > 1) return this.accounts[idx === self ? (idx + 1) % this.accounts.length : idx]!;
    return getAddress(bytesToHex(bytes));
  }

  /** A swap; its slippage tolerance is recorded unless the bound was made too tight on purpose. */
  private swapPlan(slippageBps: number, to: Address, data: Hex, value: bigint, gas: bigint, method: string, expectRevert: boolean): TxPlan {
    const plan = this.plain(to, data, value, gas, method, expectRevert);
    return expectRevert ? plan : { ...plan, slippageBps };
  }

  /** Type, fees and access list for a transaction of a kind free to use types 0, 1, 2. */
  private envelope(to: Address): Pick<TxPlan, 'type' | 'eip155' | 'tipBps' | 'gasPriceBps' | 'accessList'> {
    const u = this.rand();
    const type: TxType = u < this.typeCum[0] ? 0 : u < this.typeCum[1] ? 1 : 2;
    const eip155 = !(type === 0 && this.rand() < this.unprotected);
    const tipBps = Math.floor(this.logUniform(100, 20_000));
    const gasPriceBps = Math.floor(this.logUniform(15_000, 60_000));
    const withList = this.rand() < (type === 1 ? 0.7 : 0.15);
    const slots = 1 + Math.floor(this.rand() * 3);
    const accessList: AccessList = withList ? [{ address: to, storageKeys: Array.from({ length: slots }, (_, i) => `0x${(6 + i).toString(16).padStart(64, '0')}` as Hex) }] : [];
    return { type, eip155, tipBps, gasPriceBps, accessList };
  }

  private plain(to: Address, data: Hex, value: bigint, gas: bigint, method: string, expectRevert = false): TxPlan {
    const env = this.envelope(to);
    // An access list adds to the intrinsic gas; a limit below it makes anvil accept the transaction and
    // then silently drop it while mining, which leaves a nonce gap that stalls the account.
    return { to, data, value, gas: gas + accessListGas(env.accessList), method, expectRevert, ...env };
  }

  next(maxTxs: number): Intent {
    for (;;) {
      const u = this.rand();
      const kind = (this.kinds.find((k) => u < k.cum) ?? this.kinds[this.kinds.length - 1]!).kind;
      const traders = this.batcher >= 0 ? this.accounts.length - 1 : this.accounts.length;
      const drawn = Math.floor(this.rand() * traders) % traders;
      const account = kind === 'blob' && this.batcher >= 0 ? this.batcher : drawn;
      // A two-transaction intent that does not fit the remaining count is redrawn.
      if (kind === 'pair-swap' && maxTxs < 2) continue;
      this.effects = [];
      const txs = this.plan(kind, account);
      return { kind, account, txs, effects: this.effects };
    }
  }

  private plan(kind: TrafficKind, account: number): TxPlan[] {
    const me = this.accounts[account]!;
    switch (kind) {
      case 'v2-swap': return [this.v2Swap(me, 'ok')];
      case 'v3-swap': return [this.v3Swap(me, false)];
      case 'pair-swap': return this.pairSwap(me);
      case 'eth-transfer': {
        const to = this.recipient(account);
        return [this.plain(to, '0x', BigInt(Math.floor(this.logUniform(1e-4, 2) * 1e9)) * 10n ** 9n, 21_000n, 'eth')];
      }
      case 'erc20-transfer': {
        const token = this.pick(this.tokens);
        const to = this.recipient(account);
        const amount = frac(this.maxReserve.get(token.toLowerCase()) ?? E18, this.logUniform(1e-6, 1e-3));
        return [this.plain(token, encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [to, amount] }), 0n, 90_000n, 'transfer')];
      }
      case 'approve': {
        const token = this.pick(this.tokens);
        const toRouter = this.rand() < 0.3;
        const routers = [...this.d.v2.map((v) => v.router), ...(this.d.v3 ? [this.d.v3.router] : [])];
        const router = this.pick(routers);
        const other = this.recipient(account);
        const amount = frac(this.maxReserve.get(token.toLowerCase()) ?? E18, this.rand());
        // Re-approving a router only ever sets it back to the maximum, so swaps never run short of allowance.
        const args = toRouter ? ([router, maxUint256] as const) : ([other, amount] as const);
        return [this.plain(token, encodeFunctionData({ abi: ERC20_ABI, functionName: 'approve', args }), 0n, 70_000n, 'approve')];
      }
      case 'revert': return [this.revert(me, account)];
      case 'delegate': return [this.delegate(account)];
      case 'blob': {
        const env = this.envelope(BLOB_INBOX);
        const data = bytesToHex(Uint8Array.from({ length: Math.floor(this.rand() * 64) }, () => Math.floor(this.rand() * 256)));
        return [{ to: BLOB_INBOX, data, value: 0n, gas: 60_000n, method: 'blob', expectRevert: false, ...env, type: 3, eip155: true }];
      }
    }
  }

  /**
   * A swap's size (share of the input reserve) and slippage tolerance in bps: mostly 0.001%–0.5%
   * with any tolerance, now and then a 1–3% whale with a loose one (the sandwich victims). Tight
   * bounds go only with small swaps, as wallets suggest: a large swap with a tight bound reverts
   * often, and each such revert leaves the local pool model off by the whole swap.
   */
  private sizeAndSlippage(): { f: number; slip: number } {
    const whale = this.rand() < 0.03;
    const f = whale ? 0.01 + this.rand() * 0.02 : this.logUniform(1e-5, 5e-3);
    const slip = this.pick(SLIPPAGE_BPS);
    return { f, slip: whale ? Math.max(slip, 300) : f > 1e-3 ? Math.max(slip, 100) : slip };
  }

  /** A route on one venue: one pair, or two sharing a token. */
  private v2Route(venue: number): { path: Address[]; pools: V2Pool[] } {
    const pools = this.v2.filter((p) => p.venue === venue);
    const first = this.pick(pools);
    const twoHop = this.rand() < 0.25;
    const reverse = this.rand() < 0.5;
    const second = this.pick(pools);
    const shared = [first.token0, first.token1].find((t) => t === second.token0 || t === second.token1);
    let path: Address[];
    let route: V2Pool[];
    if (twoHop && second !== first && shared) {
      const a = shared === first.token0 ? first.token1 : first.token0;
      const c = shared === second.token0 ? second.token1 : second.token0;
      path = [a, shared, c];
      route = [first, second];
      if (a === c) { path = [first.token0, first.token1]; route = [first]; }
    } else {
      path = [first.token0, first.token1];
      route = [first];
    }
    if (reverse) { path.reverse(); route.reverse(); }
    return { path, pools: route };
  }

  private reserves(p: V2Pool, tokenIn: Address): [bigint, bigint] {
    return tokenIn === p.token0 ? [p.r0, p.r1] : [p.r1, p.r0];
  }

  private apply(pool: ModelPool, tokenIn: Address, dIn: bigint, dOut: bigint): void {
    const e: Effect = { pool, zeroForOne: tokenIn === pool.token0, dIn, dOut };
    applyEffect(e);
    this.effects.push(e);
  }

  /** Effects of the intent being planned. */
  private effects: Effect[] = [];
  /** Effects of sent transactions not yet mined, in send order, with the sender's last nonce. */
  private readonly unmined: { account: number; nonce: number; effects: Effect[] }[] = [];

  /** Remembers a sent intent's effects until `resync` sees its sender's nonce pass `nonce`. */
  track(account: number, nonce: number, effects: Effect[]): void {
    if (effects.length > 0) this.unmined.push({ account, nonce, effects });
  }

  /**
   * Re-anchors the model on the node's state: pools take the reserves of a mined block, then the
   * effects of transactions sent but not yet mined there are applied again. Without this, every swap
   * that reverted unexpectedly (or ran in another order than sent) would leave the model off for good.
   */
  resync(minedNonces: readonly number[], reserves: ReadonlyMap<ModelPool, readonly [bigint, bigint]>): void {
    for (const [pool, [r0, r1]] of reserves) { pool.r0 = r0; pool.r1 = r1; }
    let keep = 0;
    for (const u of this.unmined) {
      if (u.nonce < minedNonces[u.account]!) continue;
      this.unmined[keep++] = u;
      for (const e of u.effects) applyEffect(e);
    }
    this.unmined.length = keep;
  }

  /**
   * A Router02 swap on a random venue and route, with the function family drawn from: exact in or
   * out, ETH in or out, fee-on-transfer-supporting (always when the path has the deflating token).
   * `mode` builds a deliberate revert: too high a minimum out, an expired deadline, too low a maximum in.
   */
  private v2Swap(me: Address, mode: 'ok' | 'min-out' | 'expired' | 'max-in'): TxPlan {
    const venue = Math.floor(this.rand() * this.d.v2.length) % this.d.v2.length;
    const router = this.d.v2[venue]!.router;
    const { path, pools } = this.v2Route(venue);
    const first = path[0]!;
    const last = path[path.length - 1]!;
    const hasFot = path.some((t) => this.isFot(t));
    const ethIn = this.isWeth(first) && this.rand() < 0.5;
    const ethOut = !ethIn && this.isWeth(last) && this.rand() < 0.5;
    // A fee-on-transfer path has no exact-out functions, so its too-low maximum in becomes a too-high minimum out.
    const tooHighMin = mode === 'min-out' || (mode === 'max-in' && hasFot);
    const exactOut = mode === 'max-in' ? !hasFot : !hasFot && !tooHighMin && this.rand() < 0.35;
    const supporting = hasFot || this.rand() < 0.15;
    const { f, slip } = this.sizeAndSlippage();
    const deadline = mode === 'expired' ? this.chainNow() - 600n : this.chainNow() + 1200n;
    const hops = pools.length;
    const gas = 130_000n + 80_000n * BigInt(hops) + (hasFot ? 90_000n : 0n) + (ethIn || ethOut ? 40_000n : 0n);

    if (!exactOut) {
      const [rIn0] = this.reserves(pools[0]!, first);
      const aIn = frac(rIn0, f) + 1n;
      // Walk the path as the pairs will: a deflating token arrives 1% short at every hop.
      let amt = aIn;
      const deltas: [bigint, bigint][] = [];
      for (let i = 0; i < hops; i++) {
        const tIn = path[i]!;
        const recv = this.isFot(tIn) ? amt - amt / DFL_BURN : amt;
        const [rIn, rOut] = this.reserves(pools[i]!, tIn);
        const out = amountOut(recv, rIn, rOut);
        deltas.push([recv, out]);
        amt = out;
      }
      const received = this.isFot(last) ? amt - amt / DFL_BURN : amt;
      let min = slip >= 10_000 ? 0n : (received * BigInt(10_000 - slip)) / 10_000n;
      if (tooHighMin) min = (received * TOO_TIGHT_NUM) / TOO_TIGHT_DEN + 1n;
      if (mode === 'ok') for (let i = 0; i < hops; i++) this.apply(pools[i]!, path[i]!, deltas[i]![0], deltas[i]![1]);
      const suffix = supporting ? 'SupportingFeeOnTransferTokens' : '';
      if (ethIn) {
        const fn = `swapExactETHForTokens${suffix}` as 'swapExactETHForTokens';
        return this.swapPlan(slip, router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: fn, args: [min, path, me, deadline] }), aIn, gas, fn, mode !== 'ok');
      }
      const fn = (ethOut ? `swapExactTokensForETH${suffix}` : `swapExactTokensForTokens${suffix}`) as 'swapExactTokensForTokens';
      return this.swapPlan(slip, router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: fn, args: [aIn, min, path, me, deadline] }), 0n, gas, fn, mode !== 'ok');
    }

    const [, rOutLast] = this.reserves(pools[hops - 1]!, path[hops - 1]!);
    const aOut = frac(rOutLast, f) + 1n;
    const amounts = new Array<bigint>(hops + 1);
    amounts[hops] = aOut;
    for (let i = hops - 1; i >= 0; i--) {
      const [rIn, rOut] = this.reserves(pools[i]!, path[i]!);
      amounts[i] = amountIn(amounts[i + 1]!, rIn, rOut);
    }
    const need = amounts[0]!;
    let max = slip >= 10_000 ? need * 2n : (need * BigInt(10_000 + slip)) / 10_000n;
    if (mode === 'max-in') max = (need * TOO_TIGHT_DEN) / TOO_TIGHT_NUM;
    if (mode === 'ok') for (let i = 0; i < hops; i++) this.apply(pools[i]!, path[i]!, amounts[i]!, amounts[i + 1]!);
    if (ethIn) {
      // Pays up to `max` in ETH; the router refunds the rest.
      return this.swapPlan(slip, router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'swapETHForExactTokens', args: [aOut, path, me, deadline] }), max, gas, 'swapETHForExactTokens', mode !== 'ok');
    }
    const fn = ethOut ? 'swapTokensForExactETH' : 'swapTokensForExactTokens';
    return this.swapPlan(slip, router, encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: fn, args: [aOut, max, path, me, deadline] }), 0n, gas, fn, mode !== 'ok');
  }

  /** Constant-product view of a V3 pool: with liquidity L in range, x = L/√P and y = L·√P. */
  private v3Quote(p: V3Pool, tokenIn: Address, aIn: bigint): { net: bigint; out: bigint } {
    const net = (aIn * BigInt(1_000_000 - p.fee)) / 1_000_000n;
    const [x, y] = tokenIn === p.token0 ? [p.r0, p.r1] : [p.r1, p.r0];
    return { net, out: (y * net) / (x + net) };
  }

  private v3QuoteIn(p: V3Pool, tokenIn: Address, aOut: bigint): { net: bigint; gross: bigint } {
    const [x, y] = tokenIn === p.token0 ? [p.r0, p.r1] : [p.r1, p.r0];
    const net = (x * aOut) / (y - aOut) + 1n;
    return { net, gross: (net * 1_000_000n) / BigInt(1_000_000 - p.fee) + 1n };
  }

  /** A SwapRouter swap: exactInput(Single) or exactOutput(Single), ETH in or out through multicall. */
  private v3Swap(me: Address, tooTight: boolean): TxPlan {
    const v3 = this.d.v3!;
    const router = v3.router;
    const first = this.pick(this.v3);
    const twoHop = this.rand() < 0.25;
    const reverse = this.rand() < 0.5;
    const second = this.pick(this.v3);
    const shared = [first.token0, first.token1].find((t) => t === second.token0 || t === second.token1);
    let path: Address[] = [first.token0, first.token1];
    let pools: V3Pool[] = [first];
    if (twoHop && second !== first && shared) {
      const a = shared === first.token0 ? first.token1 : first.token0;
      const c = shared === second.token0 ? second.token1 : second.token0;
      if (a !== c) { path = [a, shared, c]; pools = [first, second]; }
    }
    if (reverse) { path.reverse(); pools.reverse(); }
    const tokenIn = path[0]!;
    const tokenOut = path[path.length - 1]!;
    const ethIn = this.isWeth(tokenIn) && this.rand() < 0.5;
    const ethOut = !ethIn && this.isWeth(tokenOut) && this.rand() < 0.5;
    const exactOut = !tooTight && this.rand() < 0.3;
    const { f, slip } = this.sizeAndSlippage();
    const deadline = this.chainNow() + 1200n;
    const hops = pools.length;
    const gas = 150_000n + 110_000n * BigInt(hops) + (ethIn || ethOut ? 60_000n : 0n);
    const recipient = ethOut ? router : me;
    const encodePath = (tokens: Address[], fees: number[]): Hex => {
      const types: ('address' | 'uint24')[] = [];
      const values: (Address | number)[] = [];
      tokens.forEach((t, i) => { types.push('address'); values.push(t); if (i < fees.length) { types.push('uint24'); values.push(fees[i]!); } });
      return encodePacked(types, values);
    };

    let swap: Hex;
    let method: string;
    let value = 0n;
    let unwrapMin = 0n;
    if (!exactOut) {
      const x0 = tokenIn === pools[0]!.token0 ? pools[0]!.r0 : pools[0]!.r1;
      const aIn = frac(x0 / V3_DEPTH, f) + 1n;
      let amt = aIn;
      const deltas: [bigint, bigint][] = [];
      for (let i = 0; i < hops; i++) {
        const q = this.v3Quote(pools[i]!, path[i]!, amt);
        deltas.push([q.net, q.out]);
        amt = q.out;
      }
      let min = slip >= 10_000 ? 0n : (amt * BigInt(10_000 - slip)) / 10_000n;
      if (tooTight) min = (amt * TOO_TIGHT_NUM) / TOO_TIGHT_DEN + 1n;
      else for (let i = 0; i < hops; i++) this.apply(pools[i]!, path[i]!, deltas[i]![0], deltas[i]![1]);
      unwrapMin = min;
      if (ethIn) value = aIn;
      if (hops === 1) {
        method = 'exactInputSingle';
        swap = encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'exactInputSingle', args: [{ tokenIn, tokenOut, fee: pools[0]!.fee, recipient, deadline, amountIn: aIn, amountOutMinimum: min, sqrtPriceLimitX96: 0n }] });
      } else {
        method = 'exactInput';
        swap = encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'exactInput', args: [{ path: encodePath(path, pools.map((p) => p.fee)), recipient, deadline, amountIn: aIn, amountOutMinimum: min }] });
      }
    } else {
      const last = pools[hops - 1]!;
      const yLast = tokenOut === last.token0 ? last.r0 : last.r1;
      const aOut = frac(yLast / V3_DEPTH, f) + 1n;
      const nets = new Array<bigint>(hops);
      const amounts = new Array<bigint>(hops + 1);
      amounts[hops] = aOut;
      for (let i = hops - 1; i >= 0; i--) {
        const q = this.v3QuoteIn(pools[i]!, path[i]!, amounts[i + 1]!);
        nets[i] = q.net;
        amounts[i] = q.gross;
      }
      const need = amounts[0]!;
      const max = slip >= 10_000 ? need * 2n : (need * BigInt(10_000 + slip)) / 10_000n;
      for (let i = 0; i < hops; i++) this.apply(pools[i]!, path[i]!, nets[i]!, amounts[i + 1]!);
      unwrapMin = aOut;
      if (ethIn) value = max;
      if (hops === 1) {
        method = 'exactOutputSingle';
        swap = encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'exactOutputSingle', args: [{ tokenIn, tokenOut, fee: pools[0]!.fee, recipient, deadline, amountOut: aOut, amountInMaximum: max, sqrtPriceLimitX96: 0n }] });
      } else {
        // exactOutput takes the path backwards, from the output token.
        method = 'exactOutput';
        swap = encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'exactOutput', args: [{ path: encodePath([...path].reverse(), pools.map((p) => p.fee).reverse()), recipient, deadline, amountOut: aOut, amountInMaximum: max }] });
      }
    }
    let data = swap;
    if (ethOut) {
      data = encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'multicall', args: [[swap, encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'unwrapWETH9', args: [unwrapMin, me] })]] });
      method = `multicall:${method}+unwrapWETH9`;
    } else if (ethIn && exactOut) {
      data = encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'multicall', args: [[swap, encodeFunctionData({ abi: V3_SWAP_ROUTER_ABI, functionName: 'refundETH' })]] });
      method = `multicall:${method}+refundETH`;
    }
    return this.swapPlan(slip, router, data, value, gas, method, tooTight);
  }

  /**
   * A direct pair swap as bots do it: transfer the input to the pair, then `pair.swap` for the
   * output (1% under the quote, so a move of the price in between does not break K).
   */
  private pairSwap(me: Address): TxPlan[] {
    const p = this.pick(this.v2);
    const zeroForOne = this.rand() < 0.5;
    const f = this.logUniform(1e-5, 2e-3);
    const tokenIn = zeroForOne ? p.token0 : p.token1;
    const [rIn, rOut] = this.reserves(p, tokenIn);
    const aIn = frac(rIn, f) + 1n;
    const recv = this.isFot(tokenIn) ? aIn - aIn / DFL_BURN : aIn;
    const out = (amountOut(recv, rIn, rOut) * 99n) / 100n;
    this.apply(p, tokenIn, recv, out);
    const tip = PAIR_SWAP_TIP_BPS + Math.floor(this.rand() * 10_000);
    const env = { type: 2 as const, eip155: true, tipBps: tip, gasPriceBps: tip, accessList: [] };
    const transfer: TxPlan = { to: tokenIn, data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [p.address, aIn] }), value: 0n, gas: 90_000n, method: 'transfer', expectRevert: false, ...env };
    const swap: TxPlan = {
      to: p.address,
      data: encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'swap', args: [zeroForOne ? 0n : out, zeroForOne ? out : 0n, me, '0x'] }),
      value: 0n, gas: 160_000n, method: 'swap', expectRevert: false, ...env,
    };
    return [transfer, swap];
  }

  /** A transaction built to revert, of a kind real users send by mistake. */
  private revert(me: Address, account: number): TxPlan {
    const modes = ['v2-min-out', 'v2-expired', 'v2-max-in', 'v3-min-out', 'erc20-overdraft', 'pair-no-input'] as const;
    let mode: (typeof modes)[number] = this.pick(modes);
    if (mode === 'v3-min-out' && this.v3.length === 0) mode = 'v2-min-out';
    switch (mode) {
      case 'v2-min-out': return this.v2Swap(me, 'min-out');
      case 'v2-expired': return this.v2Swap(me, 'expired');
      case 'v2-max-in': return this.v2Swap(me, 'max-in');
      case 'v3-min-out': return this.v3Swap(me, true);
      case 'erc20-overdraft': {
        const token = this.pick(this.tokens);
        return this.plain(token, encodeFunctionData({ abi: ERC20_ABI, functionName: 'transfer', args: [this.recipient(account), 2n ** 255n] }), 0n, 90_000n, 'transfer', true);
      }
      case 'pair-no-input': {
        // Asks for 2% of a reserve without paying: more than any in-flight direct-swap input could cover.
        const p = this.pick(this.v2);
        const out = p.r1 / 50n;
        return this.plain(p.address, encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'swap', args: [0n, out, me, '0x'] }), 0n, 160_000n, 'swap', true);
      }
    }
  }

  /**
   * An EIP-7702 transaction: the sender sponsors one or two authorizations from its own throwaway
   * authorities (delegating them to WETH9, a token, a router, or clearing the delegation) and calls
   * the first authority, which now runs the delegated code. Authorities never receive other
   * traffic, so their delegated code cannot break a plain transfer to them.
   */
  private delegate(account: number): TxPlan {
    const base = account * AUTHORITIES_PER_ACCOUNT;
    const firstIdx = base + Math.floor(this.rand() * AUTHORITIES_PER_ACCOUNT);
    const two = this.rand() < 0.3;
    const targetPick = this.rand();
    const anyChain = this.rand() < 0.2;
    const token = this.pick(this.d.tokens).address;
    const router = this.pick(this.d.v2).router;
    const valueWei = BigInt(Math.floor(this.logUniform(1e-4, 1e-1) * 1e9)) * 10n ** 9n;
    const target: Address = targetPick < 0.4 ? this.d.weth : targetPick < 0.65 ? token : targetPick < 0.85 ? router : '0x0000000000000000000000000000000000000000';
    const idxs = two ? [firstIdx, firstIdx === base ? base + 1 : base] : [firstIdx];
    const authorizations = idxs.map((authority, i) => ({
      authority,
      target: i === 0 ? target : this.d.weth,
      chainId: anyChain ? 0 : this.chainId,
      nonce: this.authorityNonces[authority]!++,
    }));
    const to = this.authorities[firstIdx]!;
    let data: Hex = '0x';
    let value = 0n;
    let method = 'delegate:clear';
    if (target === this.d.weth) { data = encodeFunctionData({ abi: ERC20_ABI, functionName: 'deposit' }); value = valueWei; method = 'delegate:deposit'; }
    else if (target === token) { data = encodeFunctionData({ abi: ERC20_ABI, functionName: 'approve', args: [router, valueWei] }); method = 'delegate:approve'; }
    else if (target === router) { data = encodeFunctionData({ abi: V2_ROUTER_ABI, functionName: 'WETH' }); method = 'delegate:WETH'; }
    const tipBps = Math.floor(this.logUniform(100, 20_000));
    return { to, data, value, gas: 60_000n + 30_000n * BigInt(idxs.length) + 60_000n, method, expectRevert: false, type: 4, eip155: true, tipBps, gasPriceBps: tipBps, accessList: [], authorizations };
  }
}

// ---------------------------------------------------------------------------------------------
// The run: read the start state once, then plan, sign and send on a schedule.

const FEE_FLOOR = 1_000_000_000n;
const GET_RESERVES = encodeFunctionData({ abi: V2_PAIR_ABI, functionName: 'getReserves' });
const SLOT0 = encodeFunctionData({ abi: V3_POOL_ABI, functionName: 'slot0' });
const LIQUIDITY = encodeFunctionData({ abi: V3_POOL_ABI, functionName: 'liquidity' });
const MAX_INFLIGHT = 8192;
const MAX_BUFFERED = 16 * 1024 * 1024;
const REPLY_TIMEOUT_MS = 30_000;
/** An account whose mined nonce has not moved for this long gets its next transaction re-sent. */
const REBROADCAST_AFTER_MS = 3000;
/** Cap on signed transactions kept per account for re-sending (a node that never mines would grow it forever). */
const MAX_UNMINED_KEPT = 50_000;

function hardforkAtLeast(hardfork: string | undefined, min: string): boolean {
  if (!hardfork) return true;
  const order = ['frontier', 'homestead', 'tangerine', 'spurious', 'byzantium', 'constantinople', 'petersburg', 'istanbul', 'muirglacier', 'berlin', 'london', 'arrowglacier', 'grayglacier', 'paris', 'merge', 'shanghai', 'cancun', 'prague', 'osaka'];
  const norm = (h: string) => h.toLowerCase().replace(/[^a-z]/g, '');
  const i = order.indexOf(norm(hardfork));
  return i < 0 || i >= order.indexOf(min);
}

/** The throwaway authority keys of a seed: `AUTHORITIES_PER_ACCOUNT` per trading account. */
function authorityKeys(seed: number, accounts: number): Uint8Array[] {
  return Array.from({ length: accounts * AUTHORITIES_PER_ACCOUNT }, (_, i) => keccak_256(new TextEncoder().encode(`orion-devnet-7702:${seed}:${i}`)));
}

/**
 * Starts sending a realistic, seeded mix of transactions to `target` at `opts.rate` per second:
 * Router02 swaps of every function family on each V2 venue, SwapRouter swaps, direct pair swaps,
 * ETH and ERC20 transfers, approvals, deliberate reverts, EIP-7702 delegations and blob
 * transactions, as types 0 (with and without EIP-155), 1, 2, 3 and 4. Signs locally with native
 * secp256k1, tracks nonces locally (one query per account at start) and sends over one websocket.
 * Refusals are counted by reason and their nonces reused, and transactions the node drops are sent
 * again, so no account stalls behind a nonce gap. Measured here (2 cores shared with anvil): 2000
 * tx/s sustained, ~3700 tx/s at most.
 */
export function startTraffic(target: TrafficTarget, opts: TrafficOptions): TrafficRun {
  if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`opts.rate must be a positive number of transactions per second, got ${opts.rate}`);
  if (!Number.isInteger(opts.seed)) throw new TypeError(`opts.seed must be an integer, got ${opts.seed}`);
  if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count >= 0)) throw new RangeError(`opts.count must be a non-negative integer, got ${opts.count}`);
  if (opts.resyncMs !== undefined && !(opts.resyncMs >= 0)) throw new RangeError(`opts.resyncMs must be >= 0, got ${opts.resyncMs}`);
  if (opts.settleMs !== undefined && !(opts.settleMs >= 0)) throw new RangeError(`opts.settleMs must be >= 0, got ${opts.settleMs}`);
  if (opts.durationMs !== undefined && !(opts.durationMs >= 0)) throw new RangeError(`opts.durationMs must be >= 0, got ${opts.durationMs}`);
  const d = target.deployment;
  const funded = new Set(d.accounts.map((a) => a.toLowerCase()));
  const keys = target.privateKeys.filter((k) => funded.has(privateKeyToAddress(k).toLowerCase()));
  if (keys.length === 0) throw new TypeError('target.privateKeys holds no key of deployment.accounts (the funded, approved traders)');
  const accounts = keys.map((k) => privateKeyToAddress(k));
  const keyBytes = keys.map((k) => hexToBytes(k));
  const authKeys = authorityKeys(opts.seed, accounts.length);
  const authorities = authKeys.map((k) => privateKeyToAddress(bytesToHex(k)));
  const keepRecords = opts.keepRecords ?? true;

  const allowed = new Set<TrafficKind>(TRAFFIC_KINDS);
  if (!d.v3 || d.v3.pools.length === 0) allowed.delete('v3-swap');
  if (!hardforkAtLeast(target.hardfork, 'prague')) allowed.delete('delegate');
  if (!hardforkAtLeast(target.hardfork, 'cancun')) allowed.delete('blob');

  const records: TrafficTx[] = [];
  const errors: Record<string, number> = {};
  const byKind = Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, 0])) as Record<TrafficKind, number>;
  const byType: Record<TxType, number> = { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 };
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  let expectedReverts = 0;
  let maxLagMs = 0;
  let buildMs = 0;
  let startedAt = 0;
  let lastSendAt = 0;
  let stopRequested = false;
  let socket: RpcSocket | undefined;
  let wakeDrain: (() => void) | undefined;
  let feeBase = FEE_FLOOR;
  const nonces: number[] = [];
  const holes: number[][] = accounts.map(() => []);

  const countError = (reason: string) => {
    // Numbers (nonces, balances, hashes) vary per transaction; the reason is the text around them.
    const key = reason.replace(/0x[0-9a-fA-F]+/g, '0x…').replace(/(?<!EIP-)\b\d+\b/g, 'N').slice(0, 160);
    errors[key] = (errors[key] ?? 0) + 1;
  };

  // The model's pools, V2 then V3, and the calls that read their state at a given block.
  const pools: ModelPool[] = [
    ...d.v2.flatMap((v, venue) => v.pairs.map((p) => ({ address: p.address, token0: p.token0, token1: p.token1, r0: 0n, r1: 0n, venue, fee: 3000 }))),
    ...(d.v3?.pools ?? []).map((p) => ({ address: p.address, token0: p.token0, token1: p.token1, r0: 0n, r1: 0n, venue: -1, fee: p.fee })),
  ];
  const poolCalls = (tag: string): RpcCall[] => pools.flatMap((p): RpcCall[] => p.venue >= 0
    ? [['eth_call', [{ to: p.address, data: GET_RESERVES }, tag]]]
    : [['eth_call', [{ to: p.address, data: SLOT0 }, tag]], ['eth_call', [{ to: p.address, data: LIQUIDITY }, tag]]]);
  const parsePools = (words: readonly Hex[]): Map<ModelPool, readonly [bigint, bigint]> => {
    const out = new Map<ModelPool, readonly [bigint, bigint]>();
    let i = 0;
    for (const p of pools) {
      if (p.venue >= 0) {
        const w = words[i++]!;
        out.set(p, [BigInt(`0x${w.slice(2, 66)}`), BigInt(`0x${w.slice(66, 130)}`)]);
      } else {
        const sqrtP = BigInt(`0x${words[i++]!.slice(2, 66)}`);
        const liquidity = BigInt(words[i++]!);
        out.set(p, [(liquidity << 96n) / sqrtP, (liquidity * sqrtP) >> 96n]);
      }
    }
    return out;
  };

  const ready = (async () => {
    const [chainIdHex, block, ...rest] = (await rpcBatch(target.rpcUrl, [
      ['eth_chainId', []],
      ['eth_getBlockByNumber', ['latest', false]],
      ...accounts.map((a): RpcCall => ['eth_getTransactionCount', [a, 'pending']]),
      ...authorities.map((a): RpcCall => ['eth_getTransactionCount', [a, 'pending']]),
      ...poolCalls('latest'),
    ])) as [Hex, { timestamp: Hex; baseFeePerGas?: Hex }, ...Hex[]];
    if (Number(chainIdHex) !== target.chainId) throw new OrionError('ORION_ERR_DEVNET', `node at ${target.rpcUrl} has chain id ${Number(chainIdHex)}, expected ${target.chainId}`);
    for (let i = 0; i < accounts.length; i++) nonces.push(Number(rest[i]));
    const authorityNonces = authorities.map((_, i) => Number(rest[accounts.length + i]));
    for (const [p, [r0, r1]] of parsePools(rest.slice(accounts.length + authorities.length))) { p.r0 = r0; p.r1 = r1; }
    // Fees are multiples of the start's base fee (at least 1 gwei), with 100x headroom on maxFeePerGas.
    const baseFee = block.baseFeePerGas ? BigInt(block.baseFeePerGas) : 0n;
    const base = baseFee > FEE_FLOOR ? baseFee : FEE_FLOOR;
    const chainT0 = BigInt(block.timestamp);
    const wallT0 = Date.now();
    const chainNow = () => chainT0 + BigInt(Math.floor((Date.now() - wallT0) / 1000));
    const planner = new Planner(opts.seed, opts, d, target.chainId, accounts, authorities, authorityNonces, pools.filter((p) => p.venue >= 0), pools.filter((p) => p.venue < 0), chainNow, allowed);
    socket = await RpcSocket.connect(target.wsUrl ?? target.rpcUrl.replace(/^http/, 'ws'));
    return { planner, feeBase: base };
  })();

  // Signed bytes of every sent transaction the node has not mined yet, per account by nonce, so a
  // transaction the node dropped can be sent again (see `watch`).
  const unminedRaw: Map<number, string>[] = accounts.map(() => new Map());
  const minedNonce: number[] = accounts.map(() => 0);
  const stalledSince: number[] = accounts.map(() => Date.now());
  let rebroadcasts = 0;

  /**
   * Reads each account's mined nonce (and, with `withPools`, the pool states) at the head block.
   * Re-anchors the planner, and re-sends the next transaction of an account whose nonce has not
   * moved for a while although it has more unmined: anvil 1.7 drops the transactions behind a blob
   * transaction it postponed for lack of blob space, and the account would stall behind the gap.
   */
  const watch = async (planner: Planner, withPools: boolean) => {
    const head = await rpcBatch(target.rpcUrl, [['eth_blockNumber', []]]);
    const tag = head[0] as Hex;
    const res = (await rpcBatch(target.rpcUrl, [...accounts.map((a): RpcCall => ['eth_getTransactionCount', [a, tag]]), ...(withPools ? poolCalls(tag) : [])])) as Hex[];
    const mined = res.slice(0, accounts.length).map(Number);
    if (withPools) planner.resync(mined, parsePools(res.slice(accounts.length)));
    const now = Date.now();
    mined.forEach((m, i) => {
      const raws = unminedRaw[i]!;
      for (const n of raws.keys()) if (n < m) raws.delete(n);
      if (m !== minedNonce[i]) { minedNonce[i] = m; stalledSince[i] = now; return; }
      if (!raws.has(m) || now - stalledSince[i]! < REBROADCAST_AFTER_MS || !socket || socket.closed) return;
      stalledSince[i] = now;
      // The node drops the queued transactions behind the gap too, so everything unmined goes again, in nonce order.
      for (const n of [...raws.keys()].sort((x, y) => x - y)) {
        rebroadcasts++;
        socket.send('eth_sendRawTransaction', `["${raws.get(n)!}"]`, (error) => {
          if (error !== undefined && !/already known|already imported/i.test(error)) countError(`rebroadcast: ${error}`);
        });
      }
    });
  };

  /** Every accepted transaction is mined as far as the last `watch` saw. */
  const allMined = () => unminedRaw.every((raws, i) => ![...raws.keys()].some((n) => n >= minedNonce[i]!));

  const sendOne = (plan: TxPlan, kind: TrafficKind, account: number, nonceOverride?: number): number => {
    const t = performance.now();
    const hole = holes[account]!;
    const nonce = nonceOverride ?? (hole.length > 0 ? hole.shift()! : nonces[account]!++);
    const tip = (feeBase * BigInt(plan.tipBps)) / 10_000n;
    const maxFee = feeBase * 100n + tip;
    const common = { chainId: target.chainId, nonce, gas: plan.gas, to: plan.to, value: plan.value, data: plan.data };
    let tx: TransactionSerializable;
    switch (plan.type) {
      case 0: {
        const gasPrice = (feeBase * BigInt(plan.gasPriceBps)) / 10_000n;
        tx = plan.eip155 ? { ...common, type: 'legacy', gasPrice } : { ...common, chainId: undefined, type: 'legacy', gasPrice };
        break;
      }
      case 1: tx = { ...common, type: 'eip2930', gasPrice: (feeBase * BigInt(plan.gasPriceBps)) / 10_000n, accessList: plan.accessList }; break;
      case 2: tx = { ...common, type: 'eip1559', maxFeePerGas: maxFee, maxPriorityFeePerGas: tip, accessList: plan.accessList }; break;
      case 3: tx = { ...common, type: 'eip4844', maxFeePerGas: maxFee, maxPriorityFeePerGas: tip, maxFeePerBlobGas: 10n * FEE_FLOOR, accessList: plan.accessList, blobVersionedHashes: [ZERO_BLOB_VERSIONED_HASH], sidecars: [ZERO_BLOB_SIDECAR] }; break;
      case 4: {
        const authorizationList = (plan.authorizations ?? []).map((a) => signAuthorization(authKeys[a.authority]!, a.chainId, a.target, a.nonce));
        tx = { ...common, type: 'eip7702', maxFeePerGas: maxFee, maxPriorityFeePerGas: tip, accessList: plan.accessList, authorizationList };
        break;
      }
    }
    const { raw, hash } = signTransaction(tx, keyBytes[account]!);
    const now = performance.now();
    buildMs += now - t;
    const rec: TrafficTx = {
      index: sent,
      hash,
      from: accounts[account]!,
      to: plan.to,
      type: plan.type,
      kind,
      nonce,
      method: plan.method,
      expectRevert: plan.expectRevert,
      eip155: plan.eip155,
      ...(plan.slippageBps !== undefined ? { slippageBps: plan.slippageBps } : {}),
      ...(plan.authorizations ? { authorities: plan.authorizations.map((a) => authorities[a.authority]!) } : {}),
      sentAt: performance.timeOrigin + now,
    };
    if (keepRecords) records.push(rec);
    sent++;
    byKind[kind]++;
    byType[plan.type]++;
    if (plan.expectRevert) expectedReverts++;
    lastSendAt = now;
    socket!.send('eth_sendRawTransaction', `["${raw}"]`, (error, result) => {
      if (error === undefined) {
        accepted++;
        rec.accepted = true;
        if (unminedRaw[account]!.size < MAX_UNMINED_KEPT) unminedRaw[account]!.set(nonce, raw);
        if (result !== hash) countError(`node reported hash ${String(result)} for ${hash}`);
      } else {
        rejected++;
        rec.accepted = false;
        rec.error = error;
        countError(error);
        // Reuse the nonce unless the node already has one there, so later transactions are not stuck behind a gap.
        if (!/nonce too low|already known|already imported/i.test(error)) { hole.push(nonce); hole.sort((a, b) => a - b); }
      }
      if (socket!.inflight === 0) wakeDrain?.();
    });
    return nonce;
  };

  const drain = async () => {
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (socket && socket.inflight > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wakeDrain = resolve;
        setTimeout(resolve, 100);
      });
    }
    wakeDrain = undefined;
    if (socket && socket.inflight > 0) countError(`${socket.inflight} replies still missing after ${REPLY_TIMEOUT_MS} ms`);
  };

  const done = (async (): Promise<TrafficReport> => {
    const started = await ready;
    const planner = started.planner;
    feeBase = started.feeBase;
    const rate = opts.rate;
    const limit = opts.count ?? Number.POSITIVE_INFINITY;
    const burst = Math.max(1, Math.ceil(rate / 100));
    const resyncMs = opts.resyncMs ?? 1000;
    let watching: Promise<void> | undefined;
    const runWatch = (withPools: boolean) => {
      watching ??= watch(planner, withPools)
        .catch((e: unknown) => countError(`watch failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => { watching = undefined; });
      return watching;
    };
    const watchTimer = setInterval(() => void runWatch(resyncMs > 0), resyncMs > 0 ? resyncMs : 1000);
    startedAt = performance.now();
    const endAt = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : startedAt + opts.durationMs;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (stopRequested || sent >= limit || now >= endAt || socket!.closed) { resolve(); return; }
        const due = Math.min(limit, Math.floor(((now - startedAt) * rate) / 1000) + 1);
        const behind = due - sent;
        if (behind > 1) maxLagMs = Math.max(maxLagMs, ((behind - 1) * 1000) / rate);
        // Back off while the node is behind on replies rather than queue without bound.
        const congested = socket!.inflight >= MAX_INFLIGHT || socket!.buffered >= MAX_BUFFERED;
        if (!congested) {
          for (let n = 0; n < burst && sent < due; n++) {
            const intent = planner.next(limit - sent);
            let last = 0;
            for (const plan of intent.txs) last = sendOne(plan, intent.kind, intent.account);
            planner.track(intent.account, last, intent.effects);
          }
        }
        if (sent >= limit) { resolve(); return; }
        const wait = ((sent * 1000) / rate) - (performance.now() - startedAt);
        // Sleep until the next slot even when it is under a millisecond away: a setImmediate loop
        // would spin this thread at 100% and starve the engine being measured on the same cores.
        if (wait > 0 && !congested) setTimeout(tick, Math.max(1, Math.min(wait, endAt - performance.now())));
        else if (congested) setTimeout(tick, 1);
        else setImmediate(tick);
      };
      tick();
    });
    clearInterval(watchTimer);
    await drain();
    // Nonces freed by refusals and never reused would leave later transactions of that account
    // stuck in the pool: fill each with a zero-value self-transfer.
    for (const [account, hole] of holes.entries()) {
      while (hole.length > 0 && !socket!.closed) {
        const nonce = hole.shift()!;
        const self = accounts[account]!;
        sendOne({ to: self, data: '0x', value: 0n, gas: 21_000n, method: 'fill-nonce-gap', expectRevert: false, type: 2, eip155: true, tipBps: 10_000, gasPriceBps: 10_000, accessList: [] }, 'eth-transfer', account, nonce);
        await drain();
      }
    }
    let unmined: number | undefined;
    if ((opts.settleMs ?? 0) > 0) {
      const deadline = Date.now() + opts.settleMs!;
      for (;;) {
        await runWatch(false);
        if (allMined() || Date.now() > deadline || socket!.closed) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      unmined = unminedRaw.reduce((sum, raws, i) => sum + [...raws.keys()].filter((n) => n >= minedNonce[i]!).length, 0);
    }
    await watching;
    await socket!.close();
    const durationMs = (lastSendAt || performance.now()) - startedAt;
    return {
      sent,
      accepted,
      rejected,
      errors,
      byKind,
      byType,
      expectedReverts,
      durationMs,
      achievedRate: durationMs > 0 ? (sent * 1000) / durationMs : sent,
      maxLagMs,
      buildUsMean: sent > 0 ? (buildMs * 1000) / sent : 0,
      signer: secp.native ? 'native' : 'js',
      rebroadcasts,
      ...(unmined !== undefined ? { unmined } : {}),
      records,
    };
  })();

  // Callers that only use stop() must not see an unhandled rejection from `done` or `ready`.
  const readyVoid = ready.then(() => undefined);
  readyVoid.catch(() => undefined);
  done.catch(() => undefined);
  return {
    records,
    ready: readyVoid,
    done,
    stop() {
      stopRequested = true;
      return done;
    },
  };
}
