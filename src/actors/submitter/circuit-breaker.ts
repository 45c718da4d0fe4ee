/**
 * Two brakes on submission.
 *
 * {@link CircuitBreaker}, one per route: stops sending to a route that keeps failing and probes it
 * again after a cooldown.
 *
 * ```
 *            N consecutive failures, or error rate ≥ threshold over the window (≥ minRequests)
 *   closed ─────────────────────────────────────────────────────────────────────────────► open
 *     ▲                                                                                    │
 *     │ probe succeeds                          cooldown elapsed (on the next allow/state) │
 *     └──────────────────────────── half-open ◄────────────────────────────────────────────┘
 *                                      │  one probe in flight at a time
 *                                      └── probe fails ──► open (cooldown starts again)
 * ```
 *
 * {@link SubmissionGuard}, one per engine: pauses all submission when realized losses or the revert
 * rate over a window cross their thresholds, or when an operator says so. Only an operator (resume,
 * reset) lifts a pause: a brake that released itself would let the same losses happen again.
 *
 * Neither is on the per-record hot path (a few calls per submission); both take an injectable clock
 * so tests drive every transition.
 */

/** Milliseconds, monotonic, on the epoch scale: `timeOrigin` plus `performance.now()` does not jump with the wall clock. */
const monotonicEpochMs = (): number => performance.timeOrigin + performance.now();

/** A circuit breaker's state. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why a breaker last opened. */
export type BreakerReason = 'consecutive-failures' | 'error-rate' | 'probe-failed';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker (≥ 1). */
  failureThreshold: number;
  /** Error rate in (0, 1] over `windowMs` that opens the breaker, once the window holds `minRequests`. */
  errorRate: number;
  /** Outcomes the window must hold before its error rate counts (≥ 1). */
  minRequests: number;
  /** Length of the error-rate window, ms (> 0). */
  windowMs: number;
  /** Time open before a probe is allowed, ms (≥ 0). */
  cooldownMs: number;
  /**
   * How long a half-open probe may stay unanswered before another is allowed, ms (> 0); default
   * `cooldownMs` (or 1000 when that is 0). Keeps a lost probe from holding the breaker half-open forever.
   */
  probeTimeoutMs?: number;
  /** Clock in ms; default monotonic epoch ms. */
  now?: () => number;
  /** Called on every state change (for logs and metrics). */
  onTransition?: (from: BreakerState, to: BreakerState, reason: BreakerReason | 'cooldown' | 'probe-succeeded' | 'reset') => void;
}

/** A breaker's state and counters, for `/health`, the gateway and logs. */
export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  /** Outcomes and failures inside the current window. */
  windowRequests: number;
  windowFailures: number;
  /** When the breaker last opened (clock ms), or null while it has not since the last close. */
  openedAt: number | null;
  /** Why it last opened, or null while it has not since the last close. */
  reason: BreakerReason | null;
  probeInFlight: boolean;
  /** Times it has opened since construction or the last reset. */
  opens: number;
}

/**
 * Closed → open → half-open → closed, as drawn above. Outcomes are reported with
 * {@link success} and {@link failure}; {@link allow} says whether to send. In half-open, the outcome
 * reported is taken as the probe's.
 */
export class CircuitBreaker {
  readonly #failureThreshold: number;
  readonly #errorRate: number;
  readonly #minRequests: number;
  readonly #windowMs: number;
  readonly #cooldownMs: number;
  readonly #probeTimeoutMs: number;
  readonly #now: () => number;
  readonly #onTransition: CircuitBreakerOptions['onTransition'];

  #state: BreakerState = 'closed';
  #consecutive = 0;
  /** Window outcomes, oldest first, from `#head`: times and whether each failed. */
  #times: number[] = [];
  #failed: boolean[] = [];
  #head = 0;
  #windowFailures = 0;
  #openedAt: number | null = null;
  #reason: BreakerReason | null = null;
  /** When the half-open probe was allowed, or null when none is in flight. */
  #probeAt: number | null = null;
  #opens = 0;

  constructor(options: CircuitBreakerOptions) {
    const { failureThreshold, errorRate, minRequests, windowMs, cooldownMs } = options;
    if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) throw new RangeError(`CircuitBreaker: failureThreshold must be an integer ≥ 1, got ${failureThreshold}`);
    if (typeof errorRate !== 'number' || !(errorRate > 0 && errorRate <= 1)) throw new RangeError(`CircuitBreaker: errorRate must be in (0, 1], got ${errorRate}`);
    if (!Number.isSafeInteger(minRequests) || minRequests < 1) throw new RangeError(`CircuitBreaker: minRequests must be an integer ≥ 1, got ${minRequests}`);
    if (typeof windowMs !== 'number' || !(windowMs > 0) || !Number.isFinite(windowMs)) throw new RangeError(`CircuitBreaker: windowMs must be a finite number > 0, got ${windowMs}`);
    if (typeof cooldownMs !== 'number' || !(cooldownMs >= 0) || !Number.isFinite(cooldownMs)) throw new RangeError(`CircuitBreaker: cooldownMs must be a finite number ≥ 0, got ${cooldownMs}`);
    const probeTimeoutMs = options.probeTimeoutMs ?? (cooldownMs > 0 ? cooldownMs : 1000);
    if (typeof probeTimeoutMs !== 'number' || !(probeTimeoutMs > 0) || !Number.isFinite(probeTimeoutMs)) throw new RangeError(`CircuitBreaker: probeTimeoutMs must be a finite number > 0, got ${probeTimeoutMs}`);
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('CircuitBreaker: now must be a function');
    this.#failureThreshold = failureThreshold;
    this.#errorRate = errorRate;
    this.#minRequests = minRequests;
    this.#windowMs = windowMs;
    this.#cooldownMs = cooldownMs;
    this.#probeTimeoutMs = probeTimeoutMs;
    this.#now = options.now ?? monotonicEpochMs;
    this.#onTransition = options.onTransition;
  }

  /** The current state (open turns half-open once the cooldown has elapsed). */
  get state(): BreakerState {
    this.#tick(this.#now());
    return this.#state;
  }

  /**
   * Whether to send now. Closed: yes. Open: no. Half-open: yes for exactly one probe at a time (the
   * caller that gets true must report its outcome); no for everyone else until it is reported or
   * `probeTimeoutMs` passes.
   */
  allow(): boolean {
    const now = this.#now();
    this.#tick(now);
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') return false;
    if (this.#probeAt !== null && now - this.#probeAt < this.#probeTimeoutMs) return false;
    this.#probeAt = now;
    return true;
  }

  /** A send succeeded. Half-open: the probe succeeded, so the breaker closes with a fresh window. */
  success(): void {
    const now = this.#now();
    this.#tick(now);
    if (this.#state === 'half-open') {
      this.#close('probe-succeeded');
      return;
    }
    if (this.#state === 'open') return; // a send allowed before the breaker opened; it changes nothing
    this.#consecutive = 0;
    this.#record(now, false);
  }

  /** A send failed. Closed: may open the breaker. Half-open: the probe failed, so it opens again. */
  failure(): void {
    const now = this.#now();
    this.#tick(now);
    if (this.#state === 'half-open') {
      this.#open(now, 'probe-failed');
      return;
    }
    if (this.#state === 'open') return;
    this.#consecutive++;
    this.#record(now, true);
    if (this.#consecutive >= this.#failureThreshold) this.#open(now, 'consecutive-failures');
    else if (this.#count() >= this.#minRequests && this.#windowFailures >= this.#errorRate * this.#count()) this.#open(now, 'error-rate');
  }

  /** Closes the breaker and forgets every outcome and count (operator action). */
  reset(): void {
    this.#close('reset');
    this.#opens = 0;
  }

  /** State and counters. @remarks Allocates; not for the hot path. */
  snapshot(): BreakerSnapshot {
    const now = this.#now();
    this.#tick(now);
    this.#prune(now);
    return {
      state: this.#state,
      consecutiveFailures: this.#consecutive,
      windowRequests: this.#count(),
      windowFailures: this.#windowFailures,
      openedAt: this.#openedAt,
      reason: this.#reason,
      probeInFlight: this.#state === 'half-open' && this.#probeAt !== null && now - this.#probeAt < this.#probeTimeoutMs,
      opens: this.#opens,
    };
  }

  /** Open → half-open once the cooldown has elapsed. */
  #tick(now: number): void {
    if (this.#state === 'open' && now - this.#openedAt! >= this.#cooldownMs) {
      this.#state = 'half-open';
      this.#probeAt = null;
      this.#onTransition?.('open', 'half-open', 'cooldown');
    }
  }

  #open(now: number, reason: BreakerReason): void {
    const from = this.#state;
    this.#state = 'open';
    this.#openedAt = now;
    this.#reason = reason;
    this.#probeAt = null;
    this.#opens++;
    this.#onTransition?.(from, 'open', reason);
  }

  #close(why: 'probe-succeeded' | 'reset'): void {
    const from = this.#state;
    this.#state = 'closed';
    this.#consecutive = 0;
    this.#times = [];
    this.#failed = [];
    this.#head = 0;
    this.#windowFailures = 0;
    this.#openedAt = null;
    this.#reason = null;
    this.#probeAt = null;
    if (from !== 'closed') this.#onTransition?.(from, 'closed', why);
  }

  #record(now: number, failed: boolean): void {
    this.#prune(now);
    this.#times.push(now);
    this.#failed.push(failed);
    if (failed) this.#windowFailures++;
  }

  #count(): number {
    return this.#times.length - this.#head;
  }

  /** Drops outcomes older than the window; compacts the arrays once half of them is dead. */
  #prune(now: number): void {
    const cutoff = now - this.#windowMs;
    while (this.#head < this.#times.length && this.#times[this.#head]! <= cutoff) {
      if (this.#failed[this.#head]) this.#windowFailures--;
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#failed = this.#failed.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** What ended a submission, as the guard counts it. `not-included`: nothing landed (a bundle that expired). */
export type OutcomeStatus = 'included' | 'reverted' | 'not-included';

/** One submission's outcome. */
export interface SubmissionOutcome {
  status: OutcomeStatus;
  /** Realized profit (positive) or loss (negative) in wei, gas included; 0n when nothing landed. */
  realizedNetWei: bigint;
}

/** Who paused submission. */
export type PauseSource = 'operator' | 'losses' | 'reverts';

/** An active pause. */
export interface PauseState {
  by: PauseSource;
  reason: string;
  /** Clock ms. */
  at: number;
}

/** Options of {@link SubmissionGuard}. */
export interface SubmissionGuardOptions {
  /** Net realized loss over the window (wei, > 0) at which submission pauses. */
  maxLossWei: bigint;
  /** Reverted share of the landed outcomes in the window, in (0, 1], at which submission pauses. */
  maxRevertRate: number;
  /** Landed outcomes (included + reverted) the window must hold before the revert rate counts (≥ 1). */
  minOutcomes: number;
  /** Window for both, ms (> 0). */
  windowMs: number;
  /** Clock in ms; default monotonic epoch ms. */
  now?: () => number;
  /** Called when a pause starts or ends (for logs and metrics). */
  onChange?: (paused: PauseState | null) => void;
}

/** The guard's state and window, for the gateway and logs; wei as decimal strings (JSON-safe). */
export interface GuardSnapshot {
  paused: PauseState | null;
  windowOutcomes: number;
  windowLanded: number;
  windowReverted: number;
  /** Sum of `realizedNetWei` over the window, decimal. */
  windowNetWei: string;
  /** Reverted / landed over the window, or null with nothing landed. */
  revertRate: number | null;
}

interface Outcome {
  at: number;
  status: OutcomeStatus;
  netWei: bigint;
}

/**
 * The auto-pause. Every outcome is recorded; when the net realized result over the window falls to
 * −`maxLossWei` or below (losses net of profits, so a profitable engine's occasional loss does not
 * stop it), or the reverted share of landed outcomes reaches `maxRevertRate` with at least
 * `minOutcomes` landed, submission pauses until an operator resumes or resets. Outcomes still arrive
 * and are recorded while paused.
 */
export class SubmissionGuard {
  readonly #maxLossWei: bigint;
  readonly #maxRevertRate: number;
  readonly #minOutcomes: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #onChange: SubmissionGuardOptions['onChange'];
  #window: Outcome[] = [];
  #head = 0;
  #netWei = 0n;
  #landed = 0;
  #reverted = 0;
  #paused: PauseState | null = null;

  constructor(options: SubmissionGuardOptions) {
    const { maxLossWei, maxRevertRate, minOutcomes, windowMs } = options;
    if (typeof maxLossWei !== 'bigint' || maxLossWei <= 0n) throw new RangeError(`SubmissionGuard: maxLossWei must be a bigint > 0, got ${String(maxLossWei)}`);
    if (typeof maxRevertRate !== 'number' || !(maxRevertRate > 0 && maxRevertRate <= 1)) throw new RangeError(`SubmissionGuard: maxRevertRate must be in (0, 1], got ${maxRevertRate}`);
    if (!Number.isSafeInteger(minOutcomes) || minOutcomes < 1) throw new RangeError(`SubmissionGuard: minOutcomes must be an integer ≥ 1, got ${minOutcomes}`);
    if (typeof windowMs !== 'number' || !(windowMs > 0) || !Number.isFinite(windowMs)) throw new RangeError(`SubmissionGuard: windowMs must be a finite number > 0, got ${windowMs}`);
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('SubmissionGuard: now must be a function');
    this.#maxLossWei = maxLossWei;
    this.#maxRevertRate = maxRevertRate;
    this.#minOutcomes = minOutcomes;
    this.#windowMs = windowMs;
    this.#now = options.now ?? monotonicEpochMs;
    this.#onChange = options.onChange;
  }

  /**
   * Records an outcome and pauses when a threshold is crossed (losses are checked first). Returns the
   * pause this outcome started, or null.
   */
  recordOutcome(outcome: SubmissionOutcome): PauseState | null {
    const { status, realizedNetWei } = outcome;
    if (status !== 'included' && status !== 'reverted' && status !== 'not-included') throw new TypeError(`SubmissionGuard.recordOutcome: unknown status ${String(status)}`);
    if (typeof realizedNetWei !== 'bigint') throw new TypeError('SubmissionGuard.recordOutcome: realizedNetWei must be a bigint');
    const now = this.#now();
    this.#prune(now);
    this.#window.push({ at: now, status, netWei: realizedNetWei });
    this.#netWei += realizedNetWei;
    if (status !== 'not-included') this.#landed++;
    if (status === 'reverted') this.#reverted++;
    if (this.#paused !== null) return null;
    if (-this.#netWei >= this.#maxLossWei) {
      return this.#pause({ by: 'losses', reason: `net realized loss ${-this.#netWei} wei over ${this.#windowMs} ms reached the limit of ${this.#maxLossWei} wei`, at: now });
    }
    if (this.#landed >= this.#minOutcomes && this.#reverted >= this.#maxRevertRate * this.#landed) {
      return this.#pause({ by: 'reverts', reason: `${this.#reverted} of ${this.#landed} landed submissions reverted over ${this.#windowMs} ms, at or above the limit of ${this.#maxRevertRate}`, at: now });
    }
    return null;
  }

  /** Pauses submission (operator action). A pause already active stays as it is and is returned. */
  pause(by: 'operator', reason: string): PauseState {
    if (by !== 'operator') throw new TypeError(`SubmissionGuard.pause: by must be 'operator', got ${String(by)}`);
    if (this.#paused !== null) return this.#paused;
    return this.#pause({ by, reason: String(reason), at: this.#now() });
  }

  /**
   * Lifts the pause (operator action); the window is kept, so one more outcome on the wrong side of a
   * limit still exceeded pauses again. Returns whether a pause was lifted.
   */
  resume(): boolean {
    if (this.#paused === null) return false;
    this.#paused = null;
    this.#onChange?.(null);
    return true;
  }

  /** Lifts any pause and forgets the window (operator action): the limits count from now. */
  reset(): void {
    this.#window = [];
    this.#head = 0;
    this.#netWei = 0n;
    this.#landed = 0;
    this.#reverted = 0;
    this.resume();
  }

  /** The active pause (frozen), or null when submission may go ahead. */
  paused(): PauseState | null {
    return this.#paused;
  }

  /** State and window. @remarks Allocates; not for the hot path. */
  snapshot(): GuardSnapshot {
    this.#prune(this.#now());
    return {
      paused: this.#paused === null ? null : { ...this.#paused },
      windowOutcomes: this.#window.length - this.#head,
      windowLanded: this.#landed,
      windowReverted: this.#reverted,
      windowNetWei: this.#netWei.toString(),
      revertRate: this.#landed === 0 ? null : this.#reverted / this.#landed,
    };
  }

  #pause(p: PauseState): PauseState {
    this.#paused = Object.freeze(p);
    this.#onChange?.(p);
    return p;
  }

  #prune(now: number): void {
    const cutoff = now - this.#windowMs;
    while (this.#head < this.#window.length && this.#window[this.#head]!.at <= cutoff) {
      const o = this.#window[this.#head++]!;
      this.#netWei -= o.netWei;
      if (o.status !== 'not-included') this.#landed--;
      if (o.status === 'reverted') this.#reverted--;
    }
    if (this.#head > 64 && this.#head * 2 > this.#window.length) {
      this.#window = this.#window.slice(this.#head);
      this.#head = 0;
    }
  }
}
