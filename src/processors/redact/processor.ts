/**
 * The `redact` processor: masks the values of query parameters, logfmt and JSON keys and
 * attributes whose names look secret (`token`, `password`, `api_key`, `X-Auth-Token`...), and
 * e-mail addresses when asked, in attributes and in the body, before any exporter (or alert
 * sample) sees them. Counts what it masked.
 *
 * The body is only searched when a quick scan finds one of the secret words in it, so the lines
 * with nothing to hide (nearly all) cost one linear scan.
 */
import type { AttributeValue, LogRecordData } from '../../translate/telemetry.ts';
import type { RedactConfig } from './config.ts';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** `name=value` (query strings, logfmt) and `"name": "value"` / `"name": value` (JSON). */
const PAIRS = /([A-Za-z0-9_.\-]+)=("[^"]*"|[^&\s"]*)|"([A-Za-z0-9_.\-]+)"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\s]+)/g;
/** Attributes whose text may hold `name=value` pairs; with `emails`, every string is searched. */
const TEXT_ATTRIBUTES = new Set(['url.query', 'url.full', 'process.command_line', 'exception.message', 'heroku.config.vars']);
/** Names seen, secret or not: they repeat on every line. Bounded, as apps choose them. */
const NAME_CACHE_MAX = 10_000;

export class RedactProcessor {
  readonly id: string;
  readonly counters = { masked: 0, records: 0 };
  private readonly _words: Set<string>;
  private readonly _mask: string;
  private readonly _emails: boolean;
  private readonly _quick: RegExp;
  private readonly _names = new Map<string, boolean>();

  constructor(id: string, config: RedactConfig) {
    this.id = id;
    this._words = new Set(config.keys.map((k) => k.toLowerCase().replace(/[^a-z0-9]/g, '')));
    this._mask = config.mask;
    this._emails = config.emails;
    const escaped = [...this._words].map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this._quick = new RegExp(`${escaped.join('|')}${config.emails ? '|@' : ''}`, 'i');
  }

  /** Whether a key name looks secret. */
  isSecret(name: string): boolean {
    let secret = this._names.get(name);
    if (secret === undefined) {
      const words = name
        .split(/[._\-\s]+|(?<=[a-z0-9])(?=[A-Z])/)
        .filter(Boolean)
        .map((w) => w.toLowerCase());
      secret = words.some((w, i) => this._words.has(w) || (i > 0 && this._words.has(words[i - 1]! + w)));
      if (this._names.size < NAME_CACHE_MAX) this._names.set(name, secret);
    }
    return secret;
  }

  process(records: readonly LogRecordData[]): void {
    for (const r of records) {
      const before = this.counters.masked;
      const attributes = r.attributes;
      for (const key in attributes) {
        const value = attributes[key]!;
        if (this.isSecret(key)) {
          attributes[key] = this._maskValue(value);
          this.counters.masked++;
        } else if (typeof value === 'string' && (this._emails || TEXT_ATTRIBUTES.has(key)) && value.length > 0 && this._quick.test(value)) {
          attributes[key] = this._text(value);
        } else if (Array.isArray(value) && this._emails) {
          attributes[key] = value.map((v) => this._text(v));
        }
      }
      if (r.body.length > 0 && this._quick.test(r.body)) r.body = this._text(r.body);
      if (this.counters.masked > before) this.counters.records++;
    }
  }

  private _maskValue(value: AttributeValue): AttributeValue {
    return Array.isArray(value) ? value.map(() => this._mask) : this._mask;
  }

  /** Masks the secret pairs (and e-mail addresses, when asked) of a text. */
  private _text(text: string): string {
    let out = text.replace(PAIRS, (whole, qName?: string, qValue?: string, jName?: string, jValue?: string) => {
      const name = qName ?? jName!;
      const value = qValue ?? jValue ?? '';
      if (value === '' || value === '""') return whole;
      if (!this.isSecret(name)) {
        // A quoted value may hold pairs of its own: the router's path="/reset?token=...".
        if (value.length > 2 && value.startsWith('"') && this._quick.test(value)) {
          const inner = `"${this._text(value.slice(1, -1))}"`;
          return qName !== undefined ? `${name}=${inner}` : `"${name}":${inner}`;
        }
        return whole;
      }
      this.counters.masked++;
      const masked = value.startsWith('"') ? `"${this._mask}"` : this._mask;
      return qName !== undefined ? `${name}=${masked}` : `"${name}":${masked}`;
    });
    if (this._emails) {
      out = out.replace(EMAIL, () => {
        this.counters.masked++;
        return this._mask;
      });
    }
    return out;
  }
}
