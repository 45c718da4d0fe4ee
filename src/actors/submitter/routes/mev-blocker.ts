import type { Route, RouteOutcome, Sendable } from '../types.js';
import { type RpcEndpoint, type RpcEndpointOptions, SEND_RAW_TX, rpcEndpoint, sendOwnTxs } from './send-own-txs.js';

/**
 * MEV Blocker (https://docs.cow.fi/mevblocker): a protected RPC that takes plain
 * `eth_sendRawTransaction` and keeps the transaction out of the public mempool. It takes single
 * transactions only, so only our own transactions of a submission are sent, in order.
 */

/** Options of {@link MevBlockerRoute}, e.g. `{ url: 'https://rpc.mevblocker.io/fast', timeoutMs: 2000 }`. */
export type MevBlockerRouteOptions = RpcEndpointOptions;

/** Sends our transactions through MEV Blocker. */
export class MevBlockerRoute implements Route {
  readonly name = 'mev-blocker' as const;
  readonly protected = true;
  private readonly endpoint: RpcEndpoint;

  constructor(opts: MevBlockerRouteOptions) {
    this.endpoint = rpcEndpoint(opts);
  }

  /** One `eth_sendRawTransaction` per own transaction, in order, stopping at the first not accepted. */
  send(s: Sendable): Promise<RouteOutcome> {
    return sendOwnTxs(this.name, this.endpoint, SEND_RAW_TX, s);
  }
}
