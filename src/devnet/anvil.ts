import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OrionError } from '../runtime/errors.js';

/**
 * A local anvil node for tests, the demo and benchmarks. The binary comes from the npm package
 * `@foundry-rs/anvil-linux-amd64` (the platform package of `@foundry-rs/anvil`) and is spawned
 * directly, so the pid is ours and stopping it cannot leave an orphan behind a wrapper script.
 * It binds 127.0.0.1 on a port the kernel picks (`--port 0`); the port is read from anvil's
 * `Listening on` line.
 */
export interface AnvilOptions {
  /** Chain id; default 31337. */
  chainId?: number;
  /** EVM hardfork name (`prague`, `cancun`, …); default anvil's latest. */
  hardfork?: string;
  /** Mine a block every this many seconds (fractions allowed); 0 (default) = automine each transaction. */
  blockTime?: number;
  /** Block gas limit; default anvil's (30M). Raise it for high traffic rates, or blocks fill and the base fee climbs. */
  gasLimit?: number | bigint;
  /** Disable automine and interval mining; blocks are mined with `evm_mine`. */
  noMining?: boolean;
  /** Funded dev accounts; default 10. */
  accounts?: number;
  /** Balance of each dev account in ETH; default 10000. */
  balanceEth?: number;
  /** Extra command-line flags. */
  args?: readonly string[];
  /** Give up waiting for the node to answer after this long; default 20 s. */
  startTimeoutMs?: number;
  /**
   * Scheduling niceness for the anvil process (0–19; default 0). Benchmarks that share a small
   * machine with the node give it a higher niceness, so the engine threads being measured win the
   * cores when both are runnable, as they would with the node on its own machine.
   */
  niceness?: number;
  /** Path to an anvil binary; default `ORION_ANVIL_BIN` or the npm package's. */
  bin?: string;
}

/** A running anvil. */
export interface Anvil {
  readonly port: number;
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly pid: number;
  readonly chainId: number;
  /** anvil's default mnemonic-derived dev keys, funded (first `accounts`). */
  readonly privateKeys: readonly `0x${string}`[];
  /** Last lines anvil printed, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s). Resolves when the process exited. */
  stop(graceMs?: number): Promise<void>;
}

/** The first 10 keys of anvil's default mnemonic ("test test … junk"). */
export const ANVIL_KEYS: readonly `0x${string}`[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
];

/** Path of the anvil binary: `ORION_ANVIL_BIN`, else the one in `@foundry-rs/anvil-linux-amd64`. */
export function anvilBinary(): string {
  const fromEnv = process.env.ORION_ANVIL_BIN;
  if (fromEnv) return fromEnv;
  const pkg = `@foundry-rs/anvil-${process.platform === 'win32' ? 'win32' : process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  let path: string;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch (cause) {
    throw new OrionError('ORION_ERR_DEVNET', `anvil is not installed: npm package ${pkg} not found (set ORION_ANVIL_BIN to an anvil binary)`, { cause });
  }
  if (!existsSync(path)) throw new OrionError('ORION_ERR_DEVNET', `anvil binary missing at ${path}`);
  return path;
}

/** Starts anvil on 127.0.0.1 and a free port; resolves once it answers `eth_chainId`. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? 31337;
  const accounts = opts.accounts ?? 10;
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId), '--accounts', String(accounts), '--balance', String(opts.balanceEth ?? 10_000)];
  if (opts.hardfork) args.push('--hardfork', opts.hardfork);
  if (opts.blockTime) args.push('--block-time', String(opts.blockTime));
  if (opts.gasLimit !== undefined) args.push('--gas-limit', String(opts.gasLimit));
  if (opts.noMining) args.push('--no-mining');
  args.push(...(opts.args ?? []));
  const bin = opts.bin ?? anvilBinary();
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (opts.niceness && child.pid !== undefined) {
    try {
      setPriority(child.pid, opts.niceness);
    } catch {
      // Not permitted here: run at normal priority.
    }
  }
  const lines: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stderr.on('data', remember);
  const output = () => lines.slice(-20).join('\n');
  let exited = child.exitCode !== null;
  const exitedP = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new OrionError('ORION_ERR_DEVNET', `anvil did not start within ${opts.startTimeoutMs ?? 20_000} ms:\n${output()}`)), opts.startTimeoutMs ?? 20_000);
    const fail = (e: Error) => { clearTimeout(timer); child.stdout.off('data', onData); child.kill('SIGKILL'); reject(e); };
    const onData = (chunk: Buffer) => {
      remember(chunk);
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(lines.slice(-5).join('\n'));
      if (m) { clearTimeout(timer); child.stdout.off('data', onData); resolve(Number(m[1])); }
    };
    child.stdout.on('data', onData);
    child.once('error', (e) => fail(new OrionError('ORION_ERR_DEVNET', `cannot start anvil (${bin}): ${e.message}`, { cause: e })));
    child.once('exit', (code, signal) => fail(new OrionError('ORION_ERR_DEVNET', `anvil exited during start (code ${code}, signal ${signal}):\n${output()}`)));
  });
  // Keep draining stdout so anvil never blocks on a full pipe.
  child.stdout.on('data', remember);
  const rpcUrl = `http://127.0.0.1:${port}`;
  await waitForRpc(rpcUrl, child, output, opts.startTimeoutMs ?? 20_000);
  if (opts.niceness && child.pid !== undefined) reniceThreads(child.pid, opts.niceness);

  return {
    port,
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    chainId,
    privateKeys: ANVIL_KEYS.slice(0, Math.min(accounts, ANVIL_KEYS.length)),
    output,
    async stop(graceMs = 3000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedP;
      clearTimeout(timer);
    },
  };
}

/** One JSON-RPC call in a batch: method and params. */
export type RpcCall = readonly [method: string, params: readonly unknown[]];

let rpcId = 0;

/**
 * Sends JSON-RPC calls to `url` as one HTTP batch (fetch keeps the connection alive) and returns
 * the results in call order; throws naming the first call that failed.
 * @remarks Allocates; for setup and checks, not for the hot path.
 */
export async function rpcBatch(url: string, calls: readonly RpcCall[]): Promise<unknown[]> {
  if (calls.length === 0) return [];
  const first = rpcId + 1;
  rpcId += calls.length;
  const body = JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params })));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (!res.ok) throw new OrionError('ORION_ERR_DEVNET', `JSON-RPC batch to ${url} failed: HTTP ${res.status}`, { details: text.slice(0, 500) });
  const replies = JSON.parse(text) as { id: number; result?: unknown; error?: { code: number; message: string; data?: unknown } }[];
  // A batch reply may come back in any order; ids put it back in call order.
  const out = new Array<unknown>(calls.length);
  for (const r of replies) {
    const i = r.id - first;
    const call = calls[i];
    if (r.error) throw new OrionError('ORION_ERR_DEVNET', `${call?.[0] ?? 'JSON-RPC call'} failed: ${r.error.message}`, { details: r.error.data === undefined ? undefined : JSON.stringify(r.error.data) });
    out[i] = r.result;
  }
  return out;
}

/** One JSON-RPC call over HTTP; throws on an error reply. */
export async function rpc<T = unknown>(url: string, method: string, params: readonly unknown[] = []): Promise<T> {
  const [result] = await rpcBatch(url, [[method, params]]);
  return result as T;
}

/** Linux niceness is per thread: apply it to every thread anvil has started by now. */
function reniceThreads(pid: number, niceness: number): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // not Linux, or gone
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), niceness);
    } catch {
      // not permitted: leave it
    }
  }
}

async function waitForRpc(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new OrionError('ORION_ERR_DEVNET', `anvil exited (code ${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' });
      if (res.ok) { await res.text(); return; }
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new OrionError('ORION_ERR_DEVNET', `anvil did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
