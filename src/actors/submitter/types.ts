/**
 * Types the submitter's parts share: signed transactions, what a route sends and what it answers,
 * and ledger entries. The submitter (issue 6) builds and signs an opportunity's plan, picks a route,
 * sends, tracks inclusion per block and records everything in the ledger.
 */

/** 0x-prefixed lowercase hex. */
export type Hex = `0x${string}`;

/** Where a submission goes. `dry-run`: built, verified and recorded, never sent. */
export type RouteName = 'flashbots' | 'mev-blocker' | 'private-rpc' | 'public' | 'dry-run';

/** A signed transaction ready to send. */
export interface SignedTx {
  /** Canonical signed bytes (typed envelope), 0x-hex. */
  raw: Hex;
  /** keccak256 of `raw`. */
  hash: Hex;
  /** Sender (lowercase). */
  from: string;
  nonce: bigint;
}

/** What a route is asked to send: a bundle (ours and the victims' txs, in order) or single transactions. */
export interface Sendable {
  /** Submission id (ledger key); stable across retries of the same submission. */
  id: string;
  /** Every transaction in order, victims' as they signed them, 0x-hex raw bytes. */
  rawTxs: Hex[];
  /** Their hashes, same order. */
  txHashes: Hex[];
  /** Indexes in `rawTxs` of our own transactions (the rest are victims'). */
  ours: number[];
  /** First block the bundle targets; relays get `targetBlock … targetBlock + blocks − 1`. */
  targetBlock: number;
  blocks: number;
  /** Lets a relay replace or cancel the bundle (`eth_sendBundle` `replacementUuid`). */
  replacementUuid: string;
}

/** Why a route did not take a send. */
export interface RouteError {
  /**
   * `timeout` and `network` (the connection failed after the request went out) leave the outcome
   * unknown; `refused` (no connection: nothing was received), `http` (a non-2xx status), `rpc` (a
   * JSON-RPC error) and `garbage` (a 2xx answer that is not the documented JSON-RPC shape) are refusals.
   */
  kind: 'timeout' | 'network' | 'refused' | 'http' | 'rpc' | 'garbage';
  message: string;
  /** HTTP status, when there was one. */
  status?: number;
  /** JSON-RPC error code, when there was one. */
  code?: number;
}

/** A route's answer for one endpoint. */
export interface EndpointResult {
  endpoint: string;
  ok: boolean;
  /** `bundleHash` of a relay, tx hash of an RPC. */
  id: string | null;
  error: RouteError | null;
}

/** What {@link Route.send} returns. */
export interface RouteOutcome {
  route: RouteName;
  /** At least one endpoint accepted. */
  ok: boolean;
  /**
   * False when an endpoint may have accepted without saying so (timeout, dropped connection): the
   * transactions must then not be sent again with the same nonces on another route.
   */
  definite: boolean;
  results: EndpointResult[];
}

/** A way to send (one file each in `routes/`). */
export interface Route {
  readonly name: RouteName;
  /** Whether the route keeps transactions out of the public mempool. */
  readonly protected: boolean;
  send(s: Sendable): Promise<RouteOutcome>;
}
