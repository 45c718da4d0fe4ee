import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { MAINNET_ROUTERS, MAINNET_WETH, RouterRegistry, type RouterEntry } from '../../../../src/actors/decoder/calldata/router-registry.js';

const V2_ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';

function devnetRouter(overrides: Partial<RouterEntry> = {}): RouterEntry {
  return {
    address: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    kind: 'v2-router02',
    name: 'devnet-router',
    v2Factory: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    v2InitCodeHash: `0x${'AB'.repeat(32)}`,
    ...overrides,
  };
}

describe('RouterRegistry', () => {
  it('default', () => {
    const r = new RouterRegistry();
    assert.equal(r.size, MAINNET_ROUTERS.length);
    const v2 = r.get(V2_ROUTER);
    assert.deepEqual(v2, {
      address: V2_ROUTER,
      kind: 'v2-router02',
      name: 'uniswap-v2-router02',
      v2Factory: '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f',
      v2InitCodeHash: '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f',
      weth: MAINNET_WETH,
    });
    assert.equal(r.get('0xd9e1ce17f2641f24ae83637ab66a2cca9c378b9f')?.v2Factory, '0xc0aee478e3658e2610c5f7a4a2e1777ce9e4f2ac');
    assert.equal(r.get('0xe592427a0aece92de3edee1f18e0157c05861564')?.kind, 'v3-swaprouter');
    const r02 = r.get('0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45');
    assert.equal(r02?.kind, 'v3-swaprouter02');
    // SwapRouter02's V2 functions go through the Uniswap V2 factory.
    assert.equal(r02?.v2Factory, '0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f');
    assert.equal(r02?.v3Factory, '0x1f98431c8ad98523631ae4a59f267346ea31f984');
    for (const ur of ['0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad', '0xef1c6e67703c7bd7107eed8303fbe6ec2554bf6b']) assert.equal(r.get(ur)?.kind, 'universal-router');
    assert.equal(r.get('0x0000000000000000000000000000000000000001'), undefined);
  });

  it('behavior: get is case-insensitive and entries are stored lowercase and frozen', () => {
    const r = new RouterRegistry();
    assert.equal(r.get('0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D')?.address, V2_ROUTER);
    r.add(devnetRouter());
    const e = r.get('0x5fbdb2315678afecb367f032d93f642f64180aa3');
    assert.equal(e?.v2Factory, '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512');
    assert.equal(e?.v2InitCodeHash, `0x${'ab'.repeat(32)}`);
    assert.ok(Object.isFrozen(e));
  });

  it('behavior: extra entries come after the defaults and replace one at the same address', () => {
    const r = new RouterRegistry([devnetRouter(), devnetRouter({ address: V2_ROUTER, name: 'override' })]);
    assert.equal(r.size, MAINNET_ROUTERS.length + 1);
    assert.equal(r.get(V2_ROUTER)?.name, 'override');
    assert.equal(new RouterRegistry([devnetRouter()], []).size, 1);
  });

  it('behavior: entries() round-trips through structured clone into an equal registry', () => {
    const r = new RouterRegistry([devnetRouter()]);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(r.entries());
    const cloned = receiveMessageOnPort(port2)?.message as RouterEntry[];
    port1.close();
    const again = new RouterRegistry(cloned, []);
    assert.deepEqual(again.entries(), r.entries());
    assert.deepEqual(JSON.parse(JSON.stringify(r.entries())), r.entries());
  });

  it('error: a malformed entry names the field', () => {
    const r = new RouterRegistry([], []);
    assert.throws(() => r.add(devnetRouter({ address: '0x1234' })), { name: 'TypeError', message: /address must be 0x-hex of 20 bytes/ });
    assert.throws(() => r.add(devnetRouter({ v2InitCodeHash: '0xabcd' })), { name: 'TypeError', message: /v2InitCodeHash must be 0x-hex of 32 bytes/ });
    assert.throws(() => r.add(devnetRouter({ v2InitCodeHash: undefined })), { name: 'TypeError', message: /v2Factory and v2InitCodeHash must be given together/ });
    assert.throws(() => r.add(devnetRouter({ kind: 'v4-router' as RouterEntry['kind'] })), { name: 'TypeError', message: /kind must be one of/ });
    assert.throws(() => r.add(devnetRouter({ weth: 'weth' })), { name: 'TypeError', message: /weth must be/ });
    assert.equal(r.size, 0);
  });
});
