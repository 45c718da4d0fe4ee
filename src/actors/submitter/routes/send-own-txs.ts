import type { EndpointResult, Hex, RouteError, RouteName, RouteOutcome, Sendable } from '../types.js';
import { checkSendable, checkTimeout, endpointUrl } from './route-checks.js';
import { garbage, isUnknownOutcome, jsonRpcRequest, postJsonRpc } from './rpc-client.js';

/**
 * What the single-transaction routes (MEV Blocker, private RPC, public mempool) share: they cannot
 * send a bundle, so they send only our own transactions of a {@link Sendable}, one request each, in
 * order, and stop at the first that is not accepted (a later nonce is useless without the earlier).
 */

/** Options every single-transaction route takes. */
export interface RpcEndpointOptions {
  url: string;
  /** Label in results, logs and metrics; default the URL's host (the path may carry an API key). */
  name?: string;
  /** Budget of each request. */
  timeoutMs: number;
  /** Extra headers (an API key some private RPCs want). */
  headers?: Record<string, string>;
}

/** An endpoint ready to post to. */
export interface RpcEndpoint {
  name: string;
  url: string;
  timeoutMs: number;
  headers: Record<string, string>;
}

/** How one transaction is sent: the method and its params for a raw transaction. */
export interface RawTxMethod {
  method: string;
  params(raw: Hex, s: Sendable): unknown[];
  /** Extra headers computed per request body (a signature over it). */
  sign?(body: string): Promise<Record<string, string>>;
}

/** Plain `eth_sendRawTransaction(raw)`: MEV Blocker, the public mempool, a private RPC that takes it. */
export const SEND_RAW_TX: RawTxMethod = { method: 'eth_sendRawTransaction', params: (raw) => [raw] };

/** Validates the options of a single-transaction route (errors name `opts.<field>`). */
export function rpcEndpoint(opts: RpcEndpointOptions): RpcEndpoint {
  const host = endpointUrl(opts.url, 'opts.url');
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === '')) throw new TypeError('opts.name must be a non-empty string');
  checkTimeout(opts.timeoutMs, 'opts.timeoutMs');
  return { name: opts.name ?? host, url: opts.url, timeoutMs: opts.timeoutMs, headers: { ...opts.headers } };
}

/**
 * Sends our transactions of `s` (the indexes `s.ours`, in that order) to `ep`, one request each,
 * and stops at the first one not accepted, refused or unknown alike: sending a later nonce after an
 * earlier one that may be missing only leaves a gap. One result per transaction sent, in order, its
 * `id` the hash the endpoint answered. The outcome is ok when every one was accepted, and not
 * definite when the last answer is unknown.
 * @remarks Allocates; once per submission.
 */
export async function sendOwnTxs(route: RouteName, ep: RpcEndpoint, m: RawTxMethod, s: Sendable): Promise<RouteOutcome> {
  checkSendable(s);
  const results: EndpointResult[] = [];
  for (const i of s.ours) {
    const { id, body } = jsonRpcRequest(m.method, m.params(s.rawTxs[i]!, s));
    const headers = m.sign === undefined ? ep.headers : { ...ep.headers, ...(await m.sign(body)) };
    const a = await postJsonRpc(ep.url, body, { timeoutMs: ep.timeoutMs, headers, id });
    let hash: string | null = null;
    let error: RouteError | null = null;
    if (!a.ok) error = a.error;
    else if (typeof a.result === 'string' && /^0x[0-9a-fA-F]{64}$/.test(a.result)) hash = a.result;
    else error = garbage(`${m.method} result is not a transaction hash`);
    results.push({ endpoint: ep.name, ok: error === null, id: hash, error });
    if (error !== null) break;
  }
  return { route, ok: results.every((r) => r.ok), definite: !results.some((r) => isUnknownOutcome(r.error)), results };
}
