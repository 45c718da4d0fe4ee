import type { RouteError } from '../types.js';

/**
 * The one JSON-RPC-over-HTTP POST every route uses. It never throws for what the network or the
 * endpoint does: each answer is classified into a result or a {@link RouteError}, and the kind
 * says whether the endpoint may have taken the request anyway (`timeout`, `network`) or surely
 * did not (`refused`, `http`, `rpc`, `garbage`). That distinction decides whether the submitter
 * may resend the same nonces elsewhere, so when in doubt a failure is classified as unknown.
 *
 * Error messages are short and never quote the request body (it carries signed transactions),
 * the headers (they carry signatures) or the URL (private endpoints put API keys in it).
 */

/** What {@link postJsonRpc} answers: the JSON-RPC `result` (possibly `null`), or why there is none. */
export type RpcResult = { ok: true; result: unknown } | { ok: false; error: RouteError };

/** Options of {@link postJsonRpc}. */
export interface PostOptions {
  /** Whole-request budget (connect, send, headers and body), enforced with `AbortSignal.timeout`. */
  timeoutMs: number;
  /** Extra headers; `content-type: application/json` is always sent. */
  headers?: Record<string, string>;
  /** The request's JSON-RPC id, which the answer must echo; read from `body` when omitted. */
  id?: number;
}

/** A serialized JSON-RPC request and its id. */
export interface JsonRpcRequest {
  id: number;
  body: string;
}

/** Longest server-provided text (an RPC error message) copied into a {@link RouteError}. */
const MAX_SERVER_TEXT = 160;

/**
 * Error codes meaning no connection was made, so nothing was sent: a DNS failure, a refused or
 * unreachable connection, a connect timeout, a TLS handshake that failed. Anything else that fails
 * after fetch started (a reset, "other side closed") may have happened after the request went out.
 */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

let nextId = 1;

/** A fresh JSON-RPC request id; ids increase by one per request, per thread. */
export function nextRequestId(): number {
  const id = nextId;
  nextId = nextId >= Number.MAX_SAFE_INTEGER ? 1 : nextId + 1;
  return id;
}

/** Serializes a JSON-RPC 2.0 request with a fresh id. @remarks Allocates; once per request. */
export function jsonRpcRequest(method: string, params: unknown[]): JsonRpcRequest {
  const id = nextRequestId();
  return { id, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) };
}

/** Whether an error leaves it unknown if the endpoint took the request (`timeout`, `network`). */
export function isUnknownOutcome(error: RouteError | null): boolean {
  return error !== null && (error.kind === 'timeout' || error.kind === 'network');
}

/** A {@link RouteError} for a 2xx answer whose shape is not the documented one. */
export function garbage(message: string): RouteError {
  return { kind: 'garbage', message };
}

/**
 * POSTs `body` to `url` and classifies the answer; never throws for network conditions.
 * @remarks Allocates; once per request.
 */
export async function postJsonRpc(url: string, body: string, opts: PostOptions): Promise<RpcResult> {
  const id = opts.id ?? idOf(body);
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...opts.headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    return { ok: false, error: transportError(err, opts.timeoutMs) };
  }
  if (status < 200 || status > 299) return { ok: false, error: httpError(status, text) };
  return classifyAnswer(text, id);
}

/** The id in a serialized request, or null when it has none that is a number. */
function idOf(body: string): number | null {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'number' ? id : null;
  } catch {
    return null;
  }
}

/** Classifies what fetch threw: a timeout, no connection, or a connection lost mid-request. */
function transportError(err: unknown, timeoutMs: number): RouteError {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', message: `no answer within ${timeoutMs} ms` };
  const code = errorCode(err);
  if (code !== null && NOT_CONNECTED.has(code)) return { kind: 'refused', message: `no connection (${code})` };
  return { kind: 'network', message: `connection failed (${code ?? 'unknown'})` };
}

/**
 * The system or undici code of a fetch failure: on the error, on its cause, or, when several
 * addresses were tried (happy eyeballs), the first of the AggregateError's errors when they all agree
 * that no connection was made.
 */
function errorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const codes = errors.map((x) => errorCode(x));
      if (codes.every((c) => c !== null && NOT_CONNECTED.has(c))) return codes[0]!;
      return codes.find((c) => c !== null && !NOT_CONNECTED.has(c)) ?? null;
    }
  }
  return null;
}

/** A non-2xx answer; a JSON-RPC error in its body (relays answer 403 with one) is kept as the detail. */
function httpError(status: number, text: string): RouteError {
  const error: RouteError = { kind: 'http', message: `HTTP ${status}`, status };
  const rpc = parseJson(text) as { error?: unknown } | undefined;
  if (rpc !== null && typeof rpc === 'object' && rpc.error !== null && typeof rpc.error === 'object') {
    const e = rpc.error as { code?: unknown; message?: unknown };
    if (typeof e.code === 'number') error.code = e.code;
    if (typeof e.message === 'string') error.message += `: ${serverText(e.message)}`;
  }
  return error;
}

/** Classifies a 2xx answer: a result, a JSON-RPC error, or garbage. */
function classifyAnswer(text: string, id: number | null): RpcResult {
  const msg = parseJson(text);
  if (msg === undefined) return { ok: false, error: garbage('answer is not JSON') };
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return { ok: false, error: garbage('answer is not a JSON-RPC response object') };
  const m = msg as { id?: unknown; result?: unknown; error?: unknown };
  // Some builders send `"error": null` next to a result, so only a non-null error counts.
  if (m.error !== undefined && m.error !== null) {
    // A server that could not read the request answers with id null; that is still its refusal.
    if (m.id !== null && !sameId(m.id, id)) return { ok: false, error: garbage('answer id does not match the request') };
    return { ok: false, error: rpcError(m.error) };
  }
  if (!sameId(m.id, id)) return { ok: false, error: garbage('answer id does not match the request') };
  if (!('result' in m)) return { ok: false, error: garbage('answer has neither result nor error') };
  return { ok: true, result: m.result };
}

/** Whether an answer's id is the request's; a number echoed as a string is accepted. */
function sameId(got: unknown, want: number | null): boolean {
  if (want === null) return true;
  return got === want || got === String(want);
}

function rpcError(e: unknown): RouteError {
  if (typeof e === 'string') return { kind: 'rpc', message: `rpc error: ${serverText(e)}` };
  const { code, message } = e as { code?: unknown; message?: unknown };
  const error: RouteError = { kind: 'rpc', message: `rpc error${typeof code === 'number' ? ` ${code}` : ''}: ${typeof message === 'string' ? serverText(message) : 'no message'}` };
  if (typeof code === 'number') error.code = code;
  return error;
}

/** JSON.parse that answers undefined instead of throwing. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A server's text, on one line and bounded, for an error message. */
function serverText(s: string): string {
  const line = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_SERVER_TEXT ? `${line.slice(0, MAX_SERVER_TEXT)}…` : line;
}
