import { formatBytes, formatSpeed, type Exchange, type TransferSnapshot } from '../../core';
import { localizeRestart, type L10n } from '../messages';
import { bytesOf, describe, displayName, percentOf, stateLabel } from '../presentation';
import type { SpeedSample } from './speedHistory';

/** A run of bytes on the piece map; offsets as fractions of the file (0…1). */
export interface Piece {
  from: number;
  to: number;
  state: 'done' | 'flight' | 'missing';
  /** Colour index of the connection filling it (in flight only). */
  connection?: number;
  label: string;
}

/** One line of the request story. */
export interface StoryItem {
  at: number;
  kind: 'request' | 'restart' | 'verify';
  /** e.g. "GET /files/big.iso" or the restart's reason. */
  title: string;
  /** Request headers as "Name: value" (hidden values shown as "…"). */
  sent: string[];
  /** "206", "→ no response: ERR_NETWORK" … */
  outcome?: string;
  received: string[];
  /** For uploads: the offset the server holds after this request. */
  serverOffset?: number;
  tone: 'ok' | 'warn' | 'error' | 'info';
}

export interface SpeedGraph {
  samples: readonly SpeedSample[];
  /** Colour index of each connection (by segment start). */
  colours: Record<number, number>;
  /** The limit that applies, bytes per second (0 = none). */
  limit: number;
  /** The top of the graph's scale. */
  max: number;
}

/** Everything the details webview draws: plain data, strings already localized. */
export interface DetailsModel {
  id: string;
  name: string;
  kind: 'download' | 'upload';
  state: string;
  summary: string;
  sizeText: string;
  pieces: Piece[];
  speed: SpeedGraph;
  story: StoryItem[];
  /** How many older requests the bounded log let go. */
  droppedRequests: number;
  strings: Record<string, string>;
}

export interface DetailsInput {
  snapshot: TransferSnapshot;
  exchanges: readonly Exchange[];
  droppedRequests: number;
  samples: readonly SpeedSample[];
  /** Segments (by start) whose bytes grew in the last few seconds. */
  active: ReadonlySet<number>;
  /** Colours the speed history gave the connections so far. */
  colours?: Readonly<Record<number, number>>;
  /** Restarts and verification seen while the panel was open, oldest first. */
  notes: readonly StoryItem[];
  globalLimit: number;
  now: number;
}

const headerLines = (headers: Record<string, string>) => Object.entries(headers).map(([name, value]) => `${name}: ${value}`);

/**
 * The piece map: done bytes, bytes a connection is fetching now (one colour each) and bytes
 * missing. A segment whose bytes grew at the last sample is in flight from its end of done bytes.
 */
export function piecesOf(snapshot: TransferSnapshot, active: ReadonlySet<number>, known: Readonly<Record<number, number>>, l10n: L10n): { pieces: Piece[]; colours: Record<number, number> } {
  const { record, progress } = snapshot;
  const { bytes, length } = bytesOf(snapshot);
  const colours: Record<number, number> = { ...known };
  const pieces: Piece[] = [];
  if (!length) return { pieces, colours };
  const running = record.state === 'running';
  // Segments as written (the progress event) when running, else as saved.
  const saved = record.kind === 'download' ? (running && progress?.segments ? progress.segments : record.segments) : undefined;
  const segments = saved ?? [{ start: 0, end: length, done: Math.min(bytes, length) }];
  let next = Math.max(-1, ...Object.values(colours)) + 1;
  for (const segment of segments) {
    const end = segment.end ?? length;
    const doneTo = segment.start + segment.done;
    if (segment.done > 0) pieces.push({ from: segment.start / length, to: doneTo / length, state: 'done', label: l10n.t('{0} done', formatBytes(segment.done)) });
    if (doneTo < end) {
      const flying = running && (record.kind === 'upload' || active.has(segment.start) || segments.length === 1);
      if (flying && colours[segment.start] === undefined) {
        colours[segment.start] = next;
        next += 1;
      }
      pieces.push({
        from: doneTo / length,
        to: end / length,
        state: flying ? 'flight' : 'missing',
        connection: flying ? colours[segment.start] : undefined,
        label: flying ? l10n.t('connection {0}: {1} to go', colours[segment.start] + 1, formatBytes(end - doneTo)) : l10n.t('{0} missing', formatBytes(end - doneTo)),
      });
    }
  }
  return { pieces, colours };
}

/** A request and its answer as the story tells it. */
export function storyOf(exchange: Exchange, l10n: L10n): StoryItem {
  const path = (() => {
    try {
      const url = new URL(exchange.url);
      return `${url.host}${url.pathname}${url.search}`;
    } catch {
      return exchange.url;
    }
  })();
  const offset = exchange.response['upload-offset'];
  const status = exchange.status;
  return {
    at: exchange.at,
    kind: 'request',
    title: `${exchange.method} ${path}`,
    sent: headerLines(exchange.request),
    outcome: status === undefined ? l10n.t('no response: {0}', exchange.error ?? '') : l10n.t('{0} after {1} ms', status, exchange.ms),
    received: headerLines(exchange.response),
    serverOffset: offset !== undefined && /^\d+$/.test(offset) ? Number(offset) : undefined,
    tone: status === undefined || status >= 400 ? 'error' : status === 200 && exchange.request.range ? 'warn' : 'ok',
  };
}

/** How the finished file was checked, as the story's last line. */
export function verificationOf(snapshot: TransferSnapshot, l10n: L10n, at: number): StoryItem | undefined {
  const { record } = snapshot;
  if (record.state !== 'completed') return undefined;
  const { bytes, length } = bytesOf(snapshot);
  const size = formatBytes(length ?? bytes);
  if (record.kind === 'upload') {
    return { at, kind: 'verify', title: l10n.t('The server confirmed all {0}.', size), sent: [], received: [], tone: 'ok' };
  }
  const title = record.sha256
    ? l10n.t('Verified: {0}, sha256 {1} as expected.', size, record.sha256)
    : l10n.t('Verified: {0}, the length the server announced.', size);
  return { at, kind: 'verify', title, sent: [], received: [], tone: 'ok' };
}

/** A restart as a story line (the record keeps the last reason; the panel collects the ones it saw). */
export function restartOf(code: string | undefined, reason: string | undefined, at: number, l10n: L10n): StoryItem | undefined {
  const sentence = localizeRestart(code, l10n);
  if (!sentence) return undefined;
  return { at, kind: 'restart', title: sentence, sent: reason ? [reason] : [], received: [], tone: 'warn' };
}

export function detailsModel(input: DetailsInput, l10n: L10n): DetailsModel {
  const { snapshot } = input;
  const { record } = snapshot;
  const { bytes, length } = bytesOf(snapshot);
  const { pieces, colours } = piecesOf(snapshot, input.active, input.colours ?? {}, l10n);
  const ownLimit = record.maxBytesPerSecond ?? 0;
  const limit = ownLimit > 0 && input.globalLimit > 0 ? Math.min(ownLimit, input.globalLimit) : ownLimit || input.globalLimit;
  const top = Math.max(limit, ...input.samples.map((s) => Math.max(s.total, ...Object.values(s.connections))), 1);
  const story = [...input.exchanges.map((e) => storyOf(e, l10n)), ...input.notes].sort((a, b) => a.at - b.at);
  const verified = verificationOf(snapshot, l10n, input.now);
  if (verified) story.push(verified);
  const percent = percentOf(bytes, length);
  return {
    id: record.id,
    name: displayName(snapshot),
    kind: record.kind,
    state: stateLabel(record.state, l10n),
    summary: describe(snapshot, l10n, input.now),
    sizeText: length === undefined ? formatBytes(bytes) : `${l10n.t('{0} of {1}', formatBytes(bytes), formatBytes(length))}${percent ? ` (${percent})` : ''}`,
    pieces,
    speed: { samples: input.samples, colours, limit, max: top * 1.1 },
    story,
    droppedRequests: input.droppedRequests,
    strings: {
      pieces: l10n.t('Pieces'),
      pieceMap: l10n.t('Piece map: {0} done, {1} in flight, {2} missing', count(pieces, 'done'), count(pieces, 'flight'), count(pieces, 'missing')),
      done: l10n.t('done'),
      flight: l10n.t('in flight'),
      missing: l10n.t('missing'),
      unknownLength: l10n.t('The size is not known yet, so there is no map.'),
      speed: l10n.t('Speed'),
      total: l10n.t('total'),
      connection: l10n.t('connection {0}'),
      limit: limit > 0 ? l10n.t('limit {0}', formatSpeed(limit)) : '',
      peak: l10n.t('top of the scale: {0}', formatSpeed(top * 1.1)),
      noSamples: l10n.t('The graph fills while this panel is open and the transfer runs.'),
      requests: l10n.t('Requests'),
      time: l10n.t('Time'),
      request: l10n.t('Request'),
      answer: l10n.t('Answer'),
      serverOffset: l10n.t('server offset {0}'),
      dropped: input.droppedRequests > 0 ? l10n.t('{0} earlier requests are not kept.', input.droppedRequests) : '',
      noRequests: l10n.t('No requests yet in this session.'),
      hidden: l10n.t('Values of other headers are hidden: they may carry credentials.'),
    },
  };
}

const count = (pieces: Piece[], state: Piece['state']) => pieces.filter((p) => p.state === state).length;
