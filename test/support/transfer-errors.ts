import assert from 'node:assert/strict';
import { TransferError } from '../../src/core';

/** The TransferError `promise` rejects with; fails the test when it resolves or fails any other way. */
export async function transferErrorOf(promise: Promise<unknown>): Promise<TransferError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TransferError, `expected a TransferError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the transfer to fail');
}

/** The TransferError `promise` rejects with, which must carry `code` (and a message matching `message`). */
export async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<TransferError> {
  const error = await transferErrorOf(promise);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return error;
}
