import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BusySpin, SpinThenWait, createWaitStrategy } from '../../../src/runtime/ring/wait-strategy.js';

const never = () => false;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** A sleeper that really blocks for the given time, as the ring's futex wait does when nobody writes. */
const realSleep = (ms: number) => void Atomics.wait(sleepCell, 0, 0, ms);

describe('wait strategies', () => {
  it('default: createWaitStrategy picks by name', () => {
    const wait = createWaitStrategy('wait', 50);
    assert.ok(wait instanceof SpinThenWait);
    assert.equal(wait.name, 'wait');
    assert.equal(wait.spinMicros, 50);
    const spin = createWaitStrategy('busy-spin', 50);
    assert.ok(spin instanceof BusySpin);
    assert.equal(spin.name, 'busy-spin');
  });

  it('behavior: SpinThenWait returns true at once when ready, without sleeping', () => {
    let probes = 0;
    let slept = 0;
    assert.equal(new SpinThenWait(1_000).await(() => ++probes > 0, () => slept++, 100), true);
    assert.equal(probes, 1);
    assert.equal(slept, 0);
  });

  it('behavior: SpinThenWait returns true without sleeping when the condition holds during the spin', () => {
    let probes = 0;
    let slept = 0;
    assert.equal(new SpinThenWait(100_000).await(() => ++probes >= 500, () => slept++, 100), true);
    assert.equal(probes, 500);
    assert.equal(slept, 0);
  });

  it('behavior: SpinThenWait spins for about spinMicros, then sleeps via the sleeper with the timeout', () => {
    let probes = 0;
    let sleptAt = -1;
    let sleptFor = -1;
    const t0 = performance.now();
    const ok = new SpinThenWait(2_000).await(
      () => (probes++, false),
      (ms) => {
        sleptAt = performance.now() - t0;
        sleptFor = ms;
      },
      250,
    );
    assert.equal(ok, false);
    assert.ok(sleptAt >= 2, `spun ${sleptAt} ms before sleeping`);
    assert.equal(sleptFor, 250, 'the sleeper gets the timeout');
    assert.ok(probes > 64, 'probed while spinning');
  });

  it('behavior: SpinThenWait with spinMicros 0 sleeps straight away', () => {
    let probes = 0;
    let slept = 0;
    assert.equal(new SpinThenWait(0).await(() => (probes++, false), () => slept++, 10), false);
    assert.equal(slept, 1);
    assert.equal(probes, 2, 'one probe before the sleep, one after');
  });

  it('behavior: SpinThenWait returns true when the condition came true during the sleep', () => {
    let ready = false;
    assert.equal(new SpinThenWait(10).await(() => ready, () => (ready = true), 1_000), true);
  });

  it('behavior: SpinThenWait returns false on timeout', () => {
    const t0 = performance.now();
    assert.equal(new SpinThenWait(50).await(never, realSleep, 30), false);
    const took = performance.now() - t0;
    assert.ok(took >= 29, `returned after the timeout (${took} ms)`);
    assert.ok(took < 1_000, `and not much later (${took} ms)`);
  });

  it('behavior: SpinThenWait returns after one wake-up, letting the caller re-check its stop flags', () => {
    // The ring's wakeConsumer relies on this: a sleeper woken without data returns false at once.
    let slept = 0;
    const t0 = performance.now();
    assert.equal(new SpinThenWait(0).await(never, () => slept++, 10_000), false);
    assert.equal(slept, 1);
    assert.ok(performance.now() - t0 < 1_000);
  });

  it('behavior: SpinThenWait with a zero timeout never sleeps', () => {
    let slept = 0;
    assert.equal(new SpinThenWait(100).await(never, () => slept++, 0), false);
    assert.equal(slept, 0);
  });

  it('behavior: BusySpin never calls the sleeper and honours the timeout', () => {
    const t0 = performance.now();
    assert.equal(new BusySpin().await(never, () => assert.fail('busy-spin slept'), 20), false);
    const took = performance.now() - t0;
    assert.ok(took >= 19, `returned after the timeout (${took} ms)`);
    assert.ok(took < 1_000, `and not much later (${took} ms)`);
    let n = 0;
    assert.equal(new BusySpin().await(() => ++n > 1_000, () => assert.fail('busy-spin slept'), 10_000), true);
    assert.equal(n, 1_001);
    assert.equal(new BusySpin().await(() => true, () => assert.fail('busy-spin slept'), 0), true);
  });
});
