import type * as vscode from 'vscode';
import type { Logger } from '../core';

/** The engine's Logger on top of a LogOutputChannel (levels are filtered by the user's choice). */
export function channelLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    trace: (message) => channel.trace(message),
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
}
