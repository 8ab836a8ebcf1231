/**
 * Where alerts go besides the logs pipeline: Prometheus Alertmanager (its v2 API, as Prometheus
 * itself posts: firing alerts re-posted every resend_interval with an endsAt a few intervals
 * ahead, resolved ones with their endsAt) and webhooks (Alertmanager's webhook payload). Sends
 * are retried with backoff on their own queue, counted and logged; they never hold up the
 * pipeline.
 */
import { Agent, request } from '../../undici.ts';
import type { AlertEvent } from './engine.ts';

export interface NotifierCounters {
  sent: number;
  failed: number;
  retries: number;
}

export type NotifyLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface Target {
  endpoint: string;
  headers: Record<string, string>;
  timeout: number;
}

/** Give up on one send after this long; the next resend (firing alerts) carries the news again. */
const MAX_ELAPSED_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 30_000;
/** Sends waiting at most; past it the oldest is dropped (counted): an unreachable target must not grow memory. */
const MAX_QUEUE = 1000;

/** Alertmanager's alert as its v2 API takes it. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export function postableAlert(event: AlertEvent, resendIntervalMs: number, now: number, generatorUrl: string | undefined): PostableAlert {
  return {
    labels: event.labels,
    annotations: event.annotations,
    startsAt: new Date(event.startsAtMs).toISOString(),
    // A firing alert expires in Alertmanager unless re-posted; Prometheus sets 4 resend intervals.
    endsAt: new Date(event.endsAtMs ?? now + 4 * resendIntervalMs).toISOString(),
    ...(generatorUrl ? { generatorURL: generatorUrl } : {}),
  };
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** Alertmanager's fingerprint of a label set: FNV-1a 64 over sorted names and values, 0xff-separated. */
export function fingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET;
  const mix = (bytes: Uint8Array) => {
    for (const b of bytes) hash = ((hash ^ BigInt(b)) * FNV_PRIME) & MASK_64;
  };
  const separator = new Uint8Array([0xff]);
  for (const name of Object.keys(labels).sort()) {
    mix(Buffer.from(name, 'utf8'));
    mix(separator);
    mix(Buffer.from(labels[name]!, 'utf8'));
    mix(separator);
  }
  return hash.toString(16).padStart(16, '0');
}

function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = { ...maps[0] };
  for (const m of maps.slice(1)) for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  return out;
}

/** Alertmanager's webhook payload (version 4) for a set of transitions of one state. */
export function webhookPayload(events: readonly AlertEvent[], generatorUrl: string | undefined): Record<string, unknown> {
  const status = events.some((e) => e.state === 'firing') ? 'firing' : 'resolved';
  const commonLabels = common(events.map((e) => e.labels));
  return {
    version: '4',
    // As Alertmanager writes it for a route grouped by alertname: `{}:{alertname="X"}`.
    groupKey: `{}:{alertname=${JSON.stringify(commonLabels.alertname ?? '')}}`,
    truncatedAlerts: 0,
    status,
    receiver: 'heroku-otel-drain',
    groupLabels: { alertname: commonLabels.alertname ?? '' },
    commonLabels,
    commonAnnotations: common(events.map((e) => e.annotations)),
    externalURL: generatorUrl ?? '',
    alerts: events.map((e) => ({
      status: e.state,
      labels: e.labels,
      annotations: e.annotations,
      startsAt: new Date(e.startsAtMs).toISOString(),
      endsAt: e.endsAtMs === undefined ? '0001-01-01T00:00:00Z' : new Date(e.endsAtMs).toISOString(),
      generatorURL: generatorUrl ?? '',
      fingerprint: fingerprint(e.labels),
    })),
  };
}

interface Pending {
  body: string;
  firstTry: number;
  attempts: number;
}

/** POSTs JSON bodies to one target in order, retrying with backoff. */
export class JsonSender {
  readonly counters: NotifierCounters = { sent: 0, failed: 0, retries: 0 };
  private readonly _name: string;
  private readonly _target: Target;
  private readonly _log: NotifyLog;
  private readonly _agent = new Agent({ keepAliveTimeout: 30_000, connections: 2 });
  private readonly _queue: Pending[] = [];
  private _busy = false;
  private _timer: NodeJS.Timeout | undefined;
  private _stopped = false;

  constructor(name: string, target: Target, log: NotifyLog) {
    this._name = name;
    this._target = target;
    this._log = log;
  }

  send(body: unknown): void {
    if (this._stopped) return;
    if (this._queue.length >= MAX_QUEUE) {
      this._queue.shift();
      this.counters.failed++;
      this._log('error', `${this._name}: too many alerts waiting; the oldest was dropped`);
    }
    this._queue.push({ body: JSON.stringify(body), firstTry: Date.now(), attempts: 0 });
    void this._drain();
  }

  /** Resolves once every queued send has been tried to the end (or `ms` passed). */
  async flush(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while ((this._queue.length > 0 || this._busy) && Date.now() < deadline) {
      if (this._timer !== undefined && !this._busy) {
        clearTimeout(this._timer);
        this._timer = undefined;
        void this._drain();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async shutdown(ms = 2000): Promise<void> {
    await this.flush(ms);
    this._stopped = true;
    clearTimeout(this._timer);
    await this._agent.close();
  }

  private async _drain(): Promise<void> {
    if (this._busy || this._timer !== undefined) return;
    this._busy = true;
    try {
      while (this._queue.length > 0 && !this._stopped) {
        const next = this._queue[0]!;
        next.attempts++;
        const error = await this._post(next.body);
        if (error === undefined) {
          this.counters.sent++;
          this._queue.shift();
          continue;
        }
        if (error.permanent || Date.now() - next.firstTry > MAX_ELAPSED_MS) {
          this.counters.failed++;
          this._queue.shift();
          this._log('error', `${this._name}: alert delivery failed`, { error: error.message, attempts: next.attempts });
          continue;
        }
        this.counters.retries++;
        const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (next.attempts - 1));
        this._log('warn', `${this._name}: alert delivery failed, retrying in ${wait} ms`, { error: error.message });
        this._timer = setTimeout(() => {
          this._timer = undefined;
          void this._drain();
        }, wait);
        this._timer.unref();
        return;
      }
    } finally {
      this._busy = false;
    }
  }

  private async _post(body: string): Promise<{ message: string; permanent: boolean } | undefined> {
    try {
      const res = await request(this._target.endpoint, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...this._target.headers },
        dispatcher: this._agent,
        signal: AbortSignal.timeout(this._target.timeout),
      });
      const text = (await res.body.text()).slice(0, 300);
      if (res.statusCode >= 200 && res.statusCode < 300) return undefined;
      // 4xx but 408/429: the request itself is wrong; trying again would not help.
      const permanent = res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429;
      return { message: `${res.statusCode} ${text}`.trim(), permanent };
    } catch (error) {
      return { message: (error as Error).message, permanent: false };
    }
  }
}
