import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestHttpServer, startHttpServer } from '../../support/http-server.js';
import { CHAIN_READ_TIMEOUT_MS, ChainReadError, ChainReader } from '../../../src/actors/scorer/pools/pool-sync.js';

/**
 * The submitter tracks inclusion with `ChainReader` (src/actors/scorer/pools/pool-sync.ts): a node
 * that accepts the request and never answers must fail the read, not hold the block checks forever.
 */

let srv: TestHttpServer;
let url: string;
/** `hang`: never answer; `stall`: headers and half a body, then nothing; else a JSON-RPC answer. */
let mode: 'hang' | 'stall' | 'ok' = 'ok';

before(async () => {
  srv = await startHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (mode === 'hang') return;
      if (mode === 'stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[{"jsonrpc":"2.0","id":1,');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('[{"jsonrpc":"2.0","id":1,"result":"0x10"}]');
    });
  });
  url = srv.url;
});

after(() => srv.close());

describe('ChainReader timeout', () => {
  it('default: 10 s per request', () => {
    assert.equal(CHAIN_READ_TIMEOUT_MS, 10_000);
    assert.equal(new ChainReader(url).timeoutMs, 10_000);
  });

  it('behavior: a node that never answers fails the read with CHAIN_TRANSPORT', async () => {
    mode = 'hang';
    const r = new ChainReader(url, { timeoutMs: 150 });
    await assert.rejects(r.call('eth_blockNumber', []), (err: unknown) => err instanceof ChainReadError && err.code === 'CHAIN_TRANSPORT' && /no answer within 150 ms/.test(err.message));
  });

  it('behavior: a node that stalls mid-body fails the read too', async () => {
    mode = 'stall';
    const r = new ChainReader(url, { timeoutMs: 150 });
    await assert.rejects(r.call('eth_blockNumber', []), (err: unknown) => err instanceof ChainReadError && err.code === 'CHAIN_TRANSPORT');
  });

  it('behavior: an answering node is read as before', async () => {
    mode = 'ok';
    assert.equal(await new ChainReader(url, { timeoutMs: 1000 }).call('eth_blockNumber', []), '0x10');
  });

  it('args: a timeout that is not a positive integer is refused', () => {
    assert.throws(() => new ChainReader(url, { timeoutMs: 0 }), RangeError);
    assert.throws(() => new ChainReader(url, { timeoutMs: 1.5 }), RangeError);
  });
});
