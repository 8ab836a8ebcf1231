/**
 * The `redact` processor: masks secrets in every string attribute and in the body, before any
 * exporter (or alert sample) sees them, and counts what it masked:
 * - the values of attributes whose names look secret (`token`, `password`, `api_key`, `X-Auth-Token`);
 * - in text, the values of secret-named pairs in any form (`token=`, `password: `, `api_key = "..."`,
 *   JSON at any depth, `user[password]=`), `Authorization` credentials after their scheme word,
 *   passwords in URLs (`postgres://u:***@host`), well-known token shapes (`sk_live_...`, `ghp_...`,
 *   JWTs), and e-mail addresses when asked. Only the value is masked; the text around it stays.
 *
 * A text is searched only when a quick scan finds a secret word, `://` or a token prefix in it, so
 * the lines with nothing to hide (nearly all) cost one linear scan.
 */
import { EVENT_HEROKU_ROUTER_REQUEST } from '../../semconv/events.ts';
import type { AttributeValue, Attributes, LogRecordData, SpanData } from '../../translate/telemetry.ts';
import type { RedactConfig } from './config.ts';
import { emailAddresses, maskRanges, mayHoldTokenShape, secretPairs, tokenShapes, urlCredentials, type NameTest } from './secrets.ts';
import { ownString } from '../../own-string.ts';

/** How key names split into words: `.`, `_`, `-`, spaces, brackets (`user[password]`, `%5B`), camelCase. */
const NAME_WORDS = /[._\-\s[\]]+|%5[bBdD]|(?<=[a-z0-9])(?=[A-Z])/;
/** Names seen, secret or not: they repeat on every line. Bounded, as apps choose them. */
const NAME_CACHE_MAX = 10_000;
/** Slots of the table of names found in texts (isSecretAt): a power of two. */
const NAME_SLOTS = 512;
/**
 * The quick scan for `token_shapes` (secrets.ts's tokenShapes): a separate, case-sensitive search
 * anchored on the shapes' rarer characters (`_live_`, `-` after `xoxb`, `yJ` of `eyJ`), which
 * costs a third of adding the prefixes to the case-insensitive word search. `Bearer` in any case,
 * as tokenShapes reads it.
 */
const TOKEN_SHAPES_QUICK = /_(?:live|test)_|(?<=gh[pousr])_|_pat_|(?<=xox[bpas])-|KIA[0-9A-Z]{16}|SIA[0-9A-Z]{16}|yJ[0-9A-Za-z_-]{5}|[Bb][Ee][Aa][Rr][Ee][Rr][ \t]/;
const PLAIN_VALUES = new Set(['', 'true', 'false', 'null', 'nil', 'none', 'undefined']);
/**
 * A router record's attributes that are the router's own fields in fixed formats (methods,
 * schemes, ids, addresses, codes): not searched even when its body is. The request target
 * (`url.*`) and fields the translator does not know are.
 */
const ROUTER_OWN = new Set([
  'event.name',
  'heroku.log.kind',
  'heroku.log.shape',
  'heroku.syslog.app_name',
  'heroku.syslog.proc_id',
  'heroku.syslog.msg_id',
  'heroku.process.name',
  'heroku.process.type',
  'heroku.dyno.id',
  'http.request.method',
  'http.request.method_original',
  'url.scheme',
  'server.address',
  'client.address',
  'heroku.router.request_id',
  'heroku.router.protocol',
  'heroku.router.sock',
  'heroku.router.tls_version',
  'network.protocol.name',
  'network.protocol.version',
  'tls.protocol.name',
  'tls.protocol.version',
  'error.type',
  'heroku.error.code',
  'heroku.error.description',
]);


function nameWords(name: string): string[] {
  return name
    .split(NAME_WORDS)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The quick scan: one case-insensitive search for a secret word, `://` (and `@` for e-mail
 * addresses). A compound word (`api_key`) is looked for with or without one separator between
 * its parts; a word that holds another (`authorization` holds `auth`) is left to the shorter one.
 */
function quickWords(config: RedactConfig): RegExp {
  const entries = config.keys.map(nameWords).filter((parts) => parts.length > 0);
  const single = entries.filter((parts) => parts.length === 1).map((parts) => parts[0]!);
  const alternatives = new Set<string>();
  for (const parts of entries) {
    const covered = parts.some((part) => single.some((w) => w !== part && part.includes(w)) || (parts.length > 1 && single.includes(part)));
    // Any run of the separators nameWords splits on (`api__key`, `api%5Bkey%5D`, `api key`): a
    // name isSecret calls secret must not be skipped by this scan.
    if (!covered) alternatives.add(parts.map(escapeRegExp).join('(?:[-_.\\s[\\]]|%5[bd])*'));
  }
  alternatives.add(':\\/\\/');
  if (config.emails) alternatives.add('@');
  return new RegExp([...alternatives].join('|'), 'i');
}

export class RedactProcessor implements NameTest {
  readonly id: string;
  readonly counters = { masked: 0, records: 0 };
  private readonly _words: Set<string>;
  private readonly _mask: string;
  private readonly _emails: boolean;
  private readonly _tokenShapes: boolean;
  private readonly _quickWords: RegExp;
  private readonly _quickShapes: RegExp | undefined;
  private readonly _names = new Map<string, boolean>();
  /**
   * The last name seen in each slot (by a hash of its characters) and whether it is secret: a
   * pair's name in a text (`status=`, `request_id=`, on every router line) is judged without
   * being cut out of the text and looked up.
   */
  private readonly _slotNames: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS).fill(undefined);
  private readonly _slotSecret = new Uint8Array(NAME_SLOTS);

  constructor(id: string, config: RedactConfig) {
    this.id = id;
    this._words = new Set(config.keys.map((k) => nameWords(k).join('')).filter(Boolean));
    this._mask = config.mask;
    this._emails = config.emails;
    this._tokenShapes = config.token_shapes;
    this._quickWords = quickWords(config);
    this._quickShapes = config.token_shapes ? TOKEN_SHAPES_QUICK : undefined;
  }

  /** Whether a key name looks secret. */
  isSecret(name: string): boolean {
    let secret = this._names.get(name);
    if (secret === undefined) {
      const words = nameWords(name);
      secret = words.some((w, i) => this._words.has(w) || (i > 0 && this._words.has(words[i - 1]! + w)));
      if (this._names.size < NAME_CACHE_MAX) this._names.set(ownString(name), secret);
    }
    return secret;
  }

  isSecretAt(text: string, start: number, end: number): boolean {
    const length = end - start;
    let h = length;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
    const slot = h & (NAME_SLOTS - 1);
    const known = this._slotNames[slot];
    if (known !== undefined && known.length === length && text.startsWith(known, start)) return this._slotSecret[slot] === 1;
    const name = ownString(text.slice(start, end));
    const secret = this.isSecret(name);
    this._slotNames[slot] = name;
    this._slotSecret[slot] = secret ? 1 : 0;
    return secret;
  }

  process(records: readonly LogRecordData[]): void {
    for (const r of records) {
      const router = r.eventName === EVENT_HEROKU_ROUTER_REQUEST;
      const searchBody = r.body.length > 0 && this._worthSearching(r.body);
      // A router record's attributes are all cut from its body, the router's line (or are
      // `heroku`, `router`): when the body holds nothing to look at, neither do they.
      if (router && !searchBody) continue;
      const before = this.counters.masked;
      this._attributes(r.attributes, router);
      if (searchBody) r.body = this._text(r.body);
      if (this.counters.masked > before) this.counters.records++;
    }
  }

  /**
   * A router request's spans: their attributes are the router record's (url.path and url.query
   * hold what a client put in the request target), searched as the record's are; the name too,
   * which holds a route template a user's pattern made. Counted with the records.
   */
  processSpans(spans: readonly SpanData[]): void {
    for (const s of spans) {
      const before = this.counters.masked;
      this._attributes(s.attributes, true);
      if (s.name.length > 0 && this._worthSearching(s.name)) s.name = this._text(s.name);
      if (this.counters.masked > before) this.counters.records++;
    }
  }

  /** Masks secret-named values, and secrets inside text values (not the router's own fields of a router item). */
  private _attributes(attributes: Attributes, router: boolean): void {
    for (const key in attributes) {
      const value = attributes[key]!;
      if (this.isSecret(key)) {
        const masked = this._maskValue(value);
        if (masked !== value) {
          attributes[key] = masked;
          this.counters.masked++;
        }
      } else if (typeof value === 'string') {
        if (value.length > 0 && !(router && ROUTER_OWN.has(key)) && this._worthSearching(value)) attributes[key] = this._text(value);
      } else if (Array.isArray(value)) {
        // A new array only when an element changed (a router line's `fwd` addresses seldom do).
        let masked: string[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v = value[i]!;
          const text = v.length > 0 && this._worthSearching(v) ? this._text(v) : v;
          if (text !== v) (masked ??= value.slice())[i] = text;
        }
        if (masked !== undefined) attributes[key] = masked;
      }
    }
  }

  /** Whether a text may hold anything `_text` masks: most lines do not, and cost this only. */
  private _worthSearching(text: string): boolean {
    return this._quickWords.test(text) || (this._quickShapes !== undefined && this._quickShapes.test(text));
  }

  /** A secret-named attribute's value, masked; `true`, `false`, `null` and empty say nothing and stay. */
  private _maskValue(value: AttributeValue): AttributeValue {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') return value.length <= 9 && PLAIN_VALUES.has(value.toLowerCase()) ? value : this._mask;
    if (Array.isArray(value)) return value.map(() => this._mask);
    return this._mask;
  }

  /** A text with its secrets masked (the same string when it has none). */
  private _text(text: string): string {
    const ranges: number[] = [];
    if (text.includes('://')) urlCredentials(text, ranges);
    secretPairs(text, this, this._mask, ranges);
    // A text searched for a secret word seldom holds a token shape too: its scan only when it may.
    if (this._tokenShapes && mayHoldTokenShape(text)) tokenShapes(text, ranges);
    if (this._emails) emailAddresses(text, ranges);
    if (ranges.length === 0) return text;
    const masked = maskRanges(text, ranges, this._mask);
    this.counters.masked += masked.count;
    return masked.text;
  }
}
