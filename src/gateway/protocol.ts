/**
 * The `/v1/stream` websocket protocol: what a client may send, what the server answers, and the
 * opportunity filter. Pure functions, no sockets (docs/gateway.md is the user's reference).
 */
import type { Opportunity, OpportunityKind } from '../actors/scorer/opportunity.js';
import type { Role } from './gateway-config.js';

/** Topics a client can subscribe to, and the weakest role allowed to. */
export const TOPICS = { opportunities: 'viewer', txs: 'viewer', blocks: 'viewer', stats: 'viewer', submissions: 'operator' } as const satisfies Record<string, Role>;
export type Topic = keyof typeof TOPICS;

const KINDS: readonly OpportunityKind[] = ['v2-sandwich', 'v2-arbitrage', 'backrun-arbitrage', 'mixed-arbitrage'];

/** Codes of `{"type":"error"}` frames. */
export type ErrorCode =
  | 'bad-json'
  | 'bad-request'
  | 'unknown-op'
  | 'unknown-topic'
  | 'bad-filter'
  | 'forbidden'
  | 'frame-too-large'
  | 'rate-limited';

/** A client op the server could not take; `id` is the op's when it had one. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly id: unknown = undefined,
  ) {
    super(message);
  }
}

/** Opportunity filter as compiled from a subscribe op; every present field must hold. */
export interface OpportunityFilter {
  kinds: ReadonlySet<string> | null;
  minNetProfitWei: bigint | null;
  /** Lowercase addresses: the opportunity's token path must contain one. */
  tokens: ReadonlySet<string> | null;
  /** Lowercase addresses: the opportunity must touch one. */
  pools: ReadonlySet<string> | null;
  /** Also deliver opportunities rejected as soon as they were scored (default false; rejections of `pending` ones always follow them). */
  includeRejected: boolean;
}

export type ClientOp =
  | { op: 'subscribe'; id: unknown; topics: Topic[]; filter: OpportunityFilter | null; rawFilter: Record<string, unknown> | null }
  | { op: 'unsubscribe'; id: unknown; topics: Topic[] | null }
  | { op: 'ping'; id: unknown };

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Parses one client frame.
 * @throws ProtocolError with the op's `id` (when it had one) for invalid JSON, a malformed or
 * unknown op, an unknown topic or a bad filter.
 */
export function parseClientOp(text: string): ClientOp {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError('bad-json', `frame is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('bad-request', 'an op is a JSON object such as {"op":"subscribe","id":1,"topics":["opportunities"]}');
  const o = v as Record<string, unknown>;
  const id = o.id;
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') throw new ProtocolError('bad-request', '"id" must be a string or a number', undefined);
  switch (o.op) {
    case 'subscribe': {
      const topics = parseTopics(o.topics, id, false)!;
      const rawFilter = o.filter === undefined || o.filter === null ? null : o.filter;
      const filter = rawFilter === null ? null : parseFilter(rawFilter, id);
      if (filter !== null && !topics.includes('opportunities')) throw new ProtocolError('bad-filter', 'a filter applies to the "opportunities" topic; subscribe to it', id);
      return { op: 'subscribe', id, topics, filter, rawFilter: rawFilter as Record<string, unknown> | null };
    }
    case 'unsubscribe':
      return { op: 'unsubscribe', id, topics: parseTopics(o.topics, id, true) };
    case 'ping':
      return { op: 'ping', id };
    case undefined:
      throw new ProtocolError('bad-request', 'missing "op" (subscribe, unsubscribe or ping)', id);
    default:
      throw new ProtocolError('unknown-op', `unknown op ${JSON.stringify(o.op)}; ops: subscribe, unsubscribe, ping`, id);
  }
}

function parseTopics(v: unknown, id: unknown, optional: boolean): Topic[] | null {
  if (v === undefined && optional) return null;
  if (!Array.isArray(v) || v.length === 0) throw new ProtocolError('bad-request', `"topics" must be a non-empty array of topics (${Object.keys(TOPICS).join(', ')})`, id);
  const out: Topic[] = [];
  for (const t of v) {
    if (typeof t !== 'string' || !Object.hasOwn(TOPICS, t)) throw new ProtocolError('unknown-topic', `unknown topic ${JSON.stringify(t)}; topics: ${Object.keys(TOPICS).join(', ')}`, id);
    if (!out.includes(t as Topic)) out.push(t as Topic);
  }
  return out;
}

function addressSet(v: unknown, field: string, id: unknown): ReadonlySet<string> | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.length === 0 || v.length > 1000) throw new ProtocolError('bad-filter', `filter.${field} must be a non-empty array of at most 1000 addresses`, id);
  for (const a of v) if (typeof a !== 'string' || !ADDRESS.test(a)) throw new ProtocolError('bad-filter', `filter.${field}: ${JSON.stringify(a)} is not a 0x-prefixed 20-byte address`, id);
  return new Set((v as string[]).map((a) => a.toLowerCase()));
}

/** Compiles a subscribe op's `filter`. */
export function parseFilter(v: unknown, id: unknown = undefined): OpportunityFilter {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('bad-filter', 'filter must be an object', id);
  const f = v as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (!['kinds', 'minNetProfitWei', 'tokens', 'pools', 'includeRejected'].includes(k)) {
      throw new ProtocolError('bad-filter', `unknown filter field ${JSON.stringify(k)}; fields: kinds, minNetProfitWei, tokens, pools, includeRejected`, id);
    }
  }
  let kinds: Set<string> | null = null;
  if (f.kinds !== undefined) {
    if (!Array.isArray(f.kinds) || f.kinds.length === 0) throw new ProtocolError('bad-filter', `filter.kinds must be a non-empty array of kinds (${KINDS.join(', ')})`, id);
    for (const k of f.kinds) if (!KINDS.includes(k as OpportunityKind)) throw new ProtocolError('bad-filter', `filter.kinds: unknown kind ${JSON.stringify(k)}; kinds: ${KINDS.join(', ')}`, id);
    kinds = new Set(f.kinds as string[]);
  }
  let minNetProfitWei: bigint | null = null;
  if (f.minNetProfitWei !== undefined) {
    if (typeof f.minNetProfitWei !== 'string' || !/^[0-9]{1,78}$/.test(f.minNetProfitWei)) {
      throw new ProtocolError('bad-filter', 'filter.minNetProfitWei must be a decimal string of wei, e.g. "1000000000000000"', id);
    }
    minNetProfitWei = BigInt(f.minNetProfitWei);
  }
  if (f.includeRejected !== undefined && typeof f.includeRejected !== 'boolean') throw new ProtocolError('bad-filter', 'filter.includeRejected must be true or false', id);
  return { kinds, minNetProfitWei, tokens: addressSet(f.tokens, 'tokens', id), pools: addressSet(f.pools, 'pools', id), includeRejected: f.includeRejected === true };
}

function anyIn(list: readonly string[], set: ReadonlySet<string>): boolean {
  for (const a of list) if (set.has(a.toLowerCase())) return true;
  return false;
}

/**
 * True when `opp` passes `filter`. Null is the default: every opportunity except those rejected
 * when scored; a `pending` one's outcome (revision 1) always follows it, `verified` or `rejected`.
 */
export function matches(opp: Opportunity, filter: OpportunityFilter | null): boolean {
  const rejectedAtOnce = opp.verification === 'rejected' && opp.revision === 0;
  if (filter === null) return !rejectedAtOnce;
  if (rejectedAtOnce && !filter.includeRejected) return false;
  if (filter.kinds !== null && !filter.kinds.has(opp.kind)) return false;
  if (filter.minNetProfitWei !== null && opp.profit.netWei < filter.minNetProfitWei) return false;
  if (filter.tokens !== null && !anyIn(opp.tokenPath, filter.tokens)) return false;
  if (filter.pools !== null && !anyIn(opp.pools, filter.pools)) return false;
  return true;
}
