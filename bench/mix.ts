/**
 * A realistic, deterministic traffic mix as Logplex delivers it: 80 % router lines, 10 % app
 * output, 5 % runtime samples, 5 % everything else (add-on samples, Postgres logs, platform and
 * API events). The same seed always gives the same bytes, so runs and machines compare.
 *
 * Lines are Logplex HTTPS frames (`LEN SP <PRI>1 TIMESTAMP host APP PROCID - TEXT\n`, LEN counting
 * the message and its newline), packed into bodies of about 100 KB, which is what Logplex aims for.
 */

/** Mulberry32: a tiny seeded PRNG, plenty for picking traffic shapes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;

function pick<T>(r: Rand, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function int(r: Rand, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function hex(r: Rand, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
}

function uuid(r: Rand): string {
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-${pick(r, ['8', '9', 'a', 'b'])}${hex(r, 3)}-${hex(r, 12)}`;
}

// ---------------------------------------------------------------------------------------------
// Router

const HOSTS = ['shop.example.com', 'api.example.com', 'www.example.org', 'example-app-1a2b3c4d5e6f.herokuapp.com'];
const PATHS = [
  '/',
  '/search',
  '/products/42',
  '/products/1337/reviews',
  '/api/v1/orders',
  '/api/v1/orders/9f1c2d',
  '/assets/application-3f2a1b.css',
  '/assets/application-9c8d7e.js',
  '/health',
  '/users/sign_in',
  '/cart',
  '/checkout/pay',
  '/favicon.ico',
  '/graphql',
  '/webhooks/stripe',
];
const QUERIES = ['q=shoes&page=2', 'page=3', 'utm_source=news&utm_medium=email&utm_campaign=may', 'id=17', 'q=a%3Db&sort=price', 'token=abc123&x=1'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 422, 500];
const IPV6 = ['2001:db8::7', '2001:db8:85a3::8a2e:370:7334', '2a02:26f0:12::5f', 'fe80::1ff:fe23:4567:890a'];

/** Errors the router logs: code, description, status, and whether dyno/timings are empty. */
const H_ERRORS: readonly [string, string, number, boolean][] = [
  ['H10', 'App crashed', 503, true],
  ['H12', 'Request timeout', 503, false],
  ['H13', 'Connection closed without response', 503, false],
  ['H14', 'No web dynos running', 503, true],
  ['H18', 'Server Request Interrupted', 503, false],
  ['H27', 'Client Request Interrupted', 499, false],
  ['H80', 'Maintenance mode', 503, true],
];

function ipv4(r: Rand): string {
  return `${int(r, 1, 223)}.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`;
}

function forwarded(r: Rand): string {
  const first = r() < 0.15 ? pick(r, IPV6) : ipv4(r);
  return r() < 0.3 ? `${first}, ${r() < 0.3 ? pick(r, IPV6) : ipv4(r)}` : first;
}

/**
 * How a mix's router lines fail and lag, and whether app lines log their request's id. Unset:
 * the stress mix every scenario uses (4 % H-codes, 5 % 500s, 10 % of requests 250 ms-8 s; app
 * lines' request ids match no router line).
 */
export interface MixProfile {
  /** Share of router lines with an H-code. */
  routerErrors: number;
  /** Share of the others answered 500. */
  status500: number;
  /** Share of the others taking 250 ms-8 s (most of them over 1 s). */
  slow: number;
}

/** A typical production app: 0.5 % H-codes, 0.5 % 500s, 2 % slow; app lines log the id of the request they belong to. */
export const TYPICAL_APP: MixProfile = { routerErrors: 0.005, status500: 0.005, slow: 0.02 };

const NOT_500 = STATUSES.filter((s) => s !== 500);

/** The request id of the last router line a profiled mix made (its app lines log it). */
let lastRequestId = '';

function routerText(r: Rand, profile?: MixProfile): string {
  const method = pick(r, METHODS);
  const path = r() < 0.3 ? `${pick(r, PATHS)}?${pick(r, QUERIES)}` : pick(r, PATHS);
  const host = pick(r, HOSTS);
  const fwd = forwarded(r);
  const protocol = r() < 0.9 ? 'https' : 'http';
  // Some lines carry the keys newer routers add.
  const tail = r() < 0.1 ? ` tls_version=${pick(r, ['TLSv1.2', 'TLSv1.3'])}` : '';
  if (r() < (profile?.routerErrors ?? 0.04)) {
    const [code, desc, status, empty] = pick(r, H_ERRORS);
    const timing = empty ? 'dyno= connect= service=' : `dyno=web.${int(r, 1, 8)} connect=${int(r, 0, 5)}ms service=${code === 'H12' ? 30000 : int(r, 1, 29999)}ms`;
    // Drawn where the line used to draw it, so that the default mix stays the same bytes.
    const rid = (lastRequestId = uuid(r));
    return `at=error code=${code} desc="${desc}" method=${method} path="${path}" host=${host} request_id=${rid} fwd="${fwd}" ${timing} status=${status} bytes=${empty ? '' : int(r, 0, 500)} protocol=${protocol}${tail}`;
  }
  const status = profile === undefined ? pick(r, STATUSES) : r() < profile.status500 ? 500 : pick(r, NOT_500);
  const service = r() < 1 - (profile?.slow ?? 0.1) ? int(r, 1, 250) : int(r, 250, 8000);
  const rid = (lastRequestId = uuid(r));
  return `at=info method=${method} path="${path}" host=${host} request_id=${rid} fwd="${fwd}" dyno=web.${int(r, 1, 8)} connect=${int(r, 0, 3)}ms service=${service}ms status=${status} bytes=${int(r, 0, 250000)} protocol=${protocol}${tail}`;
}

// ---------------------------------------------------------------------------------------------
// App output

const PLAIN = [
  'Completed 200 OK in 12ms (Views: 3.1ms | ActiveRecord: 1.2ms)',
  'Started GET "/products/42" for 203.0.113.9 at 2024-05-01 12:00:00 +0000',
  'Processing by ProductsController#show as HTML',
  'ERROR Stripe::CardError: Your card was declined.',
  '[warn] cache miss for key user:42:profile',
  'I, [2024-05-01T12:00:00.123456 #4]  INFO -- : Rendered products/show.html.erb within layouts/application (Duration: 4.2ms | Allocations: 1870)',
  'WARNING:root:retrying request to payments service (attempt 2/3)',
  'Listening on http://0.0.0.0:5000',
];

function appText(r: Rand, profile?: MixProfile): string {
  const x = r();
  if (x < 0.35) return pick(r, PLAIN);
  if (x < 0.6) {
    const level = pick(r, ['info', 'info', 'warn', 'error', 'debug']);
    return `at=${level} msg="${pick(r, ['slow query', 'job done', 'cache miss', 'retrying'])}" user_id=${int(r, 1, 99999)} duration=${int(r, 1, 900)}ms request_id=${profile === undefined ? uuid(r) : lastRequestId}`;
  }
  if (x < 0.85) {
    const level = pick(r, ['info', 'info', 'warn', 'error']);
    const trace = r() < 0.5 ? `,"trace_id":"${hex(r, 32)}","span_id":"${hex(r, 16)}"` : '';
    const err = level === 'error' ? `,"error":{"type":"TimeoutError","message":"upstream timed out after 5000ms"}` : '';
    return `{"level":"${level}","time":"2024-05-01T12:00:00.000Z","msg":"${pick(r, ['payment failed', 'order created', 'user signed in', 'webhook received'])}","order_id":${int(r, 1, 99999)},"path":"/api/v1/orders","latency_ms":${int(r, 1, 2000)}${trace}${err}}`;
  }
  return `source=${pick(r, ['web.1', 'web.2', 'worker.1'])} count#orders.created=${int(r, 1, 5)} measure#db.latency=${int(r, 1, 300)}ms sample#queue.depth=${int(r, 0, 50)} measure#render.time=${(r() * 40).toFixed(2)}ms`;
}

// ---------------------------------------------------------------------------------------------
// Runtime samples, add-on samples, platform, API, Postgres

function runtimeText(r: Rand, proc: string): string {
  const dyno = `heroku.2808254.${uuid(r)}`;
  if (r() < 0.5) {
    return `source=${proc} dyno=${dyno} sample#load_avg_1m=${(r() * 4).toFixed(2)} sample#load_avg_5m=${(r() * 3).toFixed(2)} sample#load_avg_15m=${(r() * 2).toFixed(2)}`;
  }
  const rss = r() * 500;
  return `source=${proc} dyno=${dyno} sample#memory_total=${(rss + 30).toFixed(2)}MB sample#memory_rss=${rss.toFixed(2)}MB sample#memory_cache=${(r() * 30).toFixed(2)}MB sample#memory_swap=0.00MB sample#memory_pgpgin=${int(r, 1e5, 9e5)}pages sample#memory_pgpgout=${int(r, 1e5, 9e5)}pages sample#memory_quota=512.00MB`;
}

function postgresSampleText(r: Rand): string {
  return `source=DATABASE addon=postgresql-curly-12345 sample#current_transaction=${int(r, 1e6, 9e7)} sample#db_size=${int(r, 1e9, 9e10)}bytes sample#tables=42 sample#active-connections=${int(r, 1, 40)} sample#waiting-connections=0 sample#index-cache-hit-rate=0.99814 sample#table-cache-hit-rate=0.96729 sample#load-avg-1m=${(r() * 2).toFixed(3)} sample#load-avg-5m=0.04 sample#load-avg-15m=0.03 sample#read-iops=0 sample#write-iops=${(r() * 2).toFixed(5)} sample#tmp-disk-used=543600640 sample#tmp-disk-available=72435191808 sample#memory-total=8036340kB sample#memory-free=${int(r, 1e5, 6e6)}kB sample#memory-cached=6288636kB sample#memory-postgres=23380.0kB sample#wal-percentage-used=0.0642`;
}

function redisSampleText(r: Rand): string {
  return `source=REDIS addon=redis-closed-12345 sample#active-connections=${int(r, 1, 20)} sample#load-avg-1m=0.145 sample#load-avg-5m=0.12 sample#load-avg-15m=0.1 sample#read-iops=0 sample#write-iops=0 sample#memory-total=16082928kB sample#memory-free=${int(r, 1e6, 9e6)}kB sample#memory-cached=5421600kB sample#memory-redis=${int(r, 1e5, 9e6)}bytes sample#hit-rate=0.92675 sample#evicted-keys=0`;
}

const PLATFORM = [
  'State changed from starting to up',
  'State changed from up to crashed',
  'Starting process with command `bundle exec puma -C config/puma.rb`',
  'Process exited with status 143',
  'Process exited with status 137',
  'Stopping all processes with SIGTERM',
  'Cycling',
  'Process running mem=590M(115.2%)',
  'Error R14 (Memory quota exceeded)',
  'Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch',
];

const API = [
  'Release v42 created by user dev@example.com',
  'Deploy 1a2b3c4 by user dev@example.com',
  'Set FOO, BAR config vars by user dev@example.com',
  'Scaled to web@3:Standard-2X worker@1:Basic by user ops@example.com',
  'Starting process with command `bundle exec rake db:migrate` by user scheduler@addons.heroku.com',
];

const POSTGRES_LOGS = [
  '[DATABASE] [12-1]  sql_error_code = 28P01 time_ms = "2024-05-01 12:02:11.793 UTC" pid="1991397" database="d4f1lsk9a0" user="app" FATAL:  password authentication failed for user "app"',
  '[DATABASE] [9-1] sql_error_code=00000 LOG:  duration: 1532.201 ms  statement: SELECT * FROM orders WHERE user_id = 42',
  '[DATABASE] [10-1] sql_error_code=57014 ERROR:  canceling statement due to statement timeout',
];

/** One Logplex message (no length prefix, no newline), the kind chosen from the mix. */
export interface MixLine {
  kind: 'router' | 'app' | 'runtime' | 'other';
  message: string;
}

function timestamp(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const frac = String(micros % 1_000_000).padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}+00:00`;
}

function envelope(pri: number, ts: string, app: string, proc: string, text: string): string {
  return `<${pri}>1 ${ts} host ${app} ${proc} - ${text}`;
}

/** `n` messages in the mix's proportions, the same ones for the same seed. */
export function generateMix(n: number, seed = 42, profile?: MixProfile): MixLine[] {
  const r = prng(seed);
  const out: MixLine[] = [];
  let micros = Date.UTC(2024, 4, 1, 12) * 1000;
  for (let i = 0; i < n; i++) {
    micros += int(r, 1, 3000);
    const ts = timestamp(micros);
    const x = r();
    if (x < 0.8) {
      out.push({ kind: 'router', message: envelope(158, ts, 'heroku', 'router', routerText(r, profile)) });
    } else if (x < 0.9) {
      const proc = pick(r, ['web.1', 'web.2', 'web.3', 'worker.1', 'run.2660', 'scheduler.1234']);
      out.push({ kind: 'app', message: envelope(190, ts, 'app', proc, appText(r, profile)) });
    } else if (x < 0.95) {
      const proc = pick(r, ['web.1', 'web.2', 'web.3', 'worker.1']);
      out.push({ kind: 'runtime', message: envelope(45, ts, 'heroku', proc, runtimeText(r, proc)) });
    } else {
      const y = r();
      let message: string;
      if (y < 0.25) message = envelope(134, ts, 'app', 'heroku-postgres', postgresSampleText(r));
      else if (y < 0.4) message = envelope(134, ts, 'app', 'heroku-redis', redisSampleText(r));
      else if (y < 0.7) message = envelope(45, ts, 'heroku', pick(r, ['web.1', 'web.2', 'worker.1']), pick(r, PLATFORM));
      else if (y < 0.8)
        message = envelope(172, ts, 'heroku', 'logplex', `Error L10 (output buffer overflow): ${int(r, 1, 900)} messages dropped since 2024-05-01T12:00:59+00:00.`);
      else if (y < 0.9) message = envelope(190, ts, 'app', 'api', pick(r, API));
      else message = envelope(132, ts, 'app', `postgres.${int(r, 1000, 9999999)}`, pick(r, POSTGRES_LOGS));
      out.push({ kind: 'other', message });
    }
  }
  return out;
}

/** A Logplex HTTPS body and how many frames it holds. */
export interface Body {
  buf: Buffer;
  lines: number;
}

/**
 * Packs the messages into octet-counted bodies of about `targetBytes` each
 * (`LEN SP MSG\n`, LEN = MSG's bytes plus the newline).
 */
export function toLogplexBodies(lines: readonly MixLine[], targetBytes = 100_000): Body[] {
  const bodies: Body[] = [];
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (parts.length === 0) return;
    bodies.push({ buf: Buffer.from(parts.join(''), 'utf8'), lines: parts.length });
    parts = [];
    size = 0;
  };
  for (const { message } of lines) {
    const frame = `${Buffer.byteLength(message, 'utf8') + 1} ${message}\n`;
    if (size > 0 && size + frame.length > targetBytes) flush();
    parts.push(frame);
    size += frame.length;
  }
  flush();
  return bodies;
}

/** The lines in POSTs of exactly `perPost` lines each (the last may hold fewer). */
export function toBatches(lines: readonly MixLine[], perPost: number): Body[] {
  const bodies: Body[] = [];
  for (let i = 0; i < lines.length; i += perPost) bodies.push(...toLogplexBodies(lines.slice(i, i + perPost), Number.POSITIVE_INFINITY));
  return bodies;
}

/** How many of each kind: printed so a reader sees the mix really is 80/10/5/5. */
export function mixCounts(lines: readonly MixLine[]): Record<MixLine['kind'], number> {
  const counts = { router: 0, app: 0, runtime: 0, other: 0 };
  for (const l of lines) counts[l.kind]++;
  return counts;
}
