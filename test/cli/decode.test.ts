import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { encodeFunctionData, parseAbi } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const account = privateKeyToAccount(KEY);
const ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';
const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';

function run(args: string[], input = ''): { status: number | null; lines: unknown[]; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'decode', ...args], { input, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown) };
}

async function swapTx(): Promise<string> {
  const data = encodeFunctionData({
    abi: parseAbi(['function swapExactTokensForTokens(uint256,uint256,address[],address,uint256)']),
    args: [1_000_000n, 400_000_000_000_000n, [USDC, WETH], account.address, 1_900_000_000n],
  });
  return account.signTransaction({ chainId: 1, type: 'eip1559', nonce: 7, to: ROUTER, data, gas: 200_000n, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, value: 0n });
}

describe('orion decode', () => {
  it('default: one JSON object per line with fields, sender and swap intent; a bad line gets an error code and the run goes on', async () => {
    const tx = await swapTx();
    const r = run(['--stdin'], `${tx}\nnot-hex\n0x02c0\n${tx.slice(2)}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines.length, 4);
    const [ok, bad, short, bare] = r.lines as Record<string, any>[];
    assert.equal(ok!.from, account.address.toLowerCase());
    assert.equal(ok!.type, 2);
    assert.equal(ok!.chainId, '1');
    assert.equal(ok!.nonce, '7');
    assert.equal(ok!.gas, '200000');
    assert.equal(ok!.to, ROUTER);
    assert.match(ok!.hash, /^0x[0-9a-f]{64}$/);
    assert.equal(ok!.intent.kind, 'v2-router02');
    assert.equal(ok!.intent.method, 'swapExactTokensForTokens');
    const leg = ok!.intent.legs[0];
    assert.deepEqual(leg.path, [USDC, WETH]);
    assert.equal(leg.amountIn, '1000000');
    assert.equal(leg.amountOutMin, '400000000000000');
    assert.equal(leg.pools[0], '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc', 'the mainnet USDC/WETH pair by CREATE2');
    assert.equal(bad!.error.code, 'TX_NOT_HEX');
    assert.match(short!.error.code, /^TX_/);
    assert.deepEqual(bare, ok, 'hex without 0x decodes the same');
    assert.equal(ok!.raw, undefined, 'the raw bytes are the input: not echoed');
  });

  it('args: hex arguments, and --chain-id checks the chain only when given', async () => {
    const tx = await swapTx();
    assert.equal((run([tx]).lines[0] as { from: string }).from, account.address.toLowerCase());
    const wrong = run(['--chain-id', '5', tx]);
    assert.equal(wrong.status, 0);
    assert.equal((wrong.lines[0] as { error: { code: string } }).error.code, 'TX_CHAIN_ID');
    assert.equal((run(['--chain-id', '1', tx]).lines[0] as { from: string }).from, account.address.toLowerCase());
  });

  it('args: --max-bytes rejects larger transactions with TX_TOO_LARGE', async () => {
    const r = run(['--max-bytes', '100', await swapTx()]);
    assert.equal((r.lines[0] as { error: { code: string } }).error.code, 'TX_TOO_LARGE');
  });

  it('error: usage mistakes exit 2 with a message; --help exits 0', () => {
    const none = spawnSync(process.execPath, [CLI, 'decode'], { encoding: 'utf8' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /nothing to decode/);
    const badFlag = spawnSync(process.execPath, [CLI, 'decode', '--chain-id', 'x', '0x00'], { encoding: 'utf8' });
    assert.equal(badFlag.status, 2);
    assert.match(badFlag.stderr, /--chain-id/);
    const help = spawnSync(process.execPath, [CLI, 'decode', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: orion decode/);
  });
});
