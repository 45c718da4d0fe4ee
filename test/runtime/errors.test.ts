import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrionError, describeError } from '../../src/runtime/errors.js';

describe('OrionError', () => {
  it('default', () => {
    const err = new OrionError('ORION_ERR_DECODE', 'cannot unpack record');
    assert.ok(err instanceof Error);
    assert.ok(err instanceof OrionError);
    assert.equal(err.name, 'OrionError');
    assert.equal(err.code, 'ORION_ERR_DECODE');
    assert.equal(err.shortMessage, 'cannot unpack record');
    assert.equal(err.message, 'cannot unpack record');
    assert.equal(err.details, undefined);
    assert.equal(err.cause, undefined);
    assert.equal('cause' in err, false);
    assert.equal(err.fatal, false);
    assert.match(err.stack ?? '', /^OrionError: cannot unpack record\n/);
  });

  it('args: fatal', () => {
    assert.equal(new OrionError('ORION_ERR_SCHEMA_MISMATCH', 'x', { fatal: true }).fatal, true);
    assert.equal(new OrionError('ORION_ERR_ACTOR_CRASHED', 'x', { fatal: false }).fatal, false);
  });

  it('behavior: the message carries details and cause on their own lines', () => {
    const cause = new Error('socket hang up');
    const err = new OrionError('ORION_ERR_ACTOR_BOOTSTRAP', 'actor ingest failed to start', { details: 'endpoint ws://localhost:8546', cause });
    assert.equal(err.message, 'actor ingest failed to start\nDetails: endpoint ws://localhost:8546\nCause: socket hang up');
    assert.equal(err.shortMessage, 'actor ingest failed to start');
    assert.equal(err.details, 'endpoint ws://localhost:8546');
    assert.equal(err.cause, cause);
  });

  it('behavior: a cause that is not an Error is shown as text', () => {
    assert.equal(new OrionError('ORION_ERR_DECODE', 'bad', { cause: 'truncated' }).message, 'bad\nCause: truncated');
    assert.equal(new OrionError('ORION_ERR_DECODE', 'bad', { cause: 42 }).message, 'bad\nCause: 42');
    assert.equal(new OrionError('ORION_ERR_DECODE', 'bad', { cause: 0 }).cause, 0);
  });

  it('behavior: a cause that repeats the details is not shown twice', () => {
    const err = new OrionError('ORION_ERR_CONFIG', 'bad config', { details: 'no such port', cause: new Error('no such port') });
    assert.equal(err.message, 'bad config\nDetails: no such port');
  });

  it('behavior: toJSON is a plain object that survives JSON and structured clone', () => {
    const err = new OrionError('ORION_ERR_RESTART_BUDGET', 'too many restarts', { details: 'decoder: 11 in 60 s', cause: new Error('boom'), fatal: true });
    const json = err.toJSON();
    assert.deepEqual(json, { code: 'ORION_ERR_RESTART_BUDGET', message: 'too many restarts\nDetails: decoder: 11 in 60 s\nCause: boom', fatal: true });
    assert.deepEqual(JSON.parse(JSON.stringify(err)), json);
    assert.deepEqual(structuredClone(json), json);
  });
});

describe('describeError', () => {
  it('default', () => {
    assert.equal(describeError(new TypeError('x is not a function')), 'TypeError: x is not a function');
  });

  it('args: an OrionError keeps its full message', () => {
    assert.equal(describeError(new OrionError('ORION_ERR_DECODE', 'bad', { details: 'd' })), 'OrionError: bad\nDetails: d');
  });

  it('args: a thrown non-error', () => {
    assert.equal(describeError('plain string'), 'plain string');
    assert.equal(describeError(undefined), 'undefined');
    assert.equal(describeError(7), '7');
  });
});
