/**
 * Shared memory between the main thread (gateway, CLI) and the submitter's thread: the signing keys
 * (never in a config slice, which logs and captures may print) and the operator's pause, resume and
 * reset requests, with the submitter's state published back.
 */

/** Bytes of the secrets buffer: flags, the signer's key, the relay auth key. */
const SECRETS_BYTES = 8 + 32 + 32;

/** A buffer holding the signing key and the relay auth key (each optional). */
export function secretsBuffer(keys: { signer?: Uint8Array | null; relayAuth?: Uint8Array | null }): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(SECRETS_BYTES);
  const flags = new Int32Array(sab, 0, 2);
  const bytes = new Uint8Array(sab);
  if (keys.signer) {
    if (keys.signer.length !== 32) throw new TypeError('signer key must be 32 bytes');
    bytes.set(keys.signer, 8);
    flags[0] = 1;
  }
  if (keys.relayAuth) {
    if (keys.relayAuth.length !== 32) throw new TypeError('relay auth key must be 32 bytes');
    bytes.set(keys.relayAuth, 40);
    flags[1] = 1;
  }
  return sab;
}

/** Reads the keys out of {@link secretsBuffer} (copies; the caller wipes them after use). */
export function readSecrets(sab: SharedArrayBuffer | undefined): { signer: Uint8Array | null; relayAuth: Uint8Array | null } {
  if (sab === undefined) return { signer: null, relayAuth: null };
  const flags = new Int32Array(sab, 0, 2);
  const bytes = new Uint8Array(sab);
  return { signer: flags[0] === 1 ? bytes.slice(8, 40) : null, relayAuth: flags[1] === 1 ? bytes.slice(40, 72) : null };
}

/** Slots of the control buffer (Int32). */
export const CONTROL = {
  /** Bumped by the operator: pause, resume, reset (breakers and the guard). */
  PAUSE_SEQ: 0,
  RESUME_SEQ: 1,
  RESET_SEQ: 2,
  /** Published by the submitter: 0 running, 1 paused by the operator, 2 by losses, 3 by reverts. */
  PAUSED: 3,
  /** 1 when it sends (a key is loaded and mode is auto), 0 for dry run. */
  LIVE: 4,
  /** Breaker state per route (0 closed, 1 open, 2 half-open), in {@link BREAKER_ROUTES} order. */
  BREAKERS: 5,
} as const;

/** Routes whose breaker state {@link CONTROL.BREAKERS} publishes, in slot order. */
export const BREAKER_ROUTES = ['flashbots', 'mev-blocker', 'private-rpc', 'public'] as const;

const SLOTS = CONTROL.BREAKERS + BREAKER_ROUTES.length;

/** A fresh control buffer. */
export function controlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 4);
}

export const PAUSE_SOURCES = ['running', 'operator', 'losses', 'reverts'] as const;
export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** The submitter's state as the main thread sees it. */
export interface SubmitterState {
  live: boolean;
  paused: (typeof PAUSE_SOURCES)[number];
  breakers: Record<(typeof BREAKER_ROUTES)[number], (typeof BREAKER_STATES)[number]>;
}

/** Reads {@link SubmitterState} from a control buffer. */
export function readControl(sab: SharedArrayBuffer): SubmitterState {
  const i32 = new Int32Array(sab);
  const breakers = {} as SubmitterState['breakers'];
  BREAKER_ROUTES.forEach((r, k) => {
    breakers[r] = BREAKER_STATES[Atomics.load(i32, CONTROL.BREAKERS + k)] ?? 'closed';
  });
  return { live: Atomics.load(i32, CONTROL.LIVE) === 1, paused: PAUSE_SOURCES[Atomics.load(i32, CONTROL.PAUSED)] ?? 'running', breakers };
}

/** Asks the submitter to pause, resume or reset (breakers and the auto-pause guard); it acts at its next turn. */
export function requestControl(sab: SharedArrayBuffer, op: 'pause' | 'resume' | 'reset'): void {
  const i32 = new Int32Array(sab);
  Atomics.add(i32, op === 'pause' ? CONTROL.PAUSE_SEQ : op === 'resume' ? CONTROL.RESUME_SEQ : CONTROL.RESET_SEQ, 1);
}
