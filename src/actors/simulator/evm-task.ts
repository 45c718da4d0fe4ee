import type { BlockEvent, DecodedTx, SimulatedTx } from '../../messages/schema.js';
import { simulateWithEffects } from './effects.js';
import { detectHardfork } from './hardfork.js';
import { type BundleCall, simulateBundle } from './simulate-bundle.js';
import { type SimVm, createSimVm, pendingBlockContext } from './simulate-tx.js';
import { ForkedStateManager } from './state/forked-state-manager.js';
import { RpcState, StateReadError } from './state/rpc-state.js';

/**
 * The EVM worker of the simulator's piscina pool. One VM per thread on a {@link ForkedStateManager}
 * whose node reads are cached for the current head and dropped when a task names a newer one. A
 * thread runs one task at a time (checkpoint → run → revert on one state), so results depend only
 * on the task and the node's state at its head: the same with 1 thread or N.
 */

/** Where and under which rules to run. */
export interface EvmEnv {
  rpcUrl: string;
  chainId: number;
  hardfork: string;
  /**
   * Replay mode (`config.deterministic`): no re-read of the last block's hot keys on a new head, so
   * the reads a run makes depend on its tasks only, never on what another task read before.
   */
  deterministic?: boolean;
}

/** Run one pending transaction and report what it did. */
export interface SimulateTask {
  op: 'simulate';
  env: EvmEnv;
  head: BlockEvent;
  tx: DecodedTx;
  /**
   * The simulator's head generation when it queued the task, and the shared current one: a task
   * whose head is no longer current is answered `stale` without running. -1: always run (replay).
   */
  gen: number;
  headGen: Int32Array;
}

/** One step of a bundle to verify: a victim as signed, or a searcher call. */
export type VerifyStep = { victim: DecodedTx } | { call: BundleCall };

/** Run a bundle in order on the head state and measure the searcher's balance change. */
export interface VerifyTask {
  op: 'verify';
  env: EvmEnv;
  head: BlockEvent;
  steps: VerifyStep[];
  searcher: string;
  /** Token the profit is measured in (its balance delta is returned with the ether delta). */
  token: string;
}

/**
 * Move the thread's state to a new head now (drop the cache, re-read the last block's hot keys in
 * one batch), so the first simulation or verification on it does not pay for that.
 */
export interface WarmTask {
  op: 'warm';
  env: EvmEnv;
  head: BlockEvent;
}

export type EvmTask = SimulateTask | VerifyTask | WarmTask;

/** What a simulate task returns. */
export type SimulateOutcome =
  | {
      ok: true;
      result: Omit<SimulatedTx, 'tx' | 'simulatedNs'>;
      /** The sender's nonce on the head state: only its transaction with this nonce can run first in the next block. */
      senderNonce: bigint;
    }
  | { ok: false; reason: 'stale' }
  | { ok: false; reason: 'state'; code: string; message: string };

/** Per-transaction result of a verified bundle. */
export interface VerifyTxResult {
  status: string;
  gasUsed: bigint;
  revertReason: string | null;
  error: string | null;
}

/** What a verify task returns. */
export type VerifyOutcome =
  | { ok: true; txs: VerifyTxResult[]; tokenDelta: bigint; ethDelta: bigint }
  | { ok: false; reason: 'state'; code: string; message: string };

let current: { key: string; source: RpcState; sim: SimVm } | null = null;

/** Accounts and slots re-read in one batch when a task names a new head. */
const HOT_KEYS = 1024;

async function vmFor(env: EvmEnv, head: BlockEvent): Promise<SimVm> {
  const key = `${env.rpcUrl}|${env.chainId}|${env.hardfork}`;
  if (current === null || current.key !== key) {
    let hardfork = env.hardfork;
    if (hardfork === 'auto') {
      // The stage could not read it at start-up (node down then): read it now, or count the failure.
      try {
        hardfork = await detectHardfork(env.rpcUrl);
      } catch (err) {
        throw new StateReadError('STATE_TRANSPORT', (err as Error).message, { cause: err });
      }
    }
    const source = new RpcState({ url: env.rpcUrl, blockNumber: head.number });
    const sim = await createSimVm({ state: new ForkedStateManager(source), chainId: env.chainId, hardfork });
    current = { key, source, sim };
  } else if (current.source.blockNumber !== head.number) {
    const hot = current.source.hotKeys(HOT_KEYS);
    if (head.reorg) current.source.forgetCode();
    current.source.invalidate(head.number);
    current.sim.state.reset();
    // One batch for what the last block's simulations read; a failed read is retried on demand.
    if (env.deterministic !== true) await current.source.prefetch(hot.accounts, hot.slots).catch(() => {});
  }
  return current.sim;
}

function stateFailure(err: unknown): { ok: false; reason: 'state'; code: string; message: string } {
  if (err instanceof StateReadError) return { ok: false, reason: 'state', code: err.code, message: err.message };
  throw err;
}

/** Piscina entry: one task. */
export default async function run(task: EvmTask): Promise<SimulateOutcome | VerifyOutcome | null> {
  if (task.op === 'warm') {
    try {
      await vmFor(task.env, task.head);
    } catch (err) {
      stateFailure(err); // a failed read is retried on demand
    }
    return null;
  }
  if (task.op === 'simulate') {
    if (task.gen >= 0 && Atomics.load(task.headGen, 0) !== task.gen) return { ok: false, reason: 'stale' };
    try {
      const sim = await vmFor(task.env, task.head);
      const r = await simulateWithEffects(sim, task.tx, pendingBlockContext(task.head));
      // Read (and cached) by the run itself: the VM loads the sender first.
      const sender = await current!.source.account(task.tx.from);
      return {
        ok: true,
        senderNonce: sender.nonce,
        result: {
          block: task.head.number,
          status: r.status,
          gasUsed: r.gasUsed,
          logs: r.logs,
          revertReason: r.revertReason ?? null,
          error: r.status === 'success' ? null : (r.error ?? null),
          pools: r.pools,
          balanceChanges: r.balanceChanges,
        },
      };
    } catch (err) {
      return stateFailure(err);
    }
  }
  if (task.op === 'verify') {
    try {
      const sim = await vmFor(task.env, task.head);
      const txs = task.steps.map((s) => ('victim' in s ? s.victim : s.call));
      const r = await simulateBundle(sim, txs, pendingBlockContext(task.head), { watch: task.searcher, tokens: [task.token] });
      return {
        ok: true,
        txs: r.txs.map((t) => ({ status: t.status, gasUsed: t.gasUsed, revertReason: t.revertReason ?? null, error: t.error ?? null })),
        tokenDelta: r.tokenDeltas[0] ?? 0n,
        ethDelta: r.ethDelta,
      };
    } catch (err) {
      return stateFailure(err);
    }
  }
  throw new TypeError(`evm task: unknown op ${JSON.stringify((task as { op?: unknown }).op)}`);
}
