import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BreakerState, CircuitBreaker, type CircuitBreakerOptions, type PauseState, SubmissionGuard, type SubmissionGuardOptions } from '../../../src/actors/submitter/circuit-breaker.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

function breaker(clock: ReturnType<typeof fakeClock>, options: Partial<CircuitBreakerOptions> = {}) {
  const transitions: string[] = [];
  const b = new CircuitBreaker({
    failureThreshold: 3,
    errorRate: 0.5,
    minRequests: 10,
    windowMs: 10_000,
    cooldownMs: 5_000,
    now: clock.now,
    onTransition: (from, to, why) => transitions.push(`${from}→${to}:${why}`),
    ...options,
  });
  return { b, transitions };
}

describe('circuit-breaker', () => {
  describe('CircuitBreaker', () => {
    it('default: starts closed and allows', () => {
      const { b } = breaker(fakeClock());
      assert.equal(b.state, 'closed');
      assert.equal(b.allow(), true);
      assert.deepEqual(b.snapshot(), { state: 'closed', consecutiveFailures: 0, windowRequests: 0, windowFailures: 0, openedAt: null, reason: null, probeInFlight: false, opens: 0 });
    });

    it('behavior: opens after N consecutive failures; a success in between restarts the count', () => {
      const clock = fakeClock();
      const { b, transitions } = breaker(clock);
      b.failure();
      b.failure();
      b.success();
      b.failure();
      b.failure();
      assert.equal(b.state, 'closed');
      b.failure();
      assert.equal(b.state, 'open');
      assert.equal(b.allow(), false);
      const s = b.snapshot();
      assert.equal(s.reason, 'consecutive-failures');
      assert.equal(s.openedAt, clock.now());
      assert.equal(s.opens, 1);
      assert.deepEqual(transitions, ['closed→open:consecutive-failures']);
    });

    it('behavior: opens when the error rate over the window reaches the threshold with minRequests', () => {
      const clock = fakeClock();
      const { b } = breaker(clock, { failureThreshold: 100 });
      // Alternate: 50% errors, never 2 failures in a row. The 10th outcome makes minRequests.
      for (let i = 0; i < 9; i++) {
        if (i % 2 === 0) b.success();
        else b.failure();
        clock.advance(100);
      }
      assert.equal(b.state, 'closed', '4 of 9 below minRequests');
      b.failure(); // 5 of 10 = 0.5
      assert.equal(b.state, 'open');
      assert.equal(b.snapshot().reason, 'error-rate');
    });

    it('behavior: outcomes older than the window no longer count toward the error rate', () => {
      const clock = fakeClock();
      const { b } = breaker(clock, { failureThreshold: 100, minRequests: 4 });
      b.failure();
      b.failure();
      b.success();
      clock.advance(10_000); // those three leave the window
      b.success();
      b.success();
      b.success();
      assert.deepEqual([b.snapshot().windowRequests, b.snapshot().windowFailures], [3, 0]);
      b.failure(); // 1 of 4
      assert.equal(b.state, 'closed');
      b.failure(); // 2 of 5
      assert.equal(b.state, 'closed');
      b.failure(); // 3 of 6 = 0.5
      assert.equal(b.state, 'open');
    });

    it('behavior: open → half-open after the cooldown; exactly one probe in flight; success closes', () => {
      const clock = fakeClock();
      const { b, transitions } = breaker(clock);
      for (let i = 0; i < 3; i++) b.failure();
      clock.advance(4_999);
      assert.equal(b.state, 'open');
      assert.equal(b.allow(), false);
      clock.advance(1);
      assert.equal(b.state, 'half-open');
      assert.equal(b.snapshot().probeInFlight, false);
      assert.equal(b.allow(), true, 'the probe');
      assert.equal(b.allow(), false, 'a second caller while the probe is in flight');
      assert.equal(b.snapshot().probeInFlight, true);
      clock.advance(1_000);
      assert.equal(b.allow(), false);
      b.success();
      assert.equal(b.state, 'closed');
      assert.equal(b.allow(), true);
      assert.equal(b.allow(), true);
      assert.deepEqual(b.snapshot(), { state: 'closed', consecutiveFailures: 0, windowRequests: 0, windowFailures: 0, openedAt: null, reason: null, probeInFlight: false, opens: 1 });
      assert.deepEqual(transitions, ['closed→open:consecutive-failures', 'open→half-open:cooldown', 'half-open→closed:probe-succeeded']);
    });

    it('behavior: a failed probe opens the breaker again and restarts the cooldown', () => {
      const clock = fakeClock();
      const { b, transitions } = breaker(clock);
      for (let i = 0; i < 3; i++) b.failure();
      clock.advance(5_000);
      assert.equal(b.allow(), true);
      clock.advance(200);
      b.failure();
      assert.equal(b.state, 'open');
      assert.equal(b.snapshot().reason, 'probe-failed');
      assert.equal(b.snapshot().openedAt, clock.now());
      assert.equal(b.snapshot().opens, 2);
      clock.advance(4_999);
      assert.equal(b.allow(), false);
      clock.advance(1);
      assert.equal(b.allow(), true);
      assert.deepEqual(transitions, ['closed→open:consecutive-failures', 'open→half-open:cooldown', 'half-open→open:probe-failed', 'open→half-open:cooldown']);
    });

    it('behavior: a probe never answered frees the slot after probeTimeoutMs', () => {
      const clock = fakeClock();
      const { b } = breaker(clock, { probeTimeoutMs: 2_000 });
      for (let i = 0; i < 3; i++) b.failure();
      clock.advance(5_000);
      assert.equal(b.allow(), true);
      clock.advance(1_999);
      assert.equal(b.allow(), false);
      clock.advance(1);
      assert.equal(b.allow(), true, 'a new probe');
      assert.equal(b.allow(), false);
    });

    it('behavior: outcomes reported while open (sends allowed before it opened) change nothing', () => {
      const clock = fakeClock();
      const { b } = breaker(clock);
      for (let i = 0; i < 3; i++) b.failure();
      const before = b.snapshot();
      b.success();
      b.failure();
      assert.deepEqual(b.snapshot(), before);
    });

    it('behavior: reset closes from any state and clears counts', () => {
      const clock = fakeClock();
      const { b, transitions } = breaker(clock);
      for (let i = 0; i < 3; i++) b.failure();
      b.reset();
      assert.equal(b.state, 'closed');
      assert.equal(b.snapshot().opens, 0);
      b.failure();
      b.failure();
      assert.equal(b.state, 'closed', 'the count restarted');
      b.failure();
      clock.advance(5_000);
      assert.equal(b.state, 'half-open');
      b.reset();
      assert.equal(b.state, 'closed');
      assert.deepEqual(transitions, ['closed→open:consecutive-failures', 'open→closed:reset', 'closed→open:consecutive-failures', 'open→half-open:cooldown', 'half-open→closed:reset']);
    });

    it('behavior: a relay that times out, returns 500 or garbage opens its breaker and the fallback route takes over', () => {
      const clock = fakeClock();
      const routes = ['flashbots', 'mev-blocker'] as const;
      const breakers = { flashbots: breaker(clock).b, 'mev-blocker': breaker(clock).b };
      const faults = ['timeout', 'http 500', 'garbage'];
      const used: string[] = [];
      for (let i = 0; i < 6; i++) {
        const route = routes.find((r) => breakers[r].allow());
        assert.ok(route !== undefined);
        used.push(route === 'flashbots' ? `flashbots:${faults[i]}` : route);
        if (route === 'flashbots') breakers.flashbots.failure();
        else breakers['mev-blocker'].success();
        clock.advance(10);
      }
      assert.deepEqual(used, ['flashbots:timeout', 'flashbots:http 500', 'flashbots:garbage', 'mev-blocker', 'mev-blocker', 'mev-blocker']);
      assert.equal(breakers.flashbots.state satisfies BreakerState, 'open');
    });

    it('args: invalid options throw a RangeError naming the field', () => {
      const ok: CircuitBreakerOptions = { failureThreshold: 3, errorRate: 0.5, minRequests: 10, windowMs: 1000, cooldownMs: 0 };
      assert.doesNotThrow(() => new CircuitBreaker(ok));
      for (const [field, value] of [
        ['failureThreshold', 0],
        ['failureThreshold', 1.5],
        ['errorRate', 0],
        ['errorRate', 1.1],
        ['errorRate', Number.NaN],
        ['minRequests', 0],
        ['windowMs', 0],
        ['windowMs', Number.POSITIVE_INFINITY],
        ['cooldownMs', -1],
        ['probeTimeoutMs', 0],
      ] as const) {
        assert.throws(() => new CircuitBreaker({ ...ok, [field]: value }), (err: unknown) => err instanceof RangeError && err.message.includes(field), `${field} = ${value}`);
      }
    });

    it('args: cooldownMs 0 half-opens at once', () => {
      const clock = fakeClock();
      const { b } = breaker(clock, { cooldownMs: 0 });
      for (let i = 0; i < 3; i++) b.failure();
      assert.equal(b.state, 'half-open');
      assert.equal(b.allow(), true);
      assert.equal(b.allow(), false);
    });
  });

  describe('SubmissionGuard', () => {
    const ETH = 10n ** 18n;

    function guard(clock: ReturnType<typeof fakeClock>, options: Partial<SubmissionGuardOptions> = {}) {
      const changes: Array<PauseState | null> = [];
      const g = new SubmissionGuard({ maxLossWei: ETH, maxRevertRate: 0.5, minOutcomes: 4, windowMs: 60_000, now: clock.now, onChange: (p) => changes.push(p), ...options });
      return { g, changes };
    }

    it('default: not paused', () => {
      const { g } = guard(fakeClock());
      assert.equal(g.paused(), null);
      assert.deepEqual(g.snapshot(), { paused: null, windowOutcomes: 0, windowLanded: 0, windowReverted: 0, windowNetWei: '0', revertRate: null });
    });

    it('behavior: pauses when the net realized loss over the window reaches maxLossWei', () => {
      const clock = fakeClock();
      const { g, changes } = guard(clock);
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: ETH / 2n }), null);
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: -ETH }), null, 'net −0.5 ETH');
      clock.advance(1_000);
      const p = g.recordOutcome({ status: 'included', realizedNetWei: -ETH / 2n });
      assert.ok(p !== null);
      assert.equal(p.by, 'losses');
      assert.equal(p.at, clock.now());
      assert.match(p.reason, /loss 1000000000000000000 wei/);
      assert.deepEqual(g.paused(), p);
      assert.deepEqual(changes, [p]);
      assert.ok(Object.isFrozen(g.paused()));
    });

    it('behavior: losses older than the window no longer count', () => {
      const clock = fakeClock();
      const { g } = guard(clock);
      g.recordOutcome({ status: 'included', realizedNetWei: -ETH + 1n });
      clock.advance(60_000);
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: -ETH + 1n }), null);
      assert.equal(g.snapshot().windowNetWei, String(-ETH + 1n));
    });

    it('behavior: pauses when the revert rate of landed outcomes reaches the limit with minOutcomes landed', () => {
      const clock = fakeClock();
      const { g } = guard(clock);
      g.recordOutcome({ status: 'reverted', realizedNetWei: -1n });
      g.recordOutcome({ status: 'reverted', realizedNetWei: -1n });
      // Bundles that did not land are neither reverts nor landed.
      for (let i = 0; i < 10; i++) assert.equal(g.recordOutcome({ status: 'not-included', realizedNetWei: 0n }), null);
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: 5n }), null, '2 of 3 landed: below minOutcomes');
      const p = g.recordOutcome({ status: 'included', realizedNetWei: 5n }); // 2 of 4 = 0.5
      assert.equal(p?.by, 'reverts');
      assert.deepEqual(g.snapshot(), { paused: p, windowOutcomes: 14, windowLanded: 4, windowReverted: 2, windowNetWei: '8', revertRate: 0.5 });
    });

    it('behavior: reverts older than the window no longer count', () => {
      const clock = fakeClock();
      const { g } = guard(clock);
      g.recordOutcome({ status: 'reverted', realizedNetWei: 0n });
      g.recordOutcome({ status: 'reverted', realizedNetWei: 0n });
      clock.advance(60_001);
      for (let i = 0; i < 3; i++) g.recordOutcome({ status: 'included', realizedNetWei: 0n });
      assert.equal(g.recordOutcome({ status: 'reverted', realizedNetWei: 0n }), null, '1 of 4');
      assert.equal(g.paused(), null);
    });

    it('behavior: an operator pauses and resumes; a second pause keeps the first', () => {
      const clock = fakeClock();
      const { g, changes } = guard(clock);
      const p = g.pause('operator', 'relay maintenance');
      assert.deepEqual(p, { by: 'operator', reason: 'relay maintenance', at: clock.now() });
      clock.advance(10);
      assert.equal(g.pause('operator', 'again'), p);
      // Outcomes are still recorded while paused, but start no new pause.
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: -2n * ETH }), null);
      assert.equal(g.paused(), p);
      assert.equal(g.resume(), true);
      assert.equal(g.resume(), false);
      assert.equal(g.paused(), null);
      assert.deepEqual(changes, [p, null]);
    });

    it('behavior: resume keeps the window (one more loss pauses again); reset forgets it', () => {
      const clock = fakeClock();
      const { g } = guard(clock);
      g.recordOutcome({ status: 'included', realizedNetWei: -ETH });
      assert.equal(g.paused()?.by, 'losses');
      g.resume();
      assert.equal(g.paused(), null);
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: -1n })?.by, 'losses');
      g.reset();
      assert.equal(g.paused(), null);
      assert.equal(g.snapshot().windowOutcomes, 0);
      assert.equal(g.recordOutcome({ status: 'included', realizedNetWei: -1n }), null);
    });

    it('args: invalid options and outcomes are refused', () => {
      const ok: SubmissionGuardOptions = { maxLossWei: ETH, maxRevertRate: 0.5, minOutcomes: 4, windowMs: 60_000 };
      assert.doesNotThrow(() => new SubmissionGuard(ok));
      for (const [field, value] of [
        ['maxLossWei', 0n],
        ['maxLossWei', 5],
        ['maxRevertRate', 0],
        ['maxRevertRate', 2],
        ['minOutcomes', 0],
        ['windowMs', -1],
      ] as const) {
        assert.throws(() => new SubmissionGuard({ ...ok, [field]: value } as SubmissionGuardOptions), (err: unknown) => err instanceof RangeError && err.message.includes(field), `${field} = ${String(value)}`);
      }
      const g = new SubmissionGuard(ok);
      assert.throws(() => g.recordOutcome({ status: 'weird' as never, realizedNetWei: 0n }), TypeError);
      assert.throws(() => g.recordOutcome({ status: 'included', realizedNetWei: 1 as never }), TypeError);
      assert.throws(() => g.pause('losses' as never, 'x'), TypeError);
    });
  });
});
