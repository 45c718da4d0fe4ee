/** Stable error codes; tests, logs and metrics key on these, so never rename one. */
export type OrionErrorCode =
  | 'ORION_ERR_CONFIG'
  | 'ORION_ERR_SCHEMA_MISMATCH'
  | 'ORION_ERR_ACTOR_BOOTSTRAP'
  | 'ORION_ERR_ACTOR_CRASHED'
  | 'ORION_ERR_RESTART_BUDGET'
  | 'ORION_ERR_DECODE'
  | 'ORION_ERR_STOPPED'
  | 'ORION_ERR_DEVNET'
  | 'ORION_ERR_CAPTURE'
  | 'ORION_ERR_INGEST';

export interface OrionErrorOptions {
  details?: string;
  cause?: unknown;
  /** A fatal error stops the engine; a non-fatal one lets the supervisor restart the actor. */
  fatal?: boolean;
}

/**
 * The one error type of Orion, after viem's `BaseError`: a short message, optional details and
 * cause, a stable `code`, and whether it is fatal (reth's `is_fatal`), which the supervisor acts on.
 */
export class OrionError extends Error {
  override name = 'OrionError';
  readonly code: OrionErrorCode;
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly fatal: boolean;

  constructor(code: OrionErrorCode, shortMessage: string, options: OrionErrorOptions = {}) {
    const causeText = options.cause instanceof Error ? options.cause.message : options.cause === undefined ? undefined : String(options.cause);
    const lines = [shortMessage];
    if (options.details) lines.push(`Details: ${options.details}`);
    if (causeText && causeText !== options.details) lines.push(`Cause: ${causeText}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.fatal = options.fatal ?? false;
  }

  /** A plain object that survives `postMessage` and JSON. */
  toJSON(): { code: OrionErrorCode; message: string; fatal: boolean } {
    return { code: this.code, message: this.message, fatal: this.fatal };
  }
}

/** Describes any thrown value in one line, for logs and dead-letter entries. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
