import type { Route, RouteOutcome, Sendable } from '../types.js';
import { type AuthSigner, FLASHBOTS_SIGNATURE_HEADER, flashbotsSignatureHeader } from './flashbots.js';
import { type RawTxMethod, type RpcEndpoint, type RpcEndpointOptions, SEND_RAW_TX, rpcEndpoint, sendOwnTxs } from './send-own-txs.js';

/**
 * A private transaction RPC (Flashbots Protect, a builder's private endpoint): either plain
 * `eth_sendRawTransaction`, or `eth_sendPrivateTransaction` with `{ tx, maxBlockNumber, preferences }`,
 * which bounds how long the endpoint keeps trying to the submission's last target block.
 */

/** Options of {@link PrivateRpcRoute}. */
export interface PrivateRpcRouteOptions extends RpcEndpointOptions {
  /** Default `eth_sendPrivateTransaction`. */
  method?: 'eth_sendRawTransaction' | 'eth_sendPrivateTransaction';
  /** `preferences` of `eth_sendPrivateTransaction` (e.g. `{ fast: true }`); omitted when undefined. */
  preferences?: Record<string, unknown>;
  /** Signs each request with `X-Flashbots-Signature` (the Flashbots relay wants it on `eth_sendPrivateTransaction`). */
  authSigner?: AuthSigner;
}

/** Sends our transactions through a private RPC. */
export class PrivateRpcRoute implements Route {
  readonly name = 'private-rpc' as const;
  readonly protected = true;
  private readonly endpoint: RpcEndpoint;
  private readonly method: RawTxMethod;

  constructor(opts: PrivateRpcRouteOptions) {
    this.endpoint = rpcEndpoint(opts);
    const method = opts.method ?? 'eth_sendPrivateTransaction';
    if (method !== 'eth_sendRawTransaction' && method !== 'eth_sendPrivateTransaction') throw new TypeError(`opts.method must be eth_sendRawTransaction or eth_sendPrivateTransaction, got ${String(method)}`);
    const signer = opts.authSigner;
    if (signer !== undefined && (typeof signer.address !== 'string' || typeof signer.signMessage !== 'function')) throw new TypeError('opts.authSigner must have an address and signMessage');
    const preferences = opts.preferences === undefined ? undefined : { ...opts.preferences };
    this.method = {
      method,
      params:
        method === 'eth_sendRawTransaction'
          ? SEND_RAW_TX.params
          : (raw, s) => [{ tx: raw, maxBlockNumber: `0x${(s.targetBlock + s.blocks - 1).toString(16)}`, ...(preferences === undefined ? {} : { preferences }) }],
      ...(signer === undefined ? {} : { sign: async (body: string) => ({ [FLASHBOTS_SIGNATURE_HEADER]: await flashbotsSignatureHeader(body, signer) }) }),
    };
  }

  /** One request per own transaction, in order, stopping at the first not accepted. */
  send(s: Sendable): Promise<RouteOutcome> {
    return sendOwnTxs(this.name, this.endpoint, this.method, s);
  }
}
