import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Hex, concat, isHex, keccak256, recoverMessageAddress } from 'viem';

/**
 * A Flashbots-style relay on 127.0.0.1 for tests: a real HTTP server that checks
 * `X-Flashbots-Signature` on its own (recovers the signer from the header and the keccak of the raw
 * body bytes it received), validates params and answers the documented result shapes. Faults are
 * set per test. It also answers `eth_sendRawTransaction` / `eth_sendPrivateTransaction`, so it
 * stands in for the single-transaction RPCs, and can forward what they accept to a node
 * ({@link TestRelay.forwardTo}) or hold it back.
 */

/**
 * How the relay answers a request that passed the signature check:
 * - `ok`: the documented result;
 * - `timeout`: never answers (the socket stays open until {@link TestRelay.close});
 * - `http500`: status 500 with a text body;
 * - `garbage`: status 200 with a body that is not JSON;
 * - `rpc-error`: status 200 with a JSON-RPC error object (-32000);
 * - `null-result`: status 200 with `result: null`;
 * - `reset`: reads the request, then destroys the connection without answering.
 */
export type RelayFault = 'ok' | 'timeout' | 'http500' | 'garbage' | 'rpc-error' | 'null-result' | 'reset';

/** A request that reached method handling. */
export interface RelayRequest {
  method: string;
  params: unknown;
  /** Lowercase address recovered from the signature header; null when the request was not signed. */
  signer: string | null;
  /** The fault it was answered with. */
  fault: RelayFault;
}

/** Methods that require the signature header, as the Flashbots relay does. */
const SIGNED_METHODS = new Set(['eth_sendBundle', 'eth_callBundle', 'eth_cancelBundle', 'eth_sendPrivateTransaction']);

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/;
const RAW_TX = /^0x([0-9a-fA-F]{2})+$/;

/** keccak256 of a raw transaction's bytes: its hash. */
function txHash(raw: Hex): Hex {
  return keccak256(raw);
}

/** Recovers the signer of a `X-Flashbots-Signature` value over `body`; null when it is malformed or does not verify. */
export async function verifyFlashbotsSignature(header: string, body: Uint8Array): Promise<string | null> {
  const parts = header.split(':');
  if (parts.length !== 2) return null;
  const [address, signature] = parts as [string, string];
  if (!/^0x[0-9a-fA-F]{40}$/.test(address) || !isHex(signature) || signature.length !== 132) return null;
  try {
    const recovered = await recoverMessageAddress({ message: keccak256(body), signature });
    return recovered.toLowerCase() === address.toLowerCase() ? recovered.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** A Flashbots-style relay for tests; see the module comment. */
export class TestRelay {
  /** Fault for requests when {@link queue} is empty. */
  fault: RelayFault = 'ok';
  /** Faults for the next requests, one each, consumed before {@link fault}. */
  readonly queue: RelayFault[] = [];
  /** Index of a transaction `eth_callBundle` reports as reverted; -1 for none. */
  revertIndex = -1;
  /** Every request that passed the signature check, whatever it was answered. */
  readonly requests: RelayRequest[] = [];
  /** Requests answered with a success result. */
  readonly accepted: RelayRequest[] = [];
  /** Requests refused with 403 (missing or invalid signature). */
  unauthorized = 0;
  /**
   * A node to hand accepted single transactions to (`eth_sendRawTransaction` there; its answer,
   * result or error, is the relay's), as a private RPC forwards to builders; null: accepted and
   * kept, never forwarded (a transaction held back).
   */
  forwardTo: string | null = null;
  /** Raw transactions forwarded to {@link forwardTo}, in order. */
  readonly forwarded: Hex[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Starts a relay on 127.0.0.1, on a free port. */
  static async start(): Promise<TestRelay> {
    const r = new TestRelay();
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, '127.0.0.1', () => resolve());
    });
    r.port = (r.server.address() as AddressInfo).port;
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Forgets recorded requests and faults. */
  reset(): void {
    this.fault = 'ok';
    this.forwardTo = null;
    this.forwarded.length = 0;
    this.queue.length = 0;
    this.revertIndex = -1;
    this.requests.length = 0;
    this.accepted.length = 0;
    this.unauthorized = 0;
  }

  /** Stops listening and destroys every connection, hanging ones included. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (req.method !== 'POST') return send(res, 405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'POST only' } });
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(raw.toString('utf8')) as typeof msg;
    } catch {
      return send(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    const id = msg.id ?? null;
    const method = typeof msg.method === 'string' ? msg.method : '';
    const header = req.headers['x-flashbots-signature'];
    let signer: string | null = null;
    if (typeof header === 'string') {
      // Verified over the bytes as received, before anything else is trusted.
      signer = await verifyFlashbotsSignature(header, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
      if (signer === null) {
        this.unauthorized++;
        return send(res, 403, { jsonrpc: '2.0', id, error: { code: -32600, message: 'error in signature check' } });
      }
    } else if (SIGNED_METHODS.has(method)) {
      this.unauthorized++;
      return send(res, 403, { jsonrpc: '2.0', id, error: { code: -32600, message: 'missing X-Flashbots-Signature' } });
    }
    const fault = this.queue.shift() ?? this.fault;
    const record: RelayRequest = { method, params: msg.params, signer, fault };
    this.requests.push(record);
    switch (fault) {
      case 'timeout':
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'http500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
        return;
      case 'rpc-error':
        return send(res, 200, { jsonrpc: '2.0', id, error: { code: -32000, message: 'bundle rejected' } });
      case 'null-result':
        this.accepted.push(record);
        return send(res, 200, { jsonrpc: '2.0', id, result: null });
      case 'ok': {
        const answer = this.answer(method, msg.params);
        if ('error' in answer) return send(res, 200, { jsonrpc: '2.0', id, error: { code: answer.code ?? -32602, message: answer.error } });
        const raw = method === 'eth_sendRawTransaction' ? (msg.params as [Hex])[0] : method === 'eth_sendPrivateTransaction' ? ((msg.params as [{ tx: Hex }])[0].tx) : null;
        if (raw !== null && this.forwardTo !== null) {
          this.forwarded.push(raw);
          const up = (await (await fetch(this.forwardTo, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: [raw] }) })).json()) as { result?: unknown; error?: { code?: number; message?: string } };
          if (up.error) return send(res, 200, { jsonrpc: '2.0', id, error: { code: up.error.code ?? -32000, message: up.error.message ?? 'upstream error' } });
        }
        this.accepted.push(record);
        return send(res, 200, { jsonrpc: '2.0', id, result: answer.result });
      }
    }
  }

  /** The documented result of a valid request, or why its params are invalid. */
  private answer(method: string, params: unknown): { result: unknown } | { error: string; code?: number } {
    const p = Array.isArray(params) && params.length === 1 ? (params[0] as Record<string, unknown>) : undefined;
    switch (method) {
      case 'eth_sendBundle':
      case 'eth_callBundle': {
        if (p === undefined || p === null || typeof p !== 'object') return { error: 'params must be [bundle]' };
        const txs = p.txs;
        if (!Array.isArray(txs) || txs.length === 0 || !txs.every((t) => typeof t === 'string' && RAW_TX.test(t))) return { error: 'txs must be a non-empty array of 0x-hex' };
        if (typeof p.blockNumber !== 'string' || !QUANTITY.test(p.blockNumber)) return { error: 'blockNumber must be a hex quantity' };
        if (p.replacementUuid !== undefined && typeof p.replacementUuid !== 'string') return { error: 'replacementUuid must be a string' };
        const hashes = (txs as Hex[]).map(txHash);
        const bundleHash = keccak256(concat(hashes));
        if (method === 'eth_sendBundle') return { result: { bundleHash } };
        const state = p.stateBlockNumber;
        if (state !== 'latest' && (typeof state !== 'string' || !QUANTITY.test(state))) return { error: 'stateBlockNumber must be a hex quantity or latest' };
        const results = hashes.map((h, i) => ({
          coinbaseDiff: '63000',
          ethSentToCoinbase: '0',
          fromAddress: '0x02a727155aef8609c9f7f2179b2a1f560b39f5a0',
          gasFees: '63000',
          gasPrice: '3',
          gasUsed: 21000,
          toAddress: '0x73625f59cadc5009cb458b751b3e7b6b48c06f2c',
          txHash: h,
          ...(i === this.revertIndex ? { error: 'execution reverted', revert: '0x08c379a0' } : { value: '0x' }),
        }));
        return {
          result: {
            bundleGasPrice: '3',
            bundleHash,
            coinbaseDiff: String(63000 * hashes.length),
            ethSentToCoinbase: '0',
            gasFees: String(63000 * hashes.length),
            results,
            stateBlockNumber: state === 'latest' ? 100 : Number(state),
            totalGasUsed: 21000 * hashes.length,
          },
        };
      }
      case 'eth_cancelBundle':
        if (p === undefined || p === null || typeof p !== 'object' || typeof p.replacementUuid !== 'string') return { error: 'params must be [{ replacementUuid }]' };
        return { result: null };
      case 'eth_sendRawTransaction':
        if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string' || !RAW_TX.test(params[0])) return { error: 'params must be [raw tx]' };
        return { result: txHash(params[0] as Hex) };
      case 'eth_sendPrivateTransaction':
        if (p === undefined || p === null || typeof p !== 'object' || typeof p.tx !== 'string' || !RAW_TX.test(p.tx)) return { error: 'params must be [{ tx, maxBlockNumber?, preferences? }]' };
        if (p.maxBlockNumber !== undefined && (typeof p.maxBlockNumber !== 'string' || !QUANTITY.test(p.maxBlockNumber))) return { error: 'maxBlockNumber must be a hex quantity' };
        return { result: txHash(p.tx as Hex) };
      default:
        return { error: `method ${method} not supported`, code: -32601 };
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
