/** Every id the extension contributes, in one typed place (must match package.json). */
export const EXTENSION_ID = 'resumable-transfers.resumable-transfers';
export const PREFIX = 'resumableTransfers';

export const Commands = {
  downloadUrl: `${PREFIX}.downloadUrl`,
  pause: `${PREFIX}.pause`,
  resume: `${PREFIX}.resume`,
  cancel: `${PREFIX}.cancel`,
  retry: `${PREFIX}.retry`,
  remove: `${PREFIX}.remove`,
  openFile: `${PREFIX}.openFile`,
  revealInExplorer: `${PREFIX}.revealInExplorer`,
  copyUrl: `${PREFIX}.copyUrl`,
  pauseAll: `${PREFIX}.pauseAll`,
  resumeAll: `${PREFIX}.resumeAll`,
  clearFinished: `${PREFIX}.clearFinished`,
  clearFailed: `${PREFIX}.clearFailed`,
  showDetails: `${PREFIX}.showDetails`,
  /** Contributed by the link-refresh work; Retry offers it only when it is registered. */
  updateLink: `${PREFIX}.updateLink`,
  setHostHeader: `${PREFIX}.setHostHeader`,
  showLog: `${PREFIX}.showLog`,
  uploadTo: `${PREFIX}.uploadTo`,
  uploadActiveFile: `${PREFIX}.uploadActiveFile`,
  limitSpeed: `${PREFIX}.limitSpeed`,
  downloadLink: `${PREFIX}.downloadLink`,
} as const;

export const Views = {
  container: PREFIX,
  transfers: `${PREFIX}.transfers`,
} as const;

export const ContextKeys = {
  hasActive: `${PREFIX}.hasActive`,
  hasResumable: `${PREFIX}.hasResumable`,
  hasFinished: `${PREFIX}.hasFinished`,
  hasFailed: `${PREFIX}.hasFailed`,
} as const;

export const StatusBarItemId = `${PREFIX}.status`;

export const Settings = {
  section: PREFIX,
  downloadFolder: 'downloadFolder',
  askForFolder: 'askForFolder',
  maxConcurrentTransfers: 'maxConcurrentTransfers',
  connectionsPerDownload: 'connectionsPerDownload',
  autoResume: 'autoResume',
  retries: 'retries',
  stallTimeoutSeconds: 'stallTimeoutSeconds',
  whenTargetExists: 'whenTargetExists',
  maxBytesPerSecond: 'maxBytesPerSecond',
  caCertificates: 'caCertificates',
  checksumDiscovery: 'checksumDiscovery',
} as const;

/** globalState keys: namespaced and versioned so a future format can live beside this one. */
export const StateKeys = {
  transferPrefix: `${PREFIX}.v1.transfer.`,
  endpoints: `${PREFIX}.v1.uploadEndpoints`,
  hostLimits: `${PREFIX}.v1.hostConnectionLimits`,
  ietfVersions: `${PREFIX}.v1.ietfInteropVersions`,
} as const;

/**
 * globalState keys Settings Sync may carry to other machines: none. A transfer record describes
 * bytes on one machine; synced to another it would only look like a transfer there. The extension
 * hands exactly this list to `setKeysForSync`, and a unit test keeps transfer keys out of it.
 */
export const SYNCED_STATE_KEYS: readonly string[] = [];

export const SecretKeys = {
  /** + an origin (`https://files.example.com`): the headers saved for it, as JSON. */
  originHeaderPrefix: `${PREFIX}.v2.header.`,
  /** + a host (`files.example.com:8443`): headers saved per host by earlier builds (see SavedHeaders). */
  legacyHostHeaderPrefix: `${PREFIX}.v1.header.`,
} as const;
