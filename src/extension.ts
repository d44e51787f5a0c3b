import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  BandwidthLimits,
  DEFAULT_RETRY_POLICY,
  ExchangeLogs,
  DownloadTask,
  HostConnectionLimits,
  SwitchableHttpClient,
  TransferManager,
  createHttpStack,
  type HttpStack,
  type NetworkSettings,
  UploadTask,
  isOnAnotherMachine,
  loadOrCreateMachineId,
  machineLabel,
  otherMachineOf,
  recordingHttpClient,
  salvageDownload,
  type Exchange,
  type MachineRef,
  type TransferRecord,
  type TransferRunner,
  type RunnerContext,
  type IetfVersionMemory,
} from './core';
import { globalStateIetfVersions } from './vscode/ietfVersions';
import { ThreadedDownloadTask } from './core/download/threaded';
import type { ResumableTransfersApi } from './vscode/api';
import { registerCommands, startDownloads, type CommandContext } from './vscode/commands';
import { UrlDropController } from './vscode/dropUrls';
import { affectsNetwork, affectsTransfers, readNetworkSettings, readSettings, type TransferSettings } from './vscode/config';
import { GlobalStateTransferStore } from './vscode/globalStateStore';
import { SavedHeaders } from './vscode/savedHeaders';
import { Commands, ContextKeys, StateKeys, SYNCED_STATE_KEYS } from './vscode/ids';
import { ReleasedOwners } from './vscode/releasedOwners';
import { UploadEndpoints, registerUploadCommands, startUploads, type UploadContext } from './vscode/upload';
import { channelLogger } from './vscode/log';
import { TransferNotifications } from './vscode/notifications';
import { reportNetworkProblems } from './vscode/networkProblems';
import { TransfersStatusBar } from './vscode/statusBar';
import { TransfersTree } from './vscode/transfersTree';
import { ViewRefresh } from './vscode/viewRefresh';
import { DetailsPanels, showDetails } from './vscode/details/detailsPanel';

/**
 * Composition root: builds the adapters and the engine, registers everything with the
 * extension's subscriptions, restores saved transfers and returns the public API.
 * Activation does little work: it reads globalState and starts what was unfinished.
 */
class Runtime implements vscode.Disposable {
  readonly log = vscode.window.createOutputChannel(vscode.l10n.t('Resumable Transfers'), { log: true });
  readonly store: GlobalStateTransferStore;
  readonly savedHeaders: SavedHeaders;
  readonly manager: TransferManager;
  private settings: TransferSettings = readSettings();
  /** The one way out for every request; rebuilt when a network setting changes. */
  private networkSettings: NetworkSettings;
  private network: HttpStack;
  /** What runners hold: always sends through the current stack. */
  private readonly http = new SwitchableHttpClient(() => this.network.http);
  private readonly disposables: vscode.Disposable[] = [];
  private contextTimer?: NodeJS.Timeout;
  /** Hosts that asked us to slow down keep fewer connections, remembered across sessions. */
  private readonly connectionLimits: HostConnectionLimits;
  readonly endpoints: UploadEndpoints;
  /** Identifies this window's extension host in ownership leases. */
  private readonly ownerId = `${vscode.env.sessionId}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly released: ReleasedOwners;
  /** The global speed limit (a setting) and each transfer's own (kept in its record). */
  readonly bandwidth = new BandwidthLimits(this.settings.maxBytesPerSecond);
  /** What each transfer of this session asked and was answered, for its details view. */
  readonly exchanges = new ExchangeLogs();
  /**
   * The machine this extension host runs on, where its transfers' bytes are. The id lives in
   * globalStorage, which is on this machine; globalState is not (it is on the machine the editor
   * was started from, shared by every local and remote window).
   */
  readonly machine: MachineRef;
  /** The IETF interop version each upload endpoint accepted, remembered across sessions. */
  private readonly ietfVersions: IetfVersionMemory;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.machine = { id: loadOrCreateMachineId(context.globalStorageUri.fsPath), label: machineLabel(vscode.env.remoteName, os.hostname()) };
    context.globalState.setKeysForSync(SYNCED_STATE_KEYS);
    this.store = new GlobalStateTransferStore(context.globalState);
    this.savedHeaders = new SavedHeaders(context.secrets, this.log);
    this.endpoints = new UploadEndpoints(context.globalState);
    this.ietfVersions = globalStateIetfVersions(context.globalState);
    this.connectionLimits = HostConnectionLimits.fromJSON(context.globalState.get(StateKeys.hostLimits), (limits) => {
      void context.globalState.update(StateKeys.hostLimits, limits);
      this.log.info(`connection limits per host: ${JSON.stringify(limits)}`);
    });
    this.networkSettings = readNetworkSettings(this.userAgent());
    this.network = this.createNetwork();
    const logger = channelLogger(this.log);
    this.released = new ReleasedOwners(context.globalStorageUri.fsPath);
    this.manager = new TransferManager({
      store: this.store,
      createRunner: (record, context) => this.createRunner(record, context),
      claimDir: path.join(context.globalStorageUri.fsPath, 'claims'),
      logger,
      maxConcurrent: this.settings.maxConcurrent,
      ownerId: this.ownerId,
      isReleased: (owner) => this.released.has(owner),
      bandwidth: this.bandwidth,
      machine: this.machine,
    });
  }

  /** Never throws: a setting it cannot use is logged, shown once, and fails only the requests it concerns. */
  private createNetwork(): HttpStack {
    const network = createHttpStack(this.networkSettings);
    this.log.info(`network: ${network.describe()}`);
    reportNetworkProblems(network.problems, this.log);
    return network;
  }

  private createRunner(record: TransferRecord, context: RunnerContext): TransferRunner {
    // The request log of the details view: in memory, bounded, per transfer.
    const log = this.exchanges.forTransfer(record.id);
    const onExchange = (exchange: Exchange) => log.append(exchange);
    const common = {
      http: recordingHttpClient(this.http, onExchange),
      store: context.store,
      logger: channelLogger(this.log),
      retry: { ...DEFAULT_RETRY_POLICY, retries: this.settings.retries },
      stallTimeoutMs: this.settings.stallTimeoutMs,
      headers: (url: string) => this.savedHeaders.forUrl(url),
    };
    if (record.kind === 'upload') return new UploadTask(record, { ...common, bandwidth: context.bandwidth, ietfVersions: this.ietfVersions });
    const workerPath = this.context.asAbsolutePath(path.join('dist', 'download-worker.js'));
    const checksumDiscovery = this.settings.checksumDiscovery;
    if (!existsSync(workerPath)) {
      return new DownloadTask(record, { ...common, guard: context.guard, connectionLimits: this.connectionLimits, bandwidth: context.bandwidth, checksumDiscovery });
    }
    // The byte path (network, disk, hashing) runs in a worker: this thread is every extension's.
    return new ThreadedDownloadTask(record, {
      workerPath,
      onExchange,
      store: context.store,
      guard: context.guard,
      logger: common.logger,
      headers: common.headers,
      connectionLimits: this.connectionLimits,
      bandwidth: context.bandwidth,
      settings: {
        retry: common.retry,
        stallTimeoutMs: common.stallTimeoutMs,
        network: this.networkSettings,
        checksumDiscovery,
      },
    });
  }

  private userAgent(): string {
    return `resumable-transfers-vscode/${this.context.extension.packageJSON.version as string}`;
  }

  private commandContext(): CommandContext {
    return { manager: this.manager, http: this.http, settings: () => this.settings, savedHeaders: this.savedHeaders, log: this.log };
  }

  async start(): Promise<void> {
    const commandContext = this.commandContext();
    const refresh = new ViewRefresh(this.manager);
    const details = new DetailsPanels(this.context.extensionUri, this.manager, this.exchanges, this.bandwidth);
    this.disposables.push(
      this.log,
      refresh,
      details,
      vscode.commands.registerCommand(Commands.showDetails, (id?: unknown) => showDetails(this.manager, details, id)),
      // A removed transfer's request log goes with it.
      this.manager.onDidChange((change) => change.snapshot || this.exchanges.delete(change.id)),
      new TransfersTree(this.manager, refresh, new UrlDropController((urls) => startDownloads(commandContext, { urls }))),
      new TransfersStatusBar(this.manager, refresh, this.bandwidth),
      new TransferNotifications(this.manager),
      ...registerCommands(commandContext),
      ...registerUploadCommands(this.uploadContext(), { uploadTo: Commands.uploadTo, uploadActiveFile: Commands.uploadActiveFile }),
      this.manager.onDidChange(() => this.scheduleContextKeys()),
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfiguration(event)),
    );
    this.log.info(`this machine: ${this.machine.label} (${this.machine.id})`);
    await this.restoreFromState();
  }

  /** Loads saved transfers; records that fail validation come back as paused "needs restart" rows. */
  async restoreFromState(): Promise<void> {
    const { invalid } = this.store.loadAll();
    for (const bad of invalid) {
      const owner = otherMachineOf(bad.raw, this.machine);
      if (owner) {
        this.log.warn(`[${bad.id}] saved state of ${owner.label} is invalid here (${bad.reason}): left as it is`);
        continue;
      }
      const salvaged = salvageDownload(bad.id, bad.raw, bad.reason, Date.now());
      this.log.warn(`[${bad.id}] saved state is invalid (${bad.reason}): ${salvaged ? 'will start again from byte 0' : 'dropped'}`);
      if (salvaged) await this.store.put(salvaged);
      else await this.store.delete(bad.id);
    }
    await this.manager.restore({ autoResume: this.settings.autoResume });
    this.scheduleContextKeys();
  }

  private onConfiguration(event: vscode.ConfigurationChangeEvent): void {
    if (affectsTransfers(event)) {
      this.settings = readSettings();
      this.manager.setMaxConcurrent(this.settings.maxConcurrent);
      this.bandwidth.setGlobalLimit(this.settings.maxBytesPerSecond);
    }
    if (affectsNetwork(event)) {
      // New requests take the new way out; running ones finish on their connection.
      const old = this.network;
      this.networkSettings = readNetworkSettings(this.userAgent());
      this.network = this.createNetwork();
      setTimeout(() => old.dispose(), 60_000).unref();
    }
  }

  private scheduleContextKeys(): void {
    this.contextTimer ??= setTimeout(() => {
      this.contextTimer = undefined;
      // Title actions act on this machine's transfers only.
      const states = this.manager
        .list()
        .filter((s) => !isOnAnotherMachine(s))
        .map((s) => s.record.state);
      void vscode.commands.executeCommand('setContext', ContextKeys.hasActive, states.some((s) => s === 'running' || s === 'queued'));
      void vscode.commands.executeCommand('setContext', ContextKeys.hasResumable, states.some((s) => s === 'paused' || s === 'failed'));
      void vscode.commands.executeCommand('setContext', ContextKeys.hasFinished, states.some((s) => s === 'completed' || s === 'cancelled'));
      void vscode.commands.executeCommand('setContext', ContextKeys.hasFailed, states.some((s) => s === 'failed'));
    }, 200);
  }

  private uploadContext(): UploadContext {
    return { manager: this.manager, endpoints: this.endpoints, savedHeaders: this.savedHeaders, log: this.log };
  }

  api(): ResumableTransfersApi {
    const manager = this.manager;
    return {
      download: (urls, options) =>
        startDownloads(this.commandContext(), { urls: Array.isArray(urls) ? urls : [urls], folder: options?.folder, sha256: options?.sha256 }),
      upload: (files, url, protocol) => startUploads(this.uploadContext(), Array.isArray(files) ? files : [files], { url, protocol }),
      machine: { ...this.machine },
      list: () => manager.list(),
      get: (id) => manager.get(id),
      onDidChange: manager.onDidChange,
      pause: (id) => manager.pause(id),
      resume: (id) => manager.resume(id),
      cancel: (id) => manager.cancel(id),
      remove: (id) => manager.remove(id),
      restoreFromState: () => this.restoreFromState(),
      savedRecord: (id) => this.context.globalState.get(`${StateKeys.transferPrefix}${id}`),
      seedRecord: async (id, raw) => {
        await this.context.globalState.update(`${StateKeys.transferPrefix}${id}`, raw);
      },
    };
  }

  /** Stops running transfers so the next start resumes them; their last save gives up the lease. */
  async shutdown(): Promise<void> {
    clearTimeout(this.contextTimer);
    // First, and synchronously: the next window must not wait for this one's leases to expire.
    this.released.release(this.ownerId);
    await this.manager.shutdown();
    this.network.dispose();
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.manager.dispose();
  }
}

let runtime: Runtime | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<ResumableTransfersApi> {
  runtime = new Runtime(context);
  context.subscriptions.push(runtime);
  await runtime.start();
  return runtime.api();
}

export async function deactivate(): Promise<void> {
  await runtime?.shutdown();
  runtime = undefined;
}
