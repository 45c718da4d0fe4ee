import type { Route, RouteOutcome, Sendable } from '../types.js';
import { type RpcEndpoint, type RpcEndpointOptions, SEND_RAW_TX, rpcEndpoint, sendOwnTxs } from './send-own-txs.js';

/**
 * The public mempool: `eth_sendRawTransaction` to an ordinary node. Unprotected (anyone can
 * front-run or sandwich what it sends), so the submitter uses it only when policy allows and counts
 * every use; the route itself just sends.
 */

/** Options of {@link PublicRoute}. */
export type PublicRouteOptions = RpcEndpointOptions;

/** Sends our transactions to the public mempool. */
export class PublicRoute implements Route {
  readonly name = 'public' as const;
  readonly protected = false;
  private readonly endpoint: RpcEndpoint;

  constructor(opts: PublicRouteOptions) {
    this.endpoint = rpcEndpoint(opts);
  }

  /** One `eth_sendRawTransaction` per own transaction, in order, stopping at the first not accepted. */
  send(s: Sendable): Promise<RouteOutcome> {
    return sendOwnTxs(this.name, this.endpoint, SEND_RAW_TX, s);
  }
}
