import assert from 'node:assert/strict';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1';
import { type Hex, concat, hashMessage, keccak256, recoverMessageAddress, stringToBytes } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type AuthSigner, FlashbotsRoute, flashbotsSignatureHeader } from '../../../src/actors/submitter/routes/flashbots.js';
import { MevBlockerRoute } from '../../../src/actors/submitter/routes/mev-blocker.js';
import { PrivateRpcRoute } from '../../../src/actors/submitter/routes/private-rpc.js';
import { PublicRoute } from '../../../src/actors/submitter/routes/public.js';
import { jsonRpcRequest, nextRequestId, postJsonRpc } from '../../../src/actors/submitter/routes/rpc-client.js';
import type { RouteError, Sendable } from '../../../src/actors/submitter/types.js';
import { startHttpServer, type TestHttpServer } from '../../support/http-server.js';
import { type RelayFault, TestRelay } from '../../support/relay.js';

// Throwaway keys: the relay identity, our searcher and a victim.
const AUTH_KEY: Hex = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
const OUR_KEY: Hex = '0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f';
const VICTIM_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const auth = privateKeyToAccount(AUTH_KEY);
const authSigner: AuthSigner = { address: auth.address, signMessage: (m) => auth.signMessage({ message: m }) };
/** Budget of requests expected to be answered: generous, so a loaded machine does not turn them into timeouts. */
const TIMEOUT_MS = 10_000;
/** Budget where a timeout is the point of the test; no assertion depends on how long anything took. */
const SHORT_MS = 500;

async function signedTx(key: Hex, nonce: number): Promise<Hex> {
  return privateKeyToAccount(key).signTransaction({
    chainId: 1,
    type: 'eip1559',
    to: '0x000000000000000000000000000000000000dEaD',
    value: 1n,
    nonce,
    gas: 21_000n,
    maxFeePerGas: 30_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
  });
}

/** A sandwich-shaped submission: victim, ours, victim, ours. */
async function sendable(overrides: Partial<Sendable> = {}): Promise<Sendable> {
  const rawTxs = [await signedTx(VICTIM_KEY, 7), await signedTx(OUR_KEY, 3), await signedTx(VICTIM_KEY, 8), await signedTx(OUR_KEY, 4)];
  return {
    id: 'sub-1',
    rawTxs,
    txHashes: rawTxs.map((r) => keccak256(r)),
    ours: [1, 3],
    targetBlock: 0x1234,
    blocks: 3,
    replacementUuid: '6f1e5c8e-2b1f-4c1e-9d67-3f0f6f1b2a55',
    ...overrides,
  };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The kind and definiteness each relay fault must surface as. */
const FAULTS: { fault: RelayFault; kind: RouteError['kind']; definite: boolean; status?: number; code?: number }[] = [
  { fault: 'timeout', kind: 'timeout', definite: false },
  { fault: 'reset', kind: 'network', definite: false },
  { fault: 'http500', kind: 'http', definite: true, status: 500 },
  { fault: 'garbage', kind: 'garbage', definite: true },
  { fault: 'rpc-error', kind: 'rpc', definite: true, code: -32000 },
];

describe('flashbotsSignatureHeader', () => {
  const body = '{"jsonrpc":"2.0","id":1,"method":"eth_sendBundle","params":[{"txs":["0x01"],"blockNumber":"0x10"}]}';

  it('default: address:signature, the personal signature of the 0x-hex keccak of the body bytes', async () => {
    const header = await flashbotsSignatureHeader(body, authSigner);
    // Computed independently: keccak of the UTF-8 bytes, as 0x-hex text, signed with EIP-191.
    const hashText = keccak256(stringToBytes(body));
    assert.equal(header, `${auth.address}:${await auth.signMessage({ message: hashText })}`);
    const [address, signature] = header.split(':') as [string, Hex];
    assert.equal(await recoverMessageAddress({ message: hashText, signature }), address);
  });

  it('behavior: a synchronous signer fits and gives the same header', async () => {
    const syncSigner: AuthSigner = {
      address: auth.address,
      signMessage: (m) => {
        const sig = secp256k1.sign(hashMessage(m).slice(2), AUTH_KEY.slice(2));
        return `0x${sig.toCompactHex()}${(27 + sig.recovery).toString(16)}`;
      },
    };
    assert.equal(await flashbotsSignatureHeader(body, syncSigner), await flashbotsSignatureHeader(body, authSigner));
  });

  it('behavior: a non-ASCII body is hashed as its UTF-8 bytes', async () => {
    const text = '{"memo":"é ✓ 𝄞"}';
    const [, signature] = (await flashbotsSignatureHeader(text, authSigner)).split(':') as [string, Hex];
    assert.equal(await recoverMessageAddress({ message: keccak256(new TextEncoder().encode(text)), signature }), auth.address);
  });
});

describe('postJsonRpc', () => {
  /** Answers with whatever the current test sets; records the ids it saw. */
  let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void = () => {};
  const ids: unknown[] = [];
  let srv: TestHttpServer;
  let url: string;

  before(async () => {
    srv = await startHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        ids.push((JSON.parse(body) as { id: unknown }).id);
        handler(req, body, res);
      });
    });
    url = srv.url;
  });

  after(() => srv.close());

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const echo = (result: unknown) => (_req: IncomingMessage, body: string, res: ServerResponse) => json(res, 200, { jsonrpc: '2.0', id: (JSON.parse(body) as { id: number }).id, result });

  it('default: the result, and request ids increase by one', async () => {
    handler = echo('0xabc');
    ids.length = 0;
    const a = jsonRpcRequest('eth_chainId', []);
    const b = jsonRpcRequest('eth_chainId', []);
    assert.equal(b.id, a.id + 1);
    assert.equal(nextRequestId(), b.id + 1);
    assert.deepEqual(await postJsonRpc(url, a.body, { timeoutMs: TIMEOUT_MS, id: a.id }), { ok: true, result: '0xabc' });
    // Without `id` the expected id is read from the body.
    assert.deepEqual(await postJsonRpc(url, b.body, { timeoutMs: TIMEOUT_MS }), { ok: true, result: '0xabc' });
    assert.deepEqual(ids, [a.id, b.id]);
  });

  it('behavior: a null result is a result, and `"error": null` beside it is no error', async () => {
    handler = echo(null);
    const r = jsonRpcRequest('eth_cancelBundle', [{ replacementUuid: 'x' }]);
    assert.deepEqual(await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id }), { ok: true, result: null });
    handler = (_req, body, res) => json(res, 200, { result: 200, error: null, id: (JSON.parse(body) as { id: number }).id });
    assert.deepEqual(await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id }), { ok: true, result: 200 });
  });

  it('behavior: the headers are sent, with content-type application/json', async () => {
    let seen: IncomingMessage['headers'] = {};
    handler = (req, body, res) => {
      seen = req.headers;
      echo(true)(req, body, res);
    };
    const r = jsonRpcRequest('eth_chainId', []);
    await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id, headers: { 'X-Api-Key': 'k' } });
    assert.equal(seen['x-api-key'], 'k');
    assert.equal(seen['content-type'], 'application/json');
  });

  it('error: a JSON-RPC error object is `rpc` with its code and message', async () => {
    handler = (_req, body, res) => json(res, 200, { jsonrpc: '2.0', id: (JSON.parse(body) as { id: number }).id, error: { code: -32000, message: 'nonce too low' } });
    const r = jsonRpcRequest('eth_sendRawTransaction', ['0x02f8ab']);
    const a = await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id });
    assert.deepEqual(a, { ok: false, error: { kind: 'rpc', code: -32000, message: 'rpc error -32000: nonce too low' } });
  });

  it('error: a non-2xx status is `http` with the status, and the JSON-RPC error in its body', async () => {
    handler = (_req, _body, res) => json(res, 404, 'not found');
    const r = jsonRpcRequest('eth_chainId', []);
    assert.deepEqual(await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id }), { ok: false, error: { kind: 'http', status: 404, message: 'HTTP 404' } });
    handler = (_req, _body, res) => json(res, 429, { jsonrpc: '2.0', id: null, error: { code: -32005, message: 'rate limited' } });
    assert.deepEqual(await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id }), {
      ok: false,
      error: { kind: 'http', status: 429, code: -32005, message: 'HTTP 429: rate limited' },
    });
  });

  it('error: a 2xx answer that is not a matching JSON-RPC response is `garbage`', async () => {
    const r = jsonRpcRequest('eth_chainId', []);
    const cases: [string, (req: IncomingMessage, body: string, res: ServerResponse) => void][] = [
      ['not JSON', (_q, _b, res) => json(res, 200, '<html>')],
      ['array', (_q, _b, res) => json(res, 200, [{ jsonrpc: '2.0', id: r.id, result: 1 }])],
      ['scalar', (_q, _b, res) => json(res, 200, '42')],
      ['other id', (_q, _b, res) => json(res, 200, { jsonrpc: '2.0', id: r.id + 1000, result: 1 })],
      ['no id', (_q, _b, res) => json(res, 200, { jsonrpc: '2.0', result: 1 })],
      ['neither result nor error', (_q, _b, res) => json(res, 200, { jsonrpc: '2.0', id: r.id })],
    ];
    for (const [label, h] of cases) {
      handler = h;
      const a = await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id });
      assert.equal(a.ok, false, label);
      assert.equal(!a.ok && a.error.kind, 'garbage', label);
    }
    // The id echoed as a string is the same id.
    handler = (_q, _b, res) => json(res, 200, { jsonrpc: '2.0', id: String(r.id), result: 1 });
    assert.deepEqual(await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id }), { ok: true, result: 1 });
  });

  it('error: no answer in time is `timeout`; a connection dropped after the request is `network`', async () => {
    const r = jsonRpcRequest('eth_chainId', []);
    handler = () => {};
    const t = await postJsonRpc(url, r.body, { timeoutMs: SHORT_MS, id: r.id });
    assert.equal(!t.ok && t.error.kind, 'timeout');
    handler = (req) => req.socket.destroy();
    const n = await postJsonRpc(url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id });
    assert.equal(!n.ok && n.error.kind, 'network');
  });

  it('error: a closed port is `refused`', async () => {
    const r = jsonRpcRequest('eth_chainId', []);
    const a = await postJsonRpc(`http://127.0.0.1:${await closedPort()}/`, r.body, { timeoutMs: TIMEOUT_MS, id: r.id });
    assert.deepEqual(a, { ok: false, error: { kind: 'refused', message: 'no connection (ECONNREFUSED)' } });
  });

  it('behavior: error messages quote neither the body nor the headers', async () => {
    const secret = '0x02f8deadbeefcafe';
    const r = jsonRpcRequest('eth_sendRawTransaction', [secret]);
    for (const h of [() => {}, (req: IncomingMessage) => req.socket.destroy(), (_q: IncomingMessage, _b: string, res: ServerResponse) => json(res, 500, `bad ${secret}`)]) {
      handler = h;
      const a = await postJsonRpc(url, r.body, { timeoutMs: SHORT_MS, id: r.id, headers: { 'X-Flashbots-Signature': 'sig-secret' } });
      assert.equal(a.ok, false);
      assert.ok(!a.ok && !a.error.message.includes(secret) && !a.error.message.includes('sig-secret'), !a.ok ? a.error.message : '');
    }
  });
});

describe('FlashbotsRoute', () => {
  let relay: TestRelay;
  let relay2: TestRelay;

  before(async () => {
    relay = await TestRelay.start();
    relay2 = await TestRelay.start();
  });

  after(async () => {
    await relay.close();
    await relay2.close();
  });

  beforeEach(() => {
    relay.reset();
    relay2.reset();
  });

  const route = (opts: { relays?: { name: string; url: string }[]; signer?: AuthSigner; timeoutMs?: number } = {}) =>
    new FlashbotsRoute({ relays: opts.relays ?? [{ name: 'r1', url: relay.url }], authSigner: opts.signer ?? authSigner, timeoutMs: opts.timeoutMs ?? TIMEOUT_MS });

  it('default: one signed eth_sendBundle per target block, accepted, signed by our auth key', async () => {
    const s = await sendable();
    const fb = route();
    assert.equal(fb.name, 'flashbots');
    assert.equal(fb.protected, true);
    const out = await fb.send(s);
    const bundleHash = keccak256(concat(s.txHashes));
    assert.deepEqual(out, { route: 'flashbots', ok: true, definite: true, results: [{ endpoint: 'r1', ok: true, id: bundleHash, error: null }] });
    assert.equal(relay.accepted.length, 3);
    const blocks = relay.accepted.map((r) => (r.params as [{ blockNumber: string }])[0].blockNumber).sort();
    assert.deepEqual(blocks, ['0x1234', '0x1235', '0x1236']);
    for (const r of relay.accepted) {
      assert.equal(r.method, 'eth_sendBundle');
      assert.equal(r.signer, auth.address.toLowerCase());
      const [p] = r.params as [{ txs: Hex[]; replacementUuid: string }];
      assert.deepEqual(p.txs, s.rawTxs);
      assert.equal(p.replacementUuid, s.replacementUuid);
    }
  });

  it('args: blocks = 1 targets targetBlock only', async () => {
    const out = await route().send(await sendable({ blocks: 1, targetBlock: 255 }));
    assert.equal(out.ok, true);
    assert.deepEqual(
      relay.accepted.map((r) => (r.params as [{ blockNumber: string }])[0].blockNumber),
      ['0xff'],
    );
  });

  it('error: a tampered body (signed over another body) is refused with 403, an `http` error', async () => {
    const s = await sendable();
    const signedBody = jsonRpcRequest('eth_sendBundle', [{ txs: s.rawTxs, blockNumber: '0x1234' }]);
    // Same id, another block: the signature no longer matches the bytes sent.
    const tampered = signedBody.body.replace('"0x1234"', '"0x1235"');
    assert.notEqual(tampered, signedBody.body);
    const header = await flashbotsSignatureHeader(signedBody.body, authSigner);
    const a = await postJsonRpc(relay.url, tampered, { timeoutMs: TIMEOUT_MS, id: signedBody.id, headers: { 'X-Flashbots-Signature': header } });
    assert.equal(a.ok, false);
    assert.equal(!a.ok && a.error.kind, 'http');
    assert.equal(!a.ok && a.error.status, 403);
    assert.equal(relay.unauthorized, 1);
    assert.equal(relay.requests.length, 0);
    // The untampered body with the same header is accepted.
    const b = await postJsonRpc(relay.url, signedBody.body, { timeoutMs: TIMEOUT_MS, id: signedBody.id, headers: { 'X-Flashbots-Signature': header } });
    assert.equal(b.ok, true);
    assert.equal(relay.accepted.length, 1);
  });

  it('error: a signer whose address is not its key is refused by the relay: not ok, definite', async () => {
    const liar: AuthSigner = { address: privateKeyToAccount(OUR_KEY).address, signMessage: authSigner.signMessage };
    const out = await route({ signer: liar }).send(await sendable());
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.equal(out.results[0]!.error!.kind, 'http');
    assert.equal(out.results[0]!.error!.status, 403);
    assert.equal(relay.unauthorized, 3);
    assert.equal(relay.accepted.length, 0);
  });

  it('error: no signature header at all is refused with 403', async () => {
    const r = jsonRpcRequest('eth_sendBundle', [{ txs: ['0x01'], blockNumber: '0x1' }]);
    const a = await postJsonRpc(relay.url, r.body, { timeoutMs: TIMEOUT_MS, id: r.id });
    assert.equal(!a.ok && a.error.status, 403);
  });

  for (const f of FAULTS) {
    it(`error: relay fault ${f.fault} is a \`${f.kind}\` error, definite ${f.definite}`, async () => {
      relay.fault = f.fault;
      const out = await route({ timeoutMs: SHORT_MS }).send(await sendable({ blocks: 1 }));
      assert.equal(out.ok, false);
      assert.equal(out.definite, f.definite);
      const e = out.results[0]!.error!;
      assert.equal(e.kind, f.kind);
      assert.equal(e.status, f.status);
      assert.equal(e.code, f.code);
      assert.match(e.message, /^block 4660: /);
    });
  }

  it('behavior: a null eth_sendBundle result is an acceptance without a bundle hash', async () => {
    relay.fault = 'null-result';
    const out = await route().send(await sendable());
    assert.deepEqual(out, { route: 'flashbots', ok: true, definite: true, results: [{ endpoint: 'r1', ok: true, id: null, error: null }] });
  });

  it('behavior: one of two relays failing still gives ok, with a result per relay', async () => {
    relay2.fault = 'http500';
    const relays = [
      { name: 'r1', url: relay.url },
      { name: 'r2', url: relay2.url },
    ];
    const s = await sendable();
    const out = await route({ relays }).send(s);
    assert.equal(out.ok, true);
    assert.equal(out.definite, true);
    assert.deepEqual(
      out.results.map((r) => [r.endpoint, r.ok, r.error?.kind ?? null]),
      [
        ['r1', true, null],
        ['r2', false, 'http'],
      ],
    );
    assert.equal(relay.accepted.length, 3);
    assert.equal(relay2.requests.length, 3);
    // Both relays got the same signed requests.
    assert.deepEqual(relay2.requests.map((r) => r.params).sort(), relay.accepted.map((r) => r.params).sort());

    relay.reset();
    relay2.reset();
    relay2.fault = 'timeout';
    const unknown = await route({ relays, timeoutMs: SHORT_MS }).send(s);
    assert.equal(unknown.ok, true);
    assert.equal(unknown.definite, false);
    assert.equal(unknown.results[1]!.error!.kind, 'timeout');
  });

  it('behavior: a relay that refuses one target block of three is not ok; the error names the block', async () => {
    relay.queue.push('ok', 'rpc-error', 'ok');
    const out = await route().send(await sendable());
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.equal(out.results[0]!.error!.kind, 'rpc');
    assert.match(out.results[0]!.error!.message, /^block 466[0-2]: rpc error -32000/);
    assert.equal(relay.accepted.length, 2);
  });

  it('behavior: an unknown answer is reported in preference to a refusal', async () => {
    relay.queue.push('rpc-error', 'timeout', 'ok');
    const out = await route({ timeoutMs: SHORT_MS }).send(await sendable());
    assert.equal(out.definite, false);
    assert.equal(out.results[0]!.error!.kind, 'timeout');
  });

  it('error: a refused connection (closed port) is `refused`, definite', async () => {
    const out = await route({ relays: [{ name: 'gone', url: `http://127.0.0.1:${await closedPort()}/` }] }).send(await sendable());
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.equal(out.results[0]!.error!.kind, 'refused');
  });

  it('default: callBundle answers the parsed simulation', async () => {
    relay.revertIndex = 2;
    const s = await sendable();
    const sim = await route().callBundle(s, 0x1233);
    assert.equal(sim.ok, true);
    if (!sim.ok) return;
    const r = sim.result;
    assert.equal(r.bundleHash, keccak256(concat(s.txHashes)));
    assert.equal(r.coinbaseDiff, 252000n);
    assert.equal(r.bundleGasPrice, 3n);
    assert.equal(r.totalGasUsed, 84000);
    assert.equal(r.stateBlockNumber, 0x1233);
    assert.deepEqual(
      r.results.map((t) => [t.txHash, t.gasUsed, t.error ?? null]),
      s.txHashes.map((h, i) => [h, 21000, i === 2 ? 'execution reverted' : null]),
    );
    assert.equal(r.results[2]!.revert, '0x08c379a0');
    assert.equal(r.results[0]!.gasFees, 63000n);
    const [req] = relay.accepted;
    assert.equal(req!.method, 'eth_callBundle');
    assert.equal(req!.signer, auth.address.toLowerCase());
    assert.deepEqual(req!.params, [{ txs: s.rawTxs, blockNumber: '0x1234', stateBlockNumber: '0x1233' }]);
  });

  it('args: callBundle with stateBlock latest', async () => {
    const sim = await route().callBundle(await sendable(), 'latest');
    assert.equal(sim.ok, true);
    assert.equal((relay.accepted[0]!.params as [{ stateBlockNumber: string }])[0].stateBlockNumber, 'latest');
  });

  it('error: callBundle surfaces faults and undocumented results as RouteErrors', async () => {
    for (const [fault, kind] of [
      ['rpc-error', 'rpc'],
      ['http500', 'http'],
      ['null-result', 'garbage'],
      ['timeout', 'timeout'],
    ] as const) {
      relay.fault = fault;
      const sim = await route({ timeoutMs: SHORT_MS }).callBundle(await sendable(), 'latest');
      assert.equal(!sim.ok && sim.error.kind, kind, fault);
    }
  });

  it('default: cancel sends eth_cancelBundle with the replacementUuid to every relay; a null result is accepted', async () => {
    const relays = [
      { name: 'r1', url: relay.url },
      { name: 'r2', url: relay2.url },
    ];
    const out = await route({ relays }).cancel('6f1e5c8e-2b1f-4c1e-9d67-3f0f6f1b2a55');
    assert.deepEqual(out, {
      route: 'flashbots',
      ok: true,
      definite: true,
      results: [
        { endpoint: 'r1', ok: true, id: null, error: null },
        { endpoint: 'r2', ok: true, id: null, error: null },
      ],
    });
    for (const r of [relay, relay2]) {
      assert.equal(r.accepted.length, 1);
      assert.equal(r.accepted[0]!.method, 'eth_cancelBundle');
      assert.deepEqual(r.accepted[0]!.params, [{ replacementUuid: '6f1e5c8e-2b1f-4c1e-9d67-3f0f6f1b2a55' }]);
      assert.equal(r.accepted[0]!.signer, auth.address.toLowerCase());
    }
    relay2.fault = 'timeout';
    const unknown = await route({ relays, timeoutMs: SHORT_MS }).cancel('u');
    assert.equal(unknown.ok, true);
    assert.equal(unknown.definite, false);
  });

  it('args: invalid options and sendables throw, naming the field', () => {
    assert.throws(() => new FlashbotsRoute({ relays: [], authSigner, timeoutMs: 1 }), /opts\.relays/);
    assert.throws(() => new FlashbotsRoute({ relays: [{ name: 'a', url: 'ftp://x' }], authSigner, timeoutMs: 1 }), /opts\.relays\[0\]\.url/);
    assert.throws(
      () =>
        new FlashbotsRoute({
          relays: [
            { name: 'a', url: relay.url },
            { name: 'a', url: relay.url },
          ],
          authSigner,
          timeoutMs: 1,
        }),
      /used twice/,
    );
    assert.throws(() => new FlashbotsRoute({ relays: [{ name: 'a', url: relay.url }], authSigner: { address: 'x', signMessage: authSigner.signMessage }, timeoutMs: 1 }), /authSigner\.address/);
    assert.throws(() => new FlashbotsRoute({ relays: [{ name: 'a', url: relay.url }], authSigner, timeoutMs: 0 }), RangeError);
    assert.throws(() => new FlashbotsRoute({ relays: [{ name: 'a', url: relay.url }], authSigner, timeoutMs: 1, simulationRelay: 'b' }), /simulationRelay/);
  });

  it('args: a malformed sendable is rejected before anything is sent', async () => {
    await assert.rejects(route().send(await sendable({ blocks: 0 })), /sendable\.blocks/);
    await assert.rejects(route().send(await sendable({ ours: [4] })), /sendable\.ours/);
    assert.equal(relay.requests.length, 0);
  });
});

describe('single-transaction routes', () => {
  let relay: TestRelay;

  before(async () => {
    relay = await TestRelay.start();
  });

  after(async () => {
    await relay.close();
  });

  beforeEach(() => relay.reset());

  it('default: MEV Blocker sends only our transactions, in order, one eth_sendRawTransaction each', async () => {
    const s = await sendable();
    const mb = new MevBlockerRoute({ url: relay.url, name: 'mevblocker', timeoutMs: TIMEOUT_MS });
    assert.equal(mb.name, 'mev-blocker');
    assert.equal(mb.protected, true);
    const out = await mb.send(s);
    assert.deepEqual(out, {
      route: 'mev-blocker',
      ok: true,
      definite: true,
      results: [
        { endpoint: 'mevblocker', ok: true, id: s.txHashes[1], error: null },
        { endpoint: 'mevblocker', ok: true, id: s.txHashes[3], error: null },
      ],
    });
    assert.deepEqual(
      relay.accepted.map((r) => [r.method, r.params]),
      [
        ['eth_sendRawTransaction', [s.rawTxs[1]]],
        ['eth_sendRawTransaction', [s.rawTxs[3]]],
      ],
    );
  });

  it('default: the public route is unprotected and sends the same way', async () => {
    const s = await sendable({ ours: [3, 1] });
    const pub = new PublicRoute({ url: relay.url, timeoutMs: TIMEOUT_MS });
    assert.equal(pub.name, 'public');
    assert.equal(pub.protected, false);
    const out = await pub.send(s);
    assert.equal(out.ok, true);
    // The endpoint label defaults to the URL's host, never its path.
    assert.equal(out.results[0]!.endpoint, new URL(relay.url).host);
    // `ours` order is the send order.
    assert.deepEqual(
      relay.accepted.map((r) => r.params),
      [[s.rawTxs[3]], [s.rawTxs[1]]],
    );
  });

  it('default: the private RPC sends eth_sendPrivateTransaction with maxBlockNumber = targetBlock + blocks - 1, signed', async () => {
    const s = await sendable();
    const pr = new PrivateRpcRoute({ url: relay.url, name: 'protect', timeoutMs: TIMEOUT_MS, preferences: { fast: true }, authSigner });
    assert.equal(pr.name, 'private-rpc');
    assert.equal(pr.protected, true);
    const out = await pr.send(s);
    assert.equal(out.ok, true);
    assert.deepEqual(
      out.results.map((r) => r.id),
      [s.txHashes[1], s.txHashes[3]],
    );
    assert.deepEqual(
      relay.accepted.map((r) => [r.method, r.params, r.signer]),
      [
        ['eth_sendPrivateTransaction', [{ tx: s.rawTxs[1], maxBlockNumber: '0x1236', preferences: { fast: true } }], auth.address.toLowerCase()],
        ['eth_sendPrivateTransaction', [{ tx: s.rawTxs[3], maxBlockNumber: '0x1236', preferences: { fast: true } }], auth.address.toLowerCase()],
      ],
    );
  });

  it('args: the private RPC can send eth_sendRawTransaction, unsigned', async () => {
    const s = await sendable();
    const out = await new PrivateRpcRoute({ url: relay.url, timeoutMs: TIMEOUT_MS, method: 'eth_sendRawTransaction' }).send(s);
    assert.equal(out.ok, true);
    assert.deepEqual(
      relay.accepted.map((r) => [r.method, r.params, r.signer]),
      [
        ['eth_sendRawTransaction', [s.rawTxs[1]], null],
        ['eth_sendRawTransaction', [s.rawTxs[3]], null],
      ],
    );
  });

  it('error: eth_sendPrivateTransaction without a signer is refused by a relay that wants one', async () => {
    const out = await new PrivateRpcRoute({ url: relay.url, timeoutMs: TIMEOUT_MS }).send(await sendable());
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.equal(out.results.length, 1);
    assert.equal(out.results[0]!.error!.status, 403);
  });

  it('behavior: sending stops at the first refusal; results cover only what was sent', async () => {
    const s = await sendable({ rawTxs: [await signedTx(OUR_KEY, 3), await signedTx(OUR_KEY, 4), await signedTx(OUR_KEY, 5)], ours: [0, 1, 2] });
    relay.queue.push('ok', 'rpc-error');
    const out = await new MevBlockerRoute({ url: relay.url, name: 'mb', timeoutMs: TIMEOUT_MS }).send(s);
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.deepEqual(
      out.results.map((r) => [r.ok, r.error?.kind ?? null]),
      [
        [true, null],
        [false, 'rpc'],
      ],
    );
    assert.equal(relay.requests.length, 2);
  });

  for (const f of FAULTS) {
    it(`error: fault ${f.fault} is a \`${f.kind}\` error, definite ${f.definite}, and nothing more is sent`, async () => {
      relay.fault = f.fault;
      const out = await new PublicRoute({ url: relay.url, timeoutMs: SHORT_MS }).send(await sendable());
      assert.equal(out.ok, false);
      assert.equal(out.definite, f.definite);
      assert.equal(out.results.length, 1);
      assert.equal(out.results[0]!.error!.kind, f.kind);
      assert.equal(relay.requests.length, 1);
    });
  }

  it('error: a null result is not a transaction hash: `garbage`', async () => {
    relay.fault = 'null-result';
    const out = await new MevBlockerRoute({ url: relay.url, timeoutMs: TIMEOUT_MS }).send(await sendable());
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.equal(out.results[0]!.error!.kind, 'garbage');
  });

  it('error: a refused connection (closed port) is `refused`, definite', async () => {
    const out = await new MevBlockerRoute({ url: `http://127.0.0.1:${await closedPort()}/`, timeoutMs: TIMEOUT_MS }).send(await sendable());
    assert.equal(out.ok, false);
    assert.equal(out.definite, true);
    assert.equal(out.results[0]!.error!.kind, 'refused');
  });

  it('args: invalid options throw, naming the field', () => {
    assert.throws(() => new MevBlockerRoute({ url: 'not a url', timeoutMs: 1 }), /opts\.url/);
    assert.throws(() => new PublicRoute({ url: relay.url, timeoutMs: -1 }), /opts\.timeoutMs/);
    assert.throws(() => new PrivateRpcRoute({ url: relay.url, timeoutMs: 1, name: '' }), /opts\.name/);
    assert.throws(() => new PrivateRpcRoute({ url: relay.url, timeoutMs: 1, method: 'eth_call' as 'eth_sendRawTransaction' }), /opts\.method/);
  });
});
