import * as vscode from 'vscode';
import type { NetworkProblem } from '../core';

/**
 * A network setting the engine cannot use (a socks5:// proxy, a malformed one, an unreadable
 * certificate file) must not break activation: it goes to the log, and one notification says
 * what is wrong and which setting to change. The transfers it concerns fail with its code.
 */
export function reportNetworkProblems(problems: readonly NetworkProblem[], log: vscode.LogOutputChannel): void {
  if (problems.length === 0) return;
  // The message already names the setting.
  for (const problem of problems) log.error(`${problem.error.message} (${problem.error.code})`);
  const first = problems[0];
  const isEnvironment = /^[A-Z_]+$|^[a-z]+_proxy$/.test(first.setting);
  const message =
    first.error.code === 'ERR_PROXY_CONFIG'
      ? isEnvironment
        ? vscode.l10n.t('The proxy in the environment variable {0} cannot be used: only http and https proxies are supported. Transfers that need it will fail until it is changed.', first.setting)
        : vscode.l10n.t('The proxy in the setting {0} cannot be used: only http and https proxies are supported. Transfers that need it will fail until it is changed.', first.setting)
      : vscode.l10n.t('A certificate file in the setting {0} cannot be read. Connections that need it will fail until it is fixed.', first.setting);
  const openSettings = vscode.l10n.t('Open Settings');
  const showLog = vscode.l10n.t('Show Log');
  void vscode.window.showErrorMessage(message, openSettings, showLog).then((choice) => {
    if (choice === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', isEnvironment ? 'http.proxy' : first.setting);
    else if (choice === showLog) log.show();
  });
}
