import assert from 'node:assert/strict';
import { CaptureError } from '../../src/replay/capture/format.js';

/** Runs `fn`, asserts it throws an `ORION_ERR_CAPTURE` CaptureError of `kind`, and returns it. */
export function captureError(fn: () => unknown, kind: string): CaptureError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CaptureError, `expected a CaptureError(${kind}), got ${String(caught)}`);
  assert.equal(caught.code, 'ORION_ERR_CAPTURE');
  assert.equal(caught.kind, kind, caught.message);
  return caught;
}
