/**
 * Route templates for router paths: `/users/48213/orders/9f2c1e0a` becomes `/users/{id}/orders/{hex}`,
 * a value of few distinct values that a histogram or a span name can carry (`url.template`).
 *
 * A path is templated segment by segment, first match wins:
 * 1. a user-given pattern (`/users/{id}/orders/{order_id}`) that matches the whole path;
 * 2. the segment's shape: digits `{id}`, a UUID `{uuid}`, hex with a digit (8 and more) `{hex}`,
 *    a base64-like or long token `{token}` (over 64 characters, or 16 and more of
 *    `[A-Za-z0-9_=+-]` mixing letters and digits); inside a segment split by `-`, `_` and `.`, parts
 *    of digits or of hex (`application-3f2a1b9c.css` to `application-{hex}.css`);
 * 3. learned per drain: under one parent, a position that has seen more than `max_segment_values`
 *    distinct values is variable, `{var}`, from then on (usernames, slugs); the values seen before
 *    it turned keep their own entries (`/users/new` stays itself). Once the table is half full,
 *    that limit shrinks with the room left (down to 1 value), so that small sets of values that
 *    multiply (`/shop/{a}/{b}/{c}`) turn variable before they fill it.
 *
 * Bounded whatever the input: at most `max_templates` distinct templates are learned, plus the
 * catch-all `/{overflow}` a path gets once the table is full (counted in `overflows`); the trie
 * holds at most 4 x max_templates nodes, each with at most max_segment_values literal children of
 * at most 64 characters; a path is read to its 16th segment, what follows being `{rest}`. So one
 * table holds at most a few MB, however many distinct paths go through it.
 *
 * Segments are compared as written (percent-encoding kept): the router logs the path as the client
 * sent it, and decoding would make one route of two spellings only to spend time on every line.
 */

export const PLACEHOLDER_ID = '{id}';
export const PLACEHOLDER_UUID = '{uuid}';
export const PLACEHOLDER_HEX = '{hex}';
export const PLACEHOLDER_TOKEN = '{token}';
export const PLACEHOLDER_VAR = '{var}';
export const PLACEHOLDER_REST = '{rest}';
/** The template of every path that finds the table full. */
export const OVERFLOW_TEMPLATE = '/{overflow}';

/** Segments longer than this are tokens: no route names a segment that long. */
export const MAX_LITERAL_SEGMENT = 64;
/** Segments read; what follows the last is `{rest}`. */
export const MAX_SEGMENTS = 16;
/** Trie nodes per table, as a multiple of max_templates. */
export const NODES_PER_TEMPLATE = 4;
/** Recent paths and their templates, for paths a drain sees again (`/`, `/health`, assets). */
const RECENT_PATHS = 1024;
/** Longer paths are not kept among the recent ones: bounded memory. */
const RECENT_PATH_MAX = 256;
/** From this share of the table used, a position takes fewer values before it is variable. */
const PRESSURE_FROM = 0.25;

export interface UrlTemplateOptions {
  /** User-given templates, tried first, in order: `/users/{id}/orders/{order_id}`. */
  patterns?: readonly string[];
  /** Distinct templates learned per table (per drain). Default 1000. */
  maxTemplates?: number;
  /** Distinct values a position under one parent takes before it is `{var}`. Default 25. */
  maxSegmentValues?: number;
}

export const DEFAULT_MAX_TEMPLATES = 1000;
export const DEFAULT_MAX_SEGMENT_VALUES = 25;

class Node {
  /** The template of the path up to and including this node's segment. */
  readonly prefix: string;
  /** Children by their segment (a literal, or a placeholder). */
  children: Map<string, Node> | undefined = undefined;
  /** Literal children: when it would pass the limit, the position turns variable. */
  literals = 0;
  variable = false;
  /** Set once a path ended here and the template was counted. */
  template: string | undefined = undefined;

  constructor(prefix: string) {
    this.prefix = prefix;
  }
}

/** A pattern's segments: a literal, or null for a `{name}` that matches any one segment. */
interface Pattern {
  template: string;
  segments: ReadonlyArray<string | null>;
}

/** Why a user-given pattern is refused, or undefined when it is one. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.charCodeAt(0) !== 47) return 'a pattern is a path: it starts with /';
  if (pattern.indexOf('?') >= 0 || pattern.indexOf('#') >= 0) return 'a pattern is a path without query or fragment';
  for (const segment of pattern.slice(1).split('/')) {
    const open = segment.indexOf('{');
    const close = segment.indexOf('}');
    if (open < 0 && close < 0) continue;
    if (open !== 0 || close !== segment.length - 1 || segment.length < 3) return `a {name} placeholder is a whole segment: ${JSON.stringify(segment)}`;
    for (let i = 1; i < segment.length - 1; i++) {
      const c = segment.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46 || c === 45)) {
        return `a placeholder's name is letters, digits, _ . -: ${JSON.stringify(segment)}`;
      }
    }
  }
  return undefined;
}

function compilePattern(pattern: string): Pattern {
  const problem = patternProblem(pattern);
  if (problem !== undefined) throw new Error(problem);
  return { template: pattern, segments: pattern.slice(1).split('/').map((s) => (s.charCodeAt(0) === 123 ? null : s)) };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** 8-4-4-4-12 hex digits. */
function isUuidAt(s: string, from: number, to: number): boolean {
  if (to - from !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isDigit(c) && !isHexLetter(c)) return false;
  }
  return true;
}

// Character classes of ASCII, for one table lookup per character of a segment.
const DIGIT = 1;
const LETTER = 2;
const HEX_LETTER = 4;
const UPPER = 8;
const SEPARATOR = 16;
const TOKEN_MARK = 32;
const OTHER = 64;
const CHAR_CLASS = new Uint8Array(128).fill(OTHER);
for (let c = 48; c <= 57; c++) CHAR_CLASS[c] = DIGIT;
for (let c = 97; c <= 122; c++) CHAR_CLASS[c] = LETTER | (c <= 102 ? HEX_LETTER : 0);
for (let c = 65; c <= 90; c++) CHAR_CLASS[c] = LETTER | UPPER | (c <= 70 ? HEX_LETTER : 0);
for (const c of '-_.') CHAR_CLASS[c.charCodeAt(0)] = SEPARATOR;
for (const c of '=+~') CHAR_CLASS[c.charCodeAt(0)] = TOKEN_MARK;

/** A part of a segment between separators that varies: digits (2 and more), or hex with a digit and a letter (6 and more). */
function partPlaceholder(s: string, from: number, to: number): string | undefined {
  const n = to - from;
  if (n < 2) return undefined;
  let digits = 0;
  let hexLetters = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (isHexLetter(c)) hexLetters++;
    else return undefined;
  }
  if (digits === n) return PLACEHOLDER_ID;
  return n >= 6 && digits > 0 && hexLetters > 0 ? PLACEHOLDER_HEX : undefined;
}

/**
 * The segment path[from, to) as the trie keys it: a placeholder when its shape varies, a literal
 * with its varying parts replaced, or the literal itself (sliced only here).
 */
export function segmentKey(path: string, from: number, to: number): string {
  const n = to - from;
  if (n === 0) return '';
  if (n > MAX_LITERAL_SEGMENT) return PLACEHOLDER_TOKEN;
  let digits = 0;
  let hexLetters = 0;
  let letters = 0;
  let upper = 0;
  let separators = 0;
  let other = 0;
  for (let i = from; i < to; i++) {
    const c = path.charCodeAt(i);
    const k = c < 128 ? CHAR_CLASS[c]! : OTHER;
    if (k === DIGIT) digits++;
    else if (k & LETTER) {
      letters++;
      if (k & HEX_LETTER) hexLetters++;
      if (k & UPPER) upper++;
    } else if (k === SEPARATOR) separators++;
    else if (k === TOKEN_MARK) other++;
    else other += 1000; // `%`, `:`, `@`...: never a token
  }
  if (digits === n) return PLACEHOLDER_ID;
  if (n === 36 && separators === 4 && isUuidAt(path, from, to)) return PLACEHOLDER_UUID;
  if (digits + hexLetters === n && n >= 8 && digits > 0) return PLACEHOLDER_HEX;
  const token = other < 1000 && digits > 0 && letters > 0 && n >= 16 && (upper > 0 || digits >= 4);
  if (separators === 0 || digits === 0) return token ? PLACEHOLDER_TOKEN : path.slice(from, to);
  // `application-3f2a1b9c.css`, `post-123`: the varying parts of a segment with separators;
  // a base64url token (`Xk3_9aZ-qL0pR7tY2wB4`) has none that is digits or hex alone.
  let out = '';
  let changed = false;
  let partStart = from;
  for (let i = from; i <= to; i++) {
    const c = i < to ? path.charCodeAt(i) : 45;
    if (c !== 45 && c !== 95 && c !== 46) continue;
    const placeholder = partPlaceholder(path, partStart, i);
    if (placeholder !== undefined) changed = true;
    out += placeholder ?? path.slice(partStart, i);
    if (i < to) out += path[i];
    partStart = i + 1;
  }
  if (changed) return out;
  return token ? PLACEHOLDER_TOKEN : path.slice(from, to);
}

const PLACEHOLDER_KEYS = new Set([PLACEHOLDER_ID, PLACEHOLDER_UUID, PLACEHOLDER_HEX, PLACEHOLDER_TOKEN, PLACEHOLDER_VAR, PLACEHOLDER_REST]);

/** One drain's table: learns from the paths it is given, within its bounds. */
export class UrlTemplateTable {
  /** Paths that found the table full and got OVERFLOW_TEMPLATE. */
  overflows = 0;
  private readonly _patterns: readonly Pattern[];
  private readonly _maxTemplates: number;
  private readonly _maxNodes: number;
  private readonly _maxValues: number;
  private readonly _root = new Node('');
  private _templates = 0;
  private _nodes = 1;
  /**
   * Path to template, for paths seen lately: a path's template never changes once given (nodes
   * and templates are never taken back, a position turning variable keeps the values it had), so
   * this needs no invalidation. Emptied when full.
   */
  private readonly _recent = new Map<string, string>();

  constructor(options: UrlTemplateOptions = {}) {
    this._patterns = (options.patterns ?? []).map(compilePattern);
    this._maxTemplates = options.maxTemplates ?? DEFAULT_MAX_TEMPLATES;
    this._maxValues = options.maxSegmentValues ?? DEFAULT_MAX_SEGMENT_VALUES;
    this._maxNodes = this._maxTemplates * NODES_PER_TEMPLATE;
  }

  /** Distinct templates learned (user patterns and the catch-all not included). */
  get templates(): number {
    return this._templates;
  }

  /** Trie nodes held. */
  get nodes(): number {
    return this._nodes;
  }

  /**
   * The template of `path` (an absolute path, without its query), learning from it. A path that
   * is no absolute path has none, except `*` (`OPTIONS *`).
   */
  templateOf(path: string): string | undefined {
    if (path.charCodeAt(0) !== 47 /* / */) return path === '*' ? '*' : undefined;
    if (path.length > RECENT_PATH_MAX) return this._templateOf(path);
    const recent = this._recent.get(path);
    if (recent !== undefined) return recent;
    const template = this._templateOf(path);
    if (this._recent.size >= RECENT_PATHS) this._recent.clear();
    this._recent.set(path, template);
    return template;
  }

  private _templateOf(path: string): string {
    const patterns = this._patterns;
    for (let p = 0; p < patterns.length; p++) {
      if (matches(patterns[p]!, path)) return patterns[p]!.template;
    }
    let node = this._root;
    let from = 1;
    for (let depth = 0; ; depth++) {
      let to = path.indexOf('/', from);
      if (to < 0) to = path.length;
      const key = depth === MAX_SEGMENTS ? PLACEHOLDER_REST : segmentKey(path, from, to);
      const next = this._child(node, key);
      if (next === undefined) {
        this.overflows++;
        return OVERFLOW_TEMPLATE;
      }
      node = next;
      if (to === path.length || key === PLACEHOLDER_REST) break;
      from = to + 1;
    }
    if (node.template !== undefined) return node.template;
    if (this._templates >= this._maxTemplates) {
      this.overflows++;
      return OVERFLOW_TEMPLATE;
    }
    this._templates++;
    node.template = node.prefix;
    return node.template;
  }

  /** The child of `node` for `key`, made when there is room; literals past the limit go to `{var}`. */
  private _child(node: Node, key: string): Node | undefined {
    let children = node.children;
    const known = children?.get(key);
    if (known !== undefined) return known;
    const placeholder = PLACEHOLDER_KEYS.has(key);
    if (!placeholder) {
      // The fuller the table, the fewer values a position may take before it is variable: small
      // sets of values multiplied by each other (`/shop/{a}/{b}/{c}`) would fill it otherwise.
      const used = Math.max(this._nodes / this._maxNodes, this._templates / this._maxTemplates);
      const limit = used <= PRESSURE_FROM ? this._maxValues : Math.max(1, Math.floor((this._maxValues * (1 - used)) / (1 - PRESSURE_FROM)));
      if (node.variable || node.literals >= limit) {
        node.variable = true;
        return this._child(node, PLACEHOLDER_VAR);
      }
    }
    if (this._nodes >= this._maxNodes) return undefined;
    const child = new Node(`${node.prefix}/${key}`);
    if (children === undefined) children = node.children = new Map();
    children.set(key, child);
    this._nodes++;
    if (!placeholder) node.literals++;
    return child;
  }
}

/** Whether the whole of `path` matches `pattern`, segment by segment, by index. */
function matches(pattern: Pattern, path: string): boolean {
  const segments = pattern.segments;
  let from = 1;
  for (let s = 0; s < segments.length; s++) {
    let to = path.indexOf('/', from);
    const last = s === segments.length - 1;
    if (to < 0) {
      if (!last) return false;
      to = path.length;
    } else if (last) return false;
    const literal = segments[s];
    if (literal !== null && literal !== undefined) {
      if (literal.length !== to - from || !path.startsWith(literal, from)) return false;
    } else if (to === from) return false; // a placeholder matches a segment, not nothing
    from = to + 1;
  }
  return true;
}
