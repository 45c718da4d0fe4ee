import { toHex } from '../../decoder/tx/hex.js';
import { keccak256 } from '../../decoder/tx/keccak.js';
import type { EndpointResult, Hex, Route, RouteError, RouteOutcome, Sendable } from '../types.js';
import { type RpcResult, garbage, isUnknownOutcome, jsonRpcRequest, postJsonRpc } from './rpc-client.js';
import { checkSendable, checkTimeout, endpointUrl } from './route-checks.js';

/**
 * Flashbots-style relays and builders: `eth_sendBundle` to every configured relay for each target
 * block, `eth_callBundle` to simulate first, `eth_cancelBundle` to withdraw by `replacementUuid`.
 * Every request carries `X-Flashbots-Signature`, signed over the exact bytes that are sent.
 * (https://docs.flashbots.net/flashbots-auction/advanced/rpc-endpoint)
 */

/** The header relays authenticate searchers by. */
export const FLASHBOTS_SIGNATURE_HEADER = 'X-Flashbots-Signature';

/**
 * The key that signs relay requests (a reputation identity, holding no funds). Fits a viem account
 * as `{ address, signMessage: (m) => account.signMessage({ message: m }) }` and synchronous signers.
 */
export interface AuthSigner {
  /** 0x-address of the key, as relays will print it back. */
  address: string;
  /** EIP-191 `personal_sign` of `message` taken as UTF-8 text: 65-byte `r ‖ s ‖ v` 0x-hex. */
  signMessage(message: string): Hex | Promise<Hex>;
}

/** One relay or builder endpoint. */
export interface FlashbotsRelay {
  /** Label in results, logs and metrics; the URL is never printed (it may carry a key). */
  name: string;
  url: string;
}

/** Options of {@link FlashbotsRoute}. */
export interface FlashbotsRouteOptions {
  relays: FlashbotsRelay[];
  authSigner: AuthSigner;
  /** Budget of each request. */
  timeoutMs: number;
  /** Name of the relay `eth_callBundle` goes to; default the first. */
  simulationRelay?: string;
}

/** One transaction of an `eth_callBundle` answer. Wei amounts are bigints; absent fields stay undefined. */
export interface CallBundleTxResult {
  txHash: Hex;
  gasUsed: number;
  /** Set when the transaction failed (`"execution reverted"`, …). */
  error?: string;
  /** Revert data or reason, when the relay gives one. */
  revert?: string;
  /** Return data. */
  value?: string;
  coinbaseDiff?: bigint;
  ethSentToCoinbase?: bigint;
  gasFees?: bigint;
  gasPrice?: bigint;
  fromAddress?: string;
  toAddress?: string;
}

/** A parsed `eth_callBundle` result (the Flashbots relay's documented shape). */
export interface CallBundleResult {
  bundleHash: Hex;
  bundleGasPrice: bigint;
  coinbaseDiff: bigint;
  ethSentToCoinbase: bigint;
  gasFees: bigint;
  stateBlockNumber: number;
  totalGasUsed: number;
  results: CallBundleTxResult[];
}

/** What {@link FlashbotsRoute.callBundle} answers. */
export type CallBundleOutcome = { ok: true; result: CallBundleResult } | { ok: false; error: RouteError };

/** Lowercase 0x-hex quantity, as JSON-RPC encodes block numbers. */
function quantity(n: number): Hex {
  return `0x${n.toString(16)}`;
}

/**
 * The `X-Flashbots-Signature` value for `body`: `address:signature`, the signature being the
 * EIP-191 personal signature of the text `0x<hex keccak256 of the UTF-8 body bytes>` (what ethers'
 * `wallet.signMessage(id(body))` produces). The body must be sent exactly as hashed here.
 * @remarks Allocates; once per request body.
 */
export async function flashbotsSignatureHeader(body: string, signer: AuthSigner): Promise<string> {
  const hash = toHex(keccak256(Buffer.from(body, 'utf8')));
  const signature = await signer.signMessage(hash);
  return `${signer.address}:${signature}`;
}

/** Sends bundles to Flashbots-style relays. */
export class FlashbotsRoute implements Route {
  readonly name = 'flashbots' as const;
  readonly protected = true;
  private readonly relays: readonly FlashbotsRelay[];
  private readonly signer: AuthSigner;
  private readonly timeoutMs: number;
  private readonly simulationRelay: FlashbotsRelay;

  constructor(opts: FlashbotsRouteOptions) {
    if (!Array.isArray(opts.relays) || opts.relays.length === 0) throw new TypeError('opts.relays must list at least one relay');
    const names = new Set<string>();
    for (const [i, r] of opts.relays.entries()) {
      if (typeof r?.name !== 'string' || r.name === '') throw new TypeError(`opts.relays[${i}].name must be a non-empty string`);
      if (names.has(r.name)) throw new TypeError(`opts.relays[${i}].name ${r.name} is used twice`);
      names.add(r.name);
      endpointUrl(r.url, `opts.relays[${i}].url`);
    }
    const s = opts.authSigner;
    if (typeof s?.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s.address)) throw new TypeError('opts.authSigner.address must be a 0x-address');
    if (typeof s.signMessage !== 'function') throw new TypeError('opts.authSigner.signMessage must be a function');
    checkTimeout(opts.timeoutMs, 'opts.timeoutMs');
    const sim = opts.simulationRelay === undefined ? opts.relays[0] : opts.relays.find((r) => r.name === opts.simulationRelay);
    if (sim === undefined) throw new TypeError(`opts.simulationRelay ${opts.simulationRelay} is not one of opts.relays`);
    this.relays = opts.relays.map((r) => ({ name: r.name, url: r.url }));
    this.signer = s;
    this.timeoutMs = opts.timeoutMs;
    this.simulationRelay = { name: sim.name, url: sim.url };
  }

  /**
   * One `eth_sendBundle` per target block (`targetBlock … targetBlock + blocks − 1`) to every relay,
   * all in parallel. A relay is ok when it accepted every block; the outcome is ok when one relay
   * is, and not definite when any answer is unknown (timeout, dropped connection).
   * @remarks Allocates; once per submission.
   */
  async send(s: Sendable): Promise<RouteOutcome> {
    checkSendable(s);
    const requests = await Promise.all(
      Array.from({ length: s.blocks }, (_, i) =>
        this.signed('eth_sendBundle', [{ txs: s.rawTxs, blockNumber: quantity(s.targetBlock + i), replacementUuid: s.replacementUuid }]),
      ),
    );
    const answers = await Promise.all(this.relays.map((relay) => Promise.all(requests.map((r) => this.post(relay, r)))));
    let definite = true;
    const results = this.relays.map((relay, ri): EndpointResult => {
      let id: string | null = null;
      let error: RouteError | null = null;
      for (const [bi, a] of answers[ri]!.entries()) {
        const e = a.ok ? bundleHashOf(a.result) : a.error;
        if (typeof e === 'string' || e === null) {
          id ??= e;
          continue;
        }
        if (isUnknownOutcome(e)) definite = false;
        // Report an unknown answer in preference to a refusal: it is the one that restricts retries.
        if (error === null || (!isUnknownOutcome(error) && isUnknownOutcome(e))) error = { ...e, message: `block ${s.targetBlock + bi}: ${e.message}` };
      }
      return { endpoint: relay.name, ok: error === null, id, error };
    });
    return { route: this.name, ok: results.some((r) => r.ok), definite, results };
  }

  /**
   * Simulates the bundle for its first target block on the simulation relay, on top of the state
   * after `stateBlock`. A simulation only answers; it never changes what may be resent.
   * @remarks Allocates; once per simulation.
   */
  async callBundle(s: Sendable, stateBlock: number | 'latest'): Promise<CallBundleOutcome> {
    checkSendable(s);
    if (stateBlock !== 'latest' && (!Number.isSafeInteger(stateBlock) || stateBlock < 0)) throw new RangeError(`stateBlock must be a block number or 'latest', got ${stateBlock}`);
    const req = await this.signed('eth_callBundle', [
      { txs: s.rawTxs, blockNumber: quantity(s.targetBlock), stateBlockNumber: stateBlock === 'latest' ? 'latest' : quantity(stateBlock) },
    ]);
    const a = await this.post(this.simulationRelay, req);
    if (!a.ok) return a;
    const result = parseCallBundle(a.result);
    return result === null ? { ok: false, error: garbage('eth_callBundle result has not the documented shape') } : { ok: true, result };
  }

  /**
   * Asks every relay to drop the bundles sent with `replacementUuid`. Any result counts as accepted
   * (relays answer `null`, `200` or `true`); the outcome's `ok` means one relay took the request.
   * @remarks Allocates; once per cancellation.
   */
  async cancel(replacementUuid: string): Promise<RouteOutcome> {
    if (typeof replacementUuid !== 'string' || replacementUuid === '') throw new TypeError('replacementUuid must be a non-empty string');
    const req = await this.signed('eth_cancelBundle', [{ replacementUuid }]);
    const answers = await Promise.all(this.relays.map((relay) => this.post(relay, req)));
    const results = answers.map((a, i): EndpointResult => ({ endpoint: this.relays[i]!.name, ok: a.ok, id: null, error: a.ok ? null : a.error }));
    return { route: this.name, ok: results.some((r) => r.ok), definite: !results.some((r) => isUnknownOutcome(r.error)), results };
  }

  /** A request and the signature header over its exact body. */
  private async signed(method: string, params: unknown[]): Promise<{ id: number; body: string; headers: Record<string, string> }> {
    const { id, body } = jsonRpcRequest(method, params);
    return { id, body, headers: { [FLASHBOTS_SIGNATURE_HEADER]: await flashbotsSignatureHeader(body, this.signer) } };
  }

  private post(relay: FlashbotsRelay, r: { id: number; body: string; headers: Record<string, string> }): Promise<RpcResult> {
    return postJsonRpc(relay.url, r.body, { timeoutMs: this.timeoutMs, headers: r.headers, id: r.id });
  }
}

/**
 * The bundle hash of an `eth_sendBundle` result, null when the relay gave none, or a garbage error.
 * Documented: `{ bundleHash }`; some builders answer `null` (acceptance without a hash) or the hash
 * as a bare string, and both mean accepted.
 */
function bundleHashOf(result: unknown): string | null | RouteError {
  if (result === null) return null;
  if (typeof result === 'string') return isHash(result) ? result : garbage('eth_sendBundle result is not a bundle hash');
  if (typeof result === 'object' && !Array.isArray(result)) {
    const h = (result as { bundleHash?: unknown }).bundleHash;
    if (h === undefined || h === null) return null;
    if (typeof h === 'string' && isHash(h)) return h;
  }
  return garbage('eth_sendBundle result has not the documented shape');
}

function isHash(s: string): boolean {
  return /^0x[0-9a-fA-F]{64}$/.test(s);
}

/** A wei amount: a decimal string (the relay's form), a 0x-hex string or a safe integer. */
function amount(v: unknown): bigint | undefined {
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return undefined;
}

/** A gas or block count: a number or a decimal / 0x-hex string. */
function count(v: unknown): number | undefined {
  const n = amount(v);
  return n !== undefined && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}

/** Parses an `eth_callBundle` result; null when a documented field is missing or malformed. */
function parseCallBundle(r: unknown): CallBundleResult | null {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return null;
  const o = r as Record<string, unknown>;
  const bundleHash = o.bundleHash;
  const bundleGasPrice = amount(o.bundleGasPrice);
  const coinbaseDiff = amount(o.coinbaseDiff);
  const ethSentToCoinbase = amount(o.ethSentToCoinbase);
  const gasFees = amount(o.gasFees);
  const stateBlockNumber = count(o.stateBlockNumber);
  const totalGasUsed = count(o.totalGasUsed);
  if (typeof bundleHash !== 'string' || !isHash(bundleHash) || !Array.isArray(o.results)) return null;
  if (bundleGasPrice === undefined || coinbaseDiff === undefined || ethSentToCoinbase === undefined || gasFees === undefined) return null;
  if (stateBlockNumber === undefined || totalGasUsed === undefined) return null;
  const results: CallBundleTxResult[] = [];
  for (const t of o.results as unknown[]) {
    if (t === null || typeof t !== 'object') return null;
    const x = t as Record<string, unknown>;
    const gasUsed = count(x.gasUsed);
    if (typeof x.txHash !== 'string' || !isHash(x.txHash) || gasUsed === undefined) return null;
    const tx: CallBundleTxResult = { txHash: x.txHash.toLowerCase() as Hex, gasUsed };
    if (typeof x.error === 'string') tx.error = x.error;
    if (typeof x.revert === 'string') tx.revert = x.revert;
    if (typeof x.value === 'string') tx.value = x.value;
    if (typeof x.fromAddress === 'string') tx.fromAddress = x.fromAddress;
    if (typeof x.toAddress === 'string') tx.toAddress = x.toAddress;
    const wei = { coinbaseDiff: amount(x.coinbaseDiff), ethSentToCoinbase: amount(x.ethSentToCoinbase), gasFees: amount(x.gasFees), gasPrice: amount(x.gasPrice) };
    for (const [k, v] of Object.entries(wei)) if (v !== undefined) tx[k as keyof typeof wei] = v;
    results.push(tx);
  }
  return { bundleHash: bundleHash.toLowerCase() as Hex, bundleGasPrice, coinbaseDiff, ethSentToCoinbase, gasFees, stateBlockNumber, totalGasUsed, results };
}
