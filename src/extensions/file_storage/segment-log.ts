/**
 * One persistent queue's files: an append-only log of entries in numbered segment files, and
 * beside each segment the offsets of its entries already sent (its `.ack` file). A segment is
 * deleted once every entry in it is acknowledged and a newer one is being written.
 *
 * Why a log and not a file per entry: appends that arrive together are written with one
 * `writev` (and one fdatasync when `fsync` is on), so a burst of small POSTs costs a few system
 * calls, not a file creation each; reading back an entry is one positioned read.
 *
 * An entry on disk:
 *
 *   u32 length of what follows the checksum | u32 crc32 of it | u32 items | u32 meta length |
 *   meta (JSON: the pipeline id, the resource, and the form `f` of encoded items) |
 *   payload (raw deflate of the items: v8-serialised, or as their exporter encoded them)
 *
 * Items encoded (meta `f`, e.g. `otlp-proto-1`) are the bytes an exporter's wire form made of
 * them (see WireForm in src/exporters/exporter.ts), stored as they are: no serialising on the
 * way in, no parsing on the way out. Without `f` (every entry of releases before it), the payload
 * is the v8-serialised item objects.
 *
 * The meta length's top bit set: the payload is as it is, not deflated. The queue writes so
 * what it also keeps in memory (and sends from there while the backend keeps up) while the
 * budget is mostly free: deflating what is read back only after a crash would cost every POST.
 *
 * After a crash the log is read from the start of each segment: an entry cut short at a
 * segment's end (the process died while writing it, so it was never acknowledged to anyone) is
 * cut off; a checksum that does not match ends that segment's reading, counted and logged.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { open, appendFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw, inflateRaw } from 'node:zlib';
import { deserialize, serialize } from 'node:v8';
import type { Attributes } from '../../translate/telemetry.ts';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

const HEAD = 8; // length + crc
const FIXED = 8; // items + meta length
/** The meta length's top bit: a payload not deflated. */
const PLAIN = 2 ** 31;
const META_LENGTH = 0x7fffffff;
/** Entries next to each other on disk are read together up to this many bytes. */
const READ_RUN_BYTES = 4 * 1024 * 1024;

/** Items as their exporter's wire form encoded them (WireForm): stored and read back as bytes. */
export interface Encoded {
  /** The form's name (`otlp-proto-1`). */
  form: string;
  count: number;
  bytes: Uint8Array;
}

/** Where an entry lives: what reading it back or acknowledging it takes. */
export interface EntryPlace {
  readonly segment: number;
  readonly offset: number;
  /** Bytes on disk, header included. */
  readonly bytes: number;
}

/** An entry written, and what the queue needs to know of it without reading it. */
export interface StoredEntry extends EntryPlace {
  items: number;
  pipeline: string;
  resource: Attributes;
}

/** What reading the log back found. */
export interface Recovered {
  entries: StoredEntry[];
  /** Entries cut short at a segment's end: written by a process that died mid-write. */
  torn: number;
  /** Segments whose reading stopped at a checksum that did not match, and the bytes skipped. */
  corrupt: { segment: number; bytesSkipped: number }[];
}

/** The budget a file storage's logs share: bytes on disk, all its queues together. */
export interface Budget {
  readonly maxBytes: number;
  used: number;
}

interface Segment {
  number: number;
  /** Bytes written (or found) in it. */
  size: number;
  /** Entries not yet acknowledged. */
  live: number;
  /** No more appends: deleted when `live` reaches 0. */
  sealed: boolean;
}

interface Append {
  /** The header and meta, then the payload: written together, the payload never copied. */
  head: Buffer;
  payload: Uint8Array;
  bytes: number;
  items: number;
  pipeline: string;
  resource: Attributes;
  resolve: (entry: StoredEntry) => void;
  reject: (error: unknown) => void;
}

function segmentName(n: number): string {
  return String(n).padStart(10, '0');
}

function isEncoded(items: readonly unknown[] | Encoded): items is Encoded {
  return !Array.isArray(items);
}

export class SegmentLog {
  readonly directory: string;
  private readonly _fsync: boolean;
  private readonly _segmentBytes: number;
  private readonly _budget: Budget;
  private readonly _segments = new Map<number, Segment>();
  private _current: Segment | undefined;
  private _handle: FileHandle | undefined;
  private _next = 1;
  /** Appends waiting for the writer, and whether it is running. */
  private _waiting: Append[] = [];
  private _writing = false;
  /** Reserved for appends being compressed or written, so that concurrent ones cannot overshoot. */
  private _reserved = 0;
  /** Bytes per item seen so far: how much room a batch of n items will probably take. */
  private _bytesPerItem = 400;
  /** The meta of the last drain's resource written: the next append of it (most) reuses it. */
  private _lastMeta: { resource: Attributes; pipeline: string; form: string | undefined; bytes: Buffer } | undefined;
  /** Metadata operations (acks, deletions), one after another. */
  private _meta: Promise<void> = Promise.resolve();
  private _closed = false;

  constructor(directory: string, options: { fsync: boolean; segmentBytes: number; budget: Budget }) {
    this.directory = directory;
    this._fsync = options.fsync;
    this._segmentBytes = options.segmentBytes;
    this._budget = options.budget;
  }

  /** Reads what an earlier run left, oldest first; appends go to a new segment after it. */
  recover(): Recovered {
    mkdirSync(this.directory, { recursive: true });
    const found = readdirSync(this.directory)
      .filter((f) => f.endsWith('.seg'))
      .map((f) => Number(f.slice(0, -4)))
      .filter((n) => Number.isSafeInteger(n) && n > 0)
      .sort((a, b) => a - b);
    const recovered: Recovered = { entries: [], torn: 0, corrupt: [] };
    for (const number of found) {
      const path = this._path(number, 'seg');
      const data = readFileSync(path);
      const acked = this._readAcks(number);
      const segment: Segment = { number, size: 0, live: 0, sealed: true };
      let offset = 0;
      while (offset < data.length) {
        if (offset + HEAD + FIXED > data.length) {
          recovered.torn++;
          break;
        }
        const length = data.readUInt32LE(offset);
        const end = offset + HEAD + length;
        if (length < FIXED || end > data.length) {
          recovered.torn++;
          break;
        }
        if (crc32(data.subarray(offset + HEAD, end)) !== data.readUInt32LE(offset + 4)) {
          recovered.corrupt.push({ segment: number, bytesSkipped: data.length - offset });
          break;
        }
        const items = data.readUInt32LE(offset + HEAD);
        const metaLength = data.readUInt32LE(offset + HEAD + 4) & META_LENGTH;
        if (!acked.has(offset)) {
          const meta = JSON.parse(data.toString('utf8', offset + HEAD + FIXED, offset + HEAD + FIXED + metaLength)) as { p: string; r: Attributes };
          recovered.entries.push({ segment: number, offset, bytes: end - offset, items, pipeline: meta.p, resource: meta.r });
          segment.live++;
        }
        offset = end;
      }
      if (offset < data.length && recovered.corrupt.at(-1)?.segment !== number) {
        // A torn tail: cut it, so the next run does not read it again.
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, offset);
        closeSync(fd);
      }
      segment.size = statSync(path).size;
      this._next = number + 1;
      if (segment.live === 0) {
        this._deleteSync(number);
        continue;
      }
      this._segments.set(number, segment);
      this._budget.used += segment.size;
    }
    return recovered;
  }

  /** Whether about `items` more items fit the budget now. */
  room(items: number): boolean {
    return this._budget.used + this._reserved + items * this._bytesPerItem <= this._budget.maxBytes;
  }

  /**
   * Whether the budget is mostly free (a sixteenth used): entries may then be written without
   * deflating them; past it, a backlog is building and every byte of room counts.
   */
  get roomy(): boolean {
    return this._budget.used + this._reserved <= this._budget.maxBytes / 16;
  }

  /** Bytes this log takes on disk now. */
  get bytes(): number {
    let n = 0;
    for (const s of this._segments.values()) n += s.size;
    return n;
  }

  private _metaOf(pipeline: string, resource: Attributes, form: string | undefined): Buffer {
    const last = this._lastMeta;
    if (last !== undefined && last.resource === resource && last.pipeline === pipeline && last.form === form) return last.bytes;
    const bytes = Buffer.from(JSON.stringify(form === undefined ? { p: pipeline, r: resource } : { p: pipeline, r: resource, f: form }), 'utf8');
    this._lastMeta = { resource, pipeline, form, bytes };
    return bytes;
  }

  /**
   * Writes an entry: item objects (v8-serialised), or items as their exporter encoded them;
   * resolves once it is written (and flushed to the disk with `fsync`). Rejects when the budget
   * has no room for it or the write fails: nothing of it counts then. `deflate` false: written
   * as it is, for items the caller keeps in memory as well.
   */
  async append(pipeline: string, resource: Attributes, items: readonly unknown[] | Encoded, deflated = true): Promise<StoredEntry> {
    if (this._closed) throw new Error('the queue storage is closed');
    const encoded = isEncoded(items) ? items : undefined;
    const count = encoded !== undefined ? encoded.count : (items as readonly unknown[]).length;
    const estimate = count * this._bytesPerItem;
    if (this._budget.used + this._reserved + estimate > this._budget.maxBytes) throw new BudgetFull();
    this._reserved += estimate;
    let head: Buffer;
    let payload: Uint8Array;
    try {
      const meta = this._metaOf(pipeline, resource, encoded?.form);
      const raw = encoded !== undefined ? encoded.bytes : serialize(items);
      payload = deflated ? await deflate(raw, { level: 1 }) : raw;
      head = Buffer.allocUnsafe(HEAD + FIXED + meta.length);
      head.writeUInt32LE(FIXED + meta.length + payload.length, 0);
      head.writeUInt32LE(count, HEAD);
      head.writeUInt32LE(meta.length + (deflated ? 0 : PLAIN), HEAD + 4);
      meta.copy(head, HEAD + FIXED);
      head.writeUInt32LE(crc32(payload, crc32(head.subarray(HEAD))), 4);
    } finally {
      this._reserved -= estimate;
    }
    const bytes = head.length + payload.length;
    // What a backlog takes (deflated): the estimate room() makes for appends to come.
    if (count > 0 && deflated) this._bytesPerItem = this._bytesPerItem * 0.9 + (bytes / count) * 0.1;
    if (this._budget.used + this._reserved + bytes > this._budget.maxBytes) throw new BudgetFull();
    this._reserved += bytes;
    return new Promise<StoredEntry>((resolve, reject) => {
      this._waiting.push({ head, payload, bytes, items: count, pipeline, resource, resolve, reject });
      if (!this._writing) void this._write();
    });
  }

  /** Writes what is waiting, together, until nothing is. */
  private async _write(): Promise<void> {
    this._writing = true;
    while (this._waiting.length > 0) {
      let batch = this._waiting;
      this._waiting = [];
      try {
        await this._ensureSegment(batch[0]!.bytes);
        // All of it into the current segment, unless that passes its size: the rest waits a turn.
        const segment = this._current!;
        let room = this._segmentBytes - segment.size;
        let take = 0;
        for (const a of batch) {
          if (take > 0 && a.bytes > room) break;
          room -= a.bytes;
          take++;
        }
        if (take < batch.length) {
          this._waiting = batch.slice(take).concat(this._waiting);
          batch = batch.slice(0, take);
        }
        const bufs: Uint8Array[] = [];
        for (const a of batch) bufs.push(a.head, a.payload);
        let written = 0;
        while (written < bufs.length) {
          // writev may write part of what it was given: go on from where it stopped.
          const { bytesWritten } = await this._handle!.writev(bufs.slice(written));
          let left = bytesWritten;
          while (written < bufs.length && left >= bufs[written]!.length) left -= bufs[written++]!.length;
          if (left > 0) {
            bufs[written] = bufs[written]!.subarray(left);
          }
        }
        if (this._fsync) await this._handle!.datasync();
        let offset = segment.size;
        for (const a of batch) {
          const bytes = a.bytes;
          segment.size += bytes;
          segment.live++;
          this._budget.used += bytes;
          this._reserved -= bytes;
          a.resolve({ segment: segment.number, offset, bytes, items: a.items, pipeline: a.pipeline, resource: a.resource });
          offset += bytes;
        }
      } catch (error) {
        for (const a of batch) {
          this._reserved -= a.bytes;
          a.reject(error);
        }
        // A failed write may have left part of an entry: start a new segment, the old one is read up to it.
        await this._seal();
      }
    }
    this._writing = false;
  }

  private async _ensureSegment(bytes: number): Promise<void> {
    if (this._current !== undefined && this._current.size > 0 && this._current.size + bytes > this._segmentBytes) await this._seal();
    if (this._current === undefined) {
      const number = this._next++;
      this._handle = await open(this._path(number, 'seg'), 'a');
      this._current = { number, size: 0, live: 0, sealed: false };
      this._segments.set(number, this._current);
    }
  }

  private async _seal(): Promise<void> {
    const segment = this._current;
    const handle = this._handle;
    this._current = undefined;
    this._handle = undefined;
    if (handle !== undefined) await handle.close().catch(() => {});
    if (segment !== undefined) {
      segment.sealed = true;
      if (segment.live === 0) this._delete(segment);
    }
  }

  /** Reads an entry's items back: the objects, or their encoded bytes. */
  async read(entry: EntryPlace): Promise<unknown[] | Encoded> {
    const [result] = await this.readMany([entry]);
    if (result instanceof Error) throw result;
    return result!;
  }

  /**
   * Reads entries back, each segment opened once and neighbouring entries in one read: a
   * request of many one-line entries is not an open, a read and a close each. An entry that does
   * not read back as written (or a segment that cannot be opened) gives an Error in its place.
   * Encoded items come back as their bytes, with their form's name.
   */
  async readMany(entries: readonly EntryPlace[]): Promise<Array<unknown[] | Encoded | Error>> {
    const results: Array<unknown[] | Encoded | Error> = new Array(entries.length);
    const bySegment = new Map<number, number[]>();
    for (let i = 0; i < entries.length; i++) {
      const segment = entries[i]!.segment;
      let list = bySegment.get(segment);
      if (list === undefined) bySegment.set(segment, (list = []));
      list.push(i);
    }
    const inflating: Promise<void>[] = [];
    for (const [segment, indexes] of bySegment) {
      indexes.sort((a, b) => entries[a]!.offset - entries[b]!.offset);
      let handle: FileHandle;
      try {
        handle = await open(this._path(segment, 'seg'), 'r');
      } catch (error) {
        for (const i of indexes) results[i] = error as Error;
        continue;
      }
      try {
        for (let k = 0; k < indexes.length; ) {
          // A run of entries that follow each other on disk, up to READ_RUN_BYTES: one read.
          const first = entries[indexes[k]!]!;
          let end = first.offset + first.bytes;
          let last = k + 1;
          while (last < indexes.length) {
            const e = entries[indexes[last]!]!;
            if (e.offset !== end || end + e.bytes - first.offset > READ_RUN_BYTES) break;
            end += e.bytes;
            last++;
          }
          const run = Buffer.allocUnsafe(end - first.offset);
          const { bytesRead } = await handle.read(run, 0, run.length, first.offset);
          for (; k < last; k++) {
            const i = indexes[k]!;
            const e = entries[i]!;
            const at = e.offset - first.offset;
            const buf = run.subarray(at, at + e.bytes);
            if (at + e.bytes > bytesRead || buf.readUInt32LE(0) !== e.bytes - HEAD || crc32(buf.subarray(HEAD)) !== buf.readUInt32LE(4)) {
              results[i] = new Error(`entry at ${e.offset} of segment ${segment} does not read back as written`);
              continue;
            }
            const metaWord = buf.readUInt32LE(HEAD + 4);
            const metaLength = metaWord & META_LENGTH;
            const payload = buf.subarray(HEAD + FIXED + metaLength);
            let form: string | undefined;
            try {
              form = formOf(buf, metaLength);
            } catch (error) {
              results[i] = error instanceof Error ? error : new Error(String(error));
              continue;
            }
            const count = buf.readUInt32LE(HEAD);
            const decode = (raw: Uint8Array): unknown[] | Encoded => (form !== undefined ? { form, count, bytes: raw } : (deserialize(raw) as unknown[]));
            if (metaWord >= PLAIN) {
              try {
                results[i] = decode(payload);
              } catch (error) {
                results[i] = error instanceof Error ? error : new Error(String(error));
              }
              continue;
            }
            inflating.push(
              inflate(payload).then(
                (raw) => void (results[i] = decode(raw)),
              ).catch(
                (error: unknown) => void (results[i] = error instanceof Error ? error : new Error(String(error))),
              ),
            );
          }
        }
      } catch (error) {
        for (const i of indexes) if (results[i] === undefined) results[i] = error as Error;
      } finally {
        await handle.close().catch(() => {});
      }
    }
    await Promise.all(inflating);
    return results;
  }

  /** Marks entries sent: they are not read again after a restart; a segment all sent is deleted. */
  ack(entries: readonly EntryPlace[]): Promise<void> {
    const bySegment = new Map<number, number[]>();
    for (const e of entries) {
      let offsets = bySegment.get(e.segment);
      if (offsets === undefined) bySegment.set(e.segment, (offsets = []));
      offsets.push(e.offset);
    }
    this._meta = this._meta.then(async () => {
      for (const [number, offsets] of bySegment) {
        const segment = this._segments.get(number);
        if (segment === undefined) continue;
        segment.live -= offsets.length;
        if (segment.sealed && segment.live <= 0) {
          this._delete(segment);
          continue;
        }
        const buf = Buffer.allocUnsafe(4 * offsets.length);
        offsets.forEach((o, i) => buf.writeUInt32LE(o, 4 * i));
        await appendFile(this._path(number, 'ack'), buf).catch(() => {
          // Not written: after a restart these entries would be sent again (a duplicate, never a loss).
        });
      }
    });
    return this._meta;
  }

  private _delete(segment: Segment): void {
    this._segments.delete(segment.number);
    this._budget.used -= segment.size;
    void unlink(this._path(segment.number, 'seg')).catch(() => {});
    void unlink(this._path(segment.number, 'ack')).catch(() => {});
  }

  private _deleteSync(number: number): void {
    for (const ext of ['seg', 'ack']) {
      try {
        unlinkSync(this._path(number, ext));
      } catch {
        // already gone
      }
    }
  }

  private _readAcks(number: number): Set<number> {
    const acked = new Set<number>();
    try {
      const data = readFileSync(this._path(number, 'ack'));
      for (let i = 0; i + 4 <= data.length; i += 4) acked.add(data.readUInt32LE(i));
    } catch {
      // none yet
    }
    return acked;
  }

  private _path(number: number, ext: string): string {
    return join(this.directory, `${segmentName(number)}.${ext}`);
  }

  /** Waits for writes and acks in progress, then closes the file. What is unsent stays for the next run. */
  async close(): Promise<void> {
    if (this._closed) return;
    while (this._writing || this._waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
    this._closed = true;
    await this._meta;
    const handle = this._handle;
    this._handle = undefined;
    this._current = undefined;
    await handle?.close().catch(() => {});
  }
}

/** The form of an entry's encoded items (its meta's `f`), or undefined for item objects. */
function formOf(entry: Buffer, metaLength: number): string | undefined {
  const meta = entry.subarray(HEAD + FIXED, HEAD + FIXED + metaLength);
  // Most entries of a run are of one kind: a look for the key before parsing the resource.
  if (meta.indexOf('"f":') < 0) return undefined;
  const f = (JSON.parse(meta.toString('utf8')) as { f?: unknown }).f;
  return typeof f === 'string' ? f : undefined;
}

/** The storage's size budget has no room: the queue refuses (503 upstream) or drops, as configured. */
export class BudgetFull extends Error {
  constructor() {
    super('the file storage is full (max_size_mib)');
  }
}
