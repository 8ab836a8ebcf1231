/**
 * Typed Heroku events: what each kind of line means, independent of OpenTelemetry.
 * Optional facts are `undefined` when the line did not carry them; numbers are NaN when a key was
 * present but empty or not a number (`connect=` on router errors).
 */

/** The coarse kind of a line, as alert rules and dashboards group them. */
export type EventKind = 'router' | 'runtime' | 'addon' | 'platform' | 'api' | 'app';

export interface RouterEvent {
  kind: 'router';
  /** `at=`: info, error (warning on some lines). */
  at: string;
  /** H-code on error lines (`H12`), else undefined. */
  code: string | undefined;
  /** `desc=` on error lines (`Request timeout`). */
  desc: string | undefined;
  method: string | undefined;
  /** The path without the query string. */
  path: string | undefined;
  /** The query string without `?`, undefined when the path had none. */
  query: string | undefined;
  host: string | undefined;
  requestId: string | undefined;
  /** Every address in `fwd` (X-Forwarded-For), in order; the first is the client. */
  fwd: string[];
  /** `dyno=`: the dyno that served (`web.2`), undefined when empty. */
  dyno: string | undefined;
  connectMs: number;
  serviceMs: number;
  status: number;
  bytes: number;
  /** `protocol=` as written: `http`, `https`, or an HTTP version on newer routers. */
  protocol: string | undefined;
  /** `tls_version=` (`TLSv1.3`). */
  tlsVersion: string | undefined;
  /** `sock=` on H18/H27-style errors: which side closed (`client`, `backend`). */
  sock: string | undefined;
  /** Keys this parser does not know, kept as written. */
  extra: Record<string, string> | undefined;
}

/** A value with its unit as written: `21.00MB` is { value: 21, unit: 'MB' }. */
export interface Sample {
  key: string;
  value: number;
  unit: string;
}

/** log-runtime-metrics: `source=web.1 dyno=heroku.123.<uuid> sample#memory_rss=21.22MB ...`. */
export interface RuntimeSampleEvent {
  kind: 'runtime';
  /** `source=`: the process (`web.1`), stable across restarts. */
  source: string | undefined;
  /** `dyno=`: changes at every restart, so never a metric label. */
  dynoId: string | undefined;
  samples: Sample[];
}

/** Add-on metrics (Heroku Postgres, Heroku Redis, ...): every `sample#` key, whatever it is. */
export interface AddonSampleEvent {
  kind: 'addon';
  type: 'sample';
  /** The PROCID: `heroku-postgres`, `heroku-redis`, ... */
  service: string;
  /** `source=`: the attachment (`DATABASE`, `HEROKU_POSTGRESQL_RED`, `REDIS`). */
  source: string | undefined;
  /** `addon=`: the add-on's name (`postgresql-curly-12345`). */
  addon: string | undefined;
  samples: Sample[];
  /** Non-sample keys other than source/addon, kept as written. */
  extra: Record<string, string> | undefined;
}

/** Postgres's own log through Heroku (`postgres.NNNN`): `[DATABASE] [9-1] sql_error_code=... LOG: ...`. */
export interface PostgresLogEvent {
  kind: 'addon';
  type: 'postgres_log';
  /** The attachment in brackets (`DATABASE`). */
  source: string | undefined;
  /** `[9-1]`: the line's sequence number and part. */
  lineId: string | undefined;
  /** SQLSTATE, `00000` for success. */
  sqlErrorCode: string | undefined;
  /** Postgres severity: LOG, ERROR, FATAL, WARNING, ... */
  level: string | undefined;
  /** The message after the level. */
  message: string;
  /** Other `key=value` prefixes (pid, database, user, ...). */
  fields: Record<string, string> | undefined;
}

export type PlatformEventType =
  | 'state_change'
  | 'process_exit'
  | 'process_start'
  | 'process_stop'
  | 'restart'
  | 'idle'
  | 'unidle'
  | 'memory'
  | 'error'
  | 'other';

/** Platform messages from `heroku` about a dyno, and Logplex's own errors. */
export interface PlatformEvent {
  kind: 'platform';
  type: PlatformEventType;
  /** R/H/L code for errors (`R14`, `L10`). */
  code: string | undefined;
  /** The code's name as written (`Memory quota exceeded`). */
  desc: string | undefined;
  /** What follows `->` or `:` after an error's name. */
  detail: string | undefined;
  fromState: string | undefined;
  toState: string | undefined;
  exitStatus: number;
  command: string | undefined;
  /** Who started a one-off process (`Starting process with command ... by user x`). */
  user: string | undefined;
  /** `SIGTERM`, `SIGKILL`. */
  signal: string | undefined;
  /** `Process running mem=590M(115.2%)`: bytes and percent of quota. */
  memoryBytes: number;
  memoryPercent: number;
  /** L10: messages Logplex dropped. */
  droppedMessages: number;
  /** L10, L12...: since when (`... dropped since 2024-05-01T11:59:00+00:00.`), the timestamp as written. */
  droppedSince: string | undefined;
  /** The drain an L error names (`drain d.<uuid> dropped ...`): a drain token, never to be emitted as it is. */
  drainToken: string | undefined;
}

export type ApiEventType =
  | 'release'
  | 'deploy'
  | 'rollback'
  | 'config_change'
  | 'scale'
  | 'addon_change'
  | 'command'
  | 'maintenance'
  | 'build'
  | 'other';

/** The Heroku API's lines (PROCID `api`): releases, deploys, config changes, scaling, commands. */
export interface ApiEvent {
  kind: 'api';
  type: ApiEventType;
  /** The verb as written, lower-cased (`set`, `remove`, `attach`, `deploy`...). */
  action: string | undefined;
  /** Who did it (`dev@example.com`, `scheduler@addons.heroku.com`). */
  user: string | undefined;
  /** `v42`. */
  release: string | undefined;
  /** A deploy's commit (`1a2b3c4`). */
  commit: string | undefined;
  /** A command run in a one-off or scheduled dyno. */
  command: string | undefined;
  /** Config var names that changed. */
  configVars: string[] | undefined;
  /** `web@3:Standard-2X` entries of a scaling. */
  formation: string[] | undefined;
  /** Add-on or attachment names an add-on change names. */
  addon: string | undefined;
}

export type AppLogFormat = 'plain' | 'logfmt' | 'json' | 'l2met';

/** An l2met measurement in app output: `count#`, `measure#`, `sample#`, `unique#`. */
export interface L2metMeasurement {
  type: 'count' | 'measure' | 'sample' | 'unique';
  name: string;
  /** NaN for `unique#`, whose value is an identifier. */
  value: number;
  unit: string;
  /** The raw value for `unique#`. */
  raw: string;
}

/** Whatever the app (or an unknown sender) wrote. */
export interface AppLogEvent {
  kind: 'app';
  format: AppLogFormat;
  /** The level the line states (`error`, `warn`, 50...), normalised lower-case; undefined if none. */
  level: string | undefined;
  /** The message: JSON `message`/`msg`, logfmt `msg`, or the whole text. */
  message: string;
  /** JSON `error`/`err` as text: the message of an error object. */
  error: string | undefined;
  /** The error object's `type` or `name`. */
  errorType: string | undefined;
  /** The error object's `stack`. */
  errorStack: string | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
  traceFlags: number;
  /** Other fields of JSON or logfmt lines, as attributes. */
  fields: Record<string, string | number | boolean> | undefined;
  measurements: L2metMeasurement[] | undefined;
  /** `source=` of l2met lines. */
  source: string | undefined;
  /**
   * The object a JSON line parsed to, as read (a reference, not a copy): where a dotted field the
   * app nests (`{"request": {"id": ...}}`) is found, since `fields` holds nested objects as JSON text.
   */
  json: Readonly<Record<string, unknown>> | undefined;
  /**
   * Why text that looked structured was kept as plain text (JSON too deep or too long, see
   * MAX_JSON_DEPTH and MAX_JSON_CHARS); undefined when it was read, or was never structured.
   */
  parseError?: string | undefined;
}

export type HerokuEvent =
  | RouterEvent
  | RuntimeSampleEvent
  | AddonSampleEvent
  | PostgresLogEvent
  | PlatformEvent
  | ApiEvent
  | AppLogEvent;
