/**
 * The protect RPC (`POST /rpc` on the gateway, role operator): an operator sends their own signed
 * transaction with `eth_sendRawTransaction`; Orion estimates what a sandwich could take from it
 * (the scorer's V2 sandwich sizing on the pools it trades, read from the node), sends it on a
 * private route chosen by the submitter's policy (never the public mempool unless
 * `submitter.allowPublic`), records it in the ledger, and on later blocks records whether it landed.
 * `orion_estimateExposure` gives the estimate and the route without sending.
 */
import { randomBytes } from 'node:crypto';
import { classifyCalldata } from '../actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../actors/decoder/calldata/router-registry.js';
import { decodeHex } from '../actors/decoder/tx/decode-tx.js';
import { TxDecodeError } from '../actors/decoder/tx/errors.js';
import { ChainReadError, ChainReader } from '../actors/scorer/pools/pool-sync.js';
import { V2_FEE_BPS, type V2PairState } from '../actors/scorer/pools/v2-math.js';
import { firstHopBound, sizeSandwich } from '../actors/scorer/strategies/v2-sandwich.js';
import { Ledger } from '../actors/submitter/ledger.js';
import { chooseRoutes } from '../actors/submitter/route-policy.js';
import { FlashbotsRoute } from '../actors/submitter/routes/flashbots.js';
import { MevBlockerRoute } from '../actors/submitter/routes/mev-blocker.js';
import { PrivateRpcRoute } from '../actors/submitter/routes/private-rpc.js';
import { PublicRoute } from '../actors/submitter/routes/public.js';
import { NativeSigner } from '../actors/submitter/signer.js';
import type { Hex, Route, RouteName } from '../actors/submitter/types.js';
import type { DecodedTx } from '../messages/schema.js';
import type { EngineConfig } from '../runtime/config.js';
import type { Logger } from '../runtime/log.js';

/** The estimate for one transaction. */
export interface Exposure {
  txHash: string;
  from: string;
  /** What a sandwich could extract (wei); 0 when the transaction is not a V2 swap Orion can price. */
  exposureWei: bigint;
  /** Trade size in wei (ETH in, or the input priced through its first pool); 0 when unknown. */
  sizeWei: bigint;
  route: RouteName | null;
  reason: string;
}

/** A JSON-RPC error the protect RPC answers with. */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface PendingProtect {
  id: string;
  txHash: string;
  route: RouteName;
  sentBlock: number | null;
}

/** Blocks after which a protected transaction not seen on chain is recorded as expired. */
const EXPIRE_BLOCKS = 25;

/** Serves `POST /rpc`. */
export class ProtectRpc {
  private readonly registry: RouterRegistry;
  private readonly reader: ChainReader;
  private readonly routes = new Map<RouteName, Route>();
  private readonly weth: string;
  private ledger: Ledger | null = null;
  private readonly pending: PendingProtect[] = [];
  private head = 0;
  private checking = false;

  constructor(
    private readonly config: EngineConfig,
    private readonly rpcUrl: string,
    private readonly log: Logger,
  ) {
    this.registry = new RouterRegistry(config.decoder.routers);
    this.reader = new ChainReader(rpcUrl);
    this.weth = config.scorer.weth.toLowerCase();
    const s = config.submitter;
    const t = s.requestTimeoutMs;
    if (s.relays.length > 0) this.routes.set('flashbots', new FlashbotsRoute({ relays: s.relays, authSigner: NativeSigner.fromBytes(randomBytes(32)), timeoutMs: t }));
    if (s.mevBlockerUrl !== null) this.routes.set('mev-blocker', new MevBlockerRoute({ url: s.mevBlockerUrl, name: 'mev-blocker', timeoutMs: t }));
    if (s.privateRpc !== null) this.routes.set('private-rpc', new PrivateRpcRoute({ url: s.privateRpc.url, name: 'private-rpc', method: s.privateRpc.method, timeoutMs: t }));
    if (s.allowPublic) this.routes.set('public', new PublicRoute({ url: s.publicRpcUrl ?? rpcUrl, name: 'public', timeoutMs: t }));
  }

  private openLedger(): Ledger {
    this.ledger ??= Ledger.open(this.config.submitter.ledgerPath);
    return this.ledger;
  }

  /** Answers one JSON-RPC request body (a single request; batches are refused). */
  async handle(body: string): Promise<string> {
    let id: unknown = null;
    try {
      let req: { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
      try {
        req = JSON.parse(body) as typeof req;
      } catch {
        throw new RpcError(-32700, 'parse error: the body is not JSON');
      }
      if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new RpcError(-32600, 'invalid request: one JSON-RPC request object (batches are not supported)');
      id = req.id ?? null;
      const params = Array.isArray(req.params) ? req.params : [];
      if (req.method === 'eth_sendRawTransaction') return ok(id, await this.send(rawParam(params)));
      if (req.method === 'orion_estimateExposure') {
        const e = await this.estimate(decode(rawParam(params), this.config.decoder.chainId));
        return ok(id, { ...e, exposureWei: e.exposureWei.toString(), sizeWei: e.sizeWei.toString() });
      }
      throw new RpcError(-32601, `method ${JSON.stringify(req.method)} is not served here: eth_sendRawTransaction, orion_estimateExposure`);
    } catch (err) {
      if (err instanceof RpcError) return JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code, message: err.message } });
      this.log.error('protect rpc failed', { error: (err as Error).message });
      return JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: 'internal error' } });
    }
  }

  /** Estimates, routes privately, sends, records; returns the tx hash. */
  private async send(raw: string): Promise<string> {
    const tx = decode(raw, this.config.decoder.chainId);
    const e = await this.estimate(tx);
    if (e.route === null) throw new RpcError(-32000, `no private route is configured (config.submitter: relays, mevBlockerUrl or privateRpc); not sending to the public mempool`);
    const choice = chooseRoutes(this.config.submitter, usd(e.sizeWei, this.config.submitter.ethUsd), 0, new Set([...this.routes.keys()]));
    const sendable = { id: tx.hash, rawTxs: [raw.toLowerCase() as Hex], txHashes: [tx.hash as Hex], ours: [0], targetBlock: this.head + 1, blocks: this.config.submitter.targetBlocks, replacementUuid: tx.hash.slice(2, 34) };
    const errors: string[] = [];
    for (const r of choice.chain) {
      const out = await this.routes.get(r)!.send(sendable);
      if (out.ok || !out.definite) {
        this.openLedger().append({ type: 'protect', id: `protect:${tx.hash}`, txHash: tx.hash as Hex, route: r, account: tx.from, sizeWei: e.sizeWei, exposureWei: r === 'public' ? 0n : e.exposureWei });
        this.pending.push({ id: `protect:${tx.hash}`, txHash: tx.hash, route: r, sentBlock: this.head });
        this.log.info('protected send', { tx: tx.hash, route: r, exposureWei: e.exposureWei.toString(), unknownOutcome: !out.ok });
        return tx.hash;
      }
      const err = out.results.find((x) => x.error !== null)?.error;
      errors.push(`${r}: ${err ? `${err.kind} ${err.message}` : 'refused'}`);
    }
    throw new RpcError(-32000, `every route refused the transaction: ${errors.join('; ')}`);
  }

  /** What a sandwich could take from `tx`, and the route it would go to. */
  async estimate(tx: DecodedTx): Promise<Exposure> {
    const base = { txHash: tx.hash, from: tx.from };
    const intent = classifyCalldata(tx.to, tx.input, tx.value, this.registry, tx.from);
    const leg = intent?.legs.length === 1 ? intent.legs[0]! : null;
    let exposureWei = 0n;
    let sizeWei = 0n;
    let why: string;
    if (leg === null) why = intent === null ? 'not a swap Orion classifies' : 'a multi-leg swap: not estimated';
    else if (leg.protocol !== 'uniswap-v2') why = 'a Uniswap V3 swap: exposure not estimated (V2 only)';
    else if (leg.pools.length !== leg.path.length - 1 || leg.pools.length === 0) why = 'its pools are not known (no factory for its router)';
    else {
      const pairs = await this.pairs(leg.pools);
      if (pairs === null) why = 'its pools could not be read from the node';
      else {
        const amountIn = leg.amountIn ?? (leg.ethIn ? tx.value : null);
        const hop = firstHopBound(leg, amountIn, tx.value, pairs);
        const p = pairs[0]!;
        const zeroForOne = p.token0 === leg.path[0];
        const [rIn, rOut] = zeroForOne ? [p.reserve0, p.reserve1] : [p.reserve1, p.reserve0];
        const size = hop === null ? null : sizeSandwich(rIn, rOut, p.feeBps, hop);
        const tokenIn = leg.path[0]!.toLowerCase();
        const tokenOut = leg.path[1]!.toLowerCase();
        // In wei: the input token is WETH, or the first hop sells into WETH (priced at its spot rate).
        const toWei = (x: bigint) => (tokenIn === this.weth ? x : tokenOut === this.weth && rIn > 0n ? (x * rOut) / rIn : 0n);
        if (amountIn !== null) sizeWei = toWei(amountIn);
        if (size === null) why = 'no profitable sandwich within its slippage bound';
        else {
          exposureWei = toWei(size.gross);
          why = exposureWei > 0n || tokenIn === this.weth || tokenOut === this.weth ? `a sandwich on ${p.address} could take ${size.gross} of ${tokenIn}` : `a sandwich could take ${size.gross} of ${tokenIn} (not priced in ETH)`;
        }
      }
    }
    const choice = chooseRoutes(this.config.submitter, usd(sizeWei, this.config.submitter.ethUsd), 0, new Set([...this.routes.keys()]));
    return { ...base, exposureWei, sizeWei, route: choice.chain[0] ?? null, reason: `${why}; ${choice.chain.length > 0 ? choice.reason : 'no private route configured'}` };
  }

  private async pairs(addresses: readonly string[]): Promise<V2PairState[] | null> {
    try {
      const calls = addresses.flatMap((a) => [
        ['eth_call', [{ to: a, data: '0x0dfe1681' }, 'latest']] as const, // token0()
        ['eth_call', [{ to: a, data: '0xd21220a7' }, 'latest']] as const, // token1()
        ['eth_call', [{ to: a, data: '0x0902f1ac' }, 'latest']] as const, // getReserves()
      ]);
      const res = await this.reader.batch(calls);
      const out: V2PairState[] = [];
      for (let i = 0; i < addresses.length; i++) {
        const [t0, t1, r] = res.slice(i * 3, i * 3 + 3).map((x) => ('result' in x && typeof x.result === 'string' ? x.result : null));
        if (!t0 || !t1 || !r || r.length < 130) return null;
        out.push({ address: addresses[i]!.toLowerCase(), token0: `0x${t0.slice(26)}`.toLowerCase(), token1: `0x${t1.slice(26)}`.toLowerCase(), reserve0: BigInt(`0x${r.slice(2, 66)}`), reserve1: BigInt(`0x${r.slice(66, 130)}`), feeBps: V2_FEE_BPS });
      }
      return out;
    } catch (err) {
      if (err instanceof ChainReadError) return null;
      throw err;
    }
  }

  /** On each head: records protected transactions that landed (or expired). */
  onBlock(number: number): void {
    this.head = Math.max(this.head, number);
    if (this.pending.length === 0 || this.checking) return;
    this.checking = true;
    void this.check(number)
      .catch((err: unknown) => this.log.warn('protect: receipt check failed', { error: (err as Error).message }))
      .finally(() => {
        this.checking = false;
      });
  }

  private async check(number: number): Promise<void> {
    const res = await this.reader.batch(this.pending.map((p) => ['eth_getTransactionReceipt', [p.txHash]] as const));
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      const r = res[i];
      const receipt = r && 'result' in r ? (r.result as { status: string; blockNumber: string; gasUsed: string; effectiveGasPrice: string } | null) : null;
      if (receipt) {
        this.openLedger().append({ type: 'outcome', id: p.id, status: receipt.status === '0x1' ? 'included' : 'reverted', block: Number(receipt.blockNumber), gasPaidWei: BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) });
        this.pending.splice(i, 1);
      } else if (p.sentBlock !== null && number - p.sentBlock > EXPIRE_BLOCKS) {
        this.openLedger().append({ type: 'outcome', id: p.id, status: 'expired', block: number, reason: `not on chain ${EXPIRE_BLOCKS} blocks after it was sent` });
        this.pending.splice(i, 1);
      }
    }
  }

  close(): void {
    this.ledger?.close();
  }
}

function ok(id: unknown, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}

function rawParam(params: unknown[]): string {
  const raw = params[0];
  if (typeof raw !== 'string' || !/^0x[0-9a-fA-F]+$/.test(raw)) throw new RpcError(-32602, 'invalid params: [signedTransaction] as 0x-hex');
  return raw;
}

function decode(raw: string, chainId: number | null): DecodedTx {
  try {
    return decodeHex(raw, chainId === null ? {} : { chainId: BigInt(chainId) });
  } catch (err) {
    if (err instanceof TxDecodeError) throw new RpcError(-32602, `invalid transaction: ${err.code}: ${err.message}`);
    throw err;
  }
}

function usd(wei: bigint, ethUsd: number): number {
  return (Number(wei) / 1e18) * ethUsd;
}
