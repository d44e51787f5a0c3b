import type * as vscode from 'vscode';
import { redactText, type Logger } from '../core';

/**
 * The engine's Logger on top of a LogOutputChannel (levels are filtered by the user's choice).
 * Every line goes through redactText: a signed URL's secrets never reach the log, whoever wrote it.
 */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    trace: (message) => channel.trace(redactText(message)),
    debug: (message) => channel.debug(redactText(message)),
    info: (message) => channel.info(redactText(message)),
    warn: (message) => channel.warn(redactText(message)),
    error: (message) => channel.error(redactText(message)),
  };
}
