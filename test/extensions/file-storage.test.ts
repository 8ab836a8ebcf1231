/**
 * The file_storage extension and the log a sending queue keeps in it: what was written is read
 * back after a restart unless it was sent; a write cut short by a crash is discarded, not misread;
 * the budget is kept; two processes never share a directory.
 */
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { fileStorageConfigSchema } from '../../src/extensions/file_storage/config.ts';
import { BudgetFull, SegmentLog, type Budget } from '../../src/extensions/file_storage/segment-log.ts';
import { FileStorage } from '../../src/extensions/file_storage/storage.ts';
import type { LogRecordData } from '../../src/translate/telemetry.ts';
import { previousReleaseRecords, PREVIOUS_RESOURCE } from './previous-release-records.ts';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'file-storage-'));
  dirs.push(d);
  return d;
}
const storages: FileStorage[] = [];
afterEach(async () => {
  await Promise.all(storages.splice(0).map((s) => s.shutdown()));
});

function record(i: number): LogRecordData {
  return {
    timeUnixMicros: 1_714_564_800_000_000 + i,
    observedUnixMicros: 1_714_564_800_000_000 + i,
    severityNumber: 9,
    severityText: 'INFO',
    body: `at=info method=GET path="/items/${i}" status=200 bytes=${i}`,
    eventName: 'heroku.router.request',
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': `/items/${i}`, tags: ['a', 'b'] },
    traceId: undefined,
    spanId: undefined,
    traceFlags: 0,
  };
}
const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => record(from + i));
const RESOURCE = { 'service.name': 'shop', 'cloud.provider': 'heroku' };

function log(d: string, budget: Budget = { maxBytes: 64 * 1024 * 1024, used: 0 }, segmentBytes = 1024 * 1024): SegmentLog {
  return new SegmentLog(d, { fsync: false, segmentBytes, budget });
}

describe('the queue log', () => {
  it('reads back what was written, with its pipeline and resource, exactly as it was', async () => {
    const d = dir();
    const l = log(d);
    l.recover();
    const entry = await l.append('logs', RESOURCE, records(0, 3));
    expect(entry).toMatchObject({ items: 3, pipeline: 'logs', resource: RESOURCE });
    expect(await l.read(entry)).toEqual(records(0, 3));
  });

  it('an entry written without deflating (what the queue also keeps in memory) reads back the same, now and after a restart, beside deflated ones', async () => {
    const d = dir();
    const first = log(d);
    first.recover();
    const plain = await first.append('logs', RESOURCE, records(0, 40), false);
    const deflated = await first.append('logs', RESOURCE, records(40, 40));
    // Not deflated: the serialised records as they are, larger on disk.
    expect(plain.bytes).toBeGreaterThan(deflated.bytes * 2);
    expect(await first.readMany([plain, deflated])).toEqual([records(0, 40), records(40, 40)]);
    const second = log(d);
    const found = second.recover();
    expect(found.entries.map((e) => [e.items, e.pipeline, e.resource])).toEqual([
      [40, 'logs', RESOURCE],
      [40, 'logs', RESOURCE],
    ]);
    expect(await second.readMany(found.entries)).toEqual([records(0, 40), records(40, 40)]);
  });

  it("stores encoded items (an exporter's wire form) as they are: read back byte for byte with their form and count, plain or deflated, beside item objects, now and after a restart", async () => {
    const d = dir();
    const first = log(d);
    first.recover();
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) & 0xff));
    const plain = await first.append('logs', RESOURCE, { form: 'otlp-proto-1', count: 3, bytes: bytes(300) }, false);
    const objects = await first.append('logs', RESOURCE, records(0, 4));
    const deflated = await first.append('logs', RESOURCE, { form: 'otlp-proto-1', count: 5, bytes: bytes(5000) });
    const expected = [{ form: 'otlp-proto-1', count: 3, bytes: bytes(300) }, records(0, 4), { form: 'otlp-proto-1', count: 5, bytes: bytes(5000) }];
    const asPlain = (got: unknown[]) => got.map((g) => (g instanceof Error || Array.isArray(g) ? g : { ...(g as object), bytes: Buffer.from((g as { bytes: Uint8Array }).bytes) }));
    expect(asPlain(await first.readMany([plain, objects, deflated]))).toEqual(expected);
    expect(deflated.bytes).toBeLessThan(5000);
    const second = log(d);
    const found = second.recover();
    expect(found.entries.map((e) => [e.items, e.pipeline, e.resource])).toEqual([
      [3, 'logs', RESOURCE],
      [4, 'logs', RESOURCE],
      [5, 'logs', RESOURCE],
    ]);
    expect(asPlain(await second.readMany(found.entries))).toEqual(expected);
  });

  it("reads the previous release's queue (item objects, plain and deflated) as it wrote it", async () => {
    const d = dir();
    cpSync(new URL('./fixtures/previous-release-queue/exporter_otlphttp_logs', import.meta.url), d, { recursive: true });
    const l = log(d);
    const found = l.recover();
    expect(found).toMatchObject({ torn: 0, corrupt: [] });
    expect(found.entries.map((e) => [e.items, e.pipeline, e.resource])).toEqual([
      [3, 'logs', PREVIOUS_RESOURCE],
      [2, 'logs', PREVIOUS_RESOURCE],
    ]);
    expect((await l.readMany(found.entries)).flat()).toEqual(previousReleaseRecords());
  });

  it('after a crash (no close), a new run finds every entry not acknowledged, and only those', async () => {
    const d = dir();
    const first = log(d);
    first.recover();
    const entries = [];
    for (let i = 0; i < 10; i++) entries.push(await first.append(i % 2 ? 'logs/raw' : 'logs', RESOURCE, records(i * 10, 10)));
    await first.ack([entries[0]!, entries[3]!, entries[7]!]);
    // The process dies here: nothing closed, nothing flushed by us.
    const second = log(d);
    const found = second.recover();
    expect(found.torn).toBe(0);
    expect(found.entries.map((e) => e.offset)).toEqual(entries.filter((_, i) => ![0, 3, 7].includes(i)).map((e) => e.offset));
    expect(found.entries.map((e) => e.pipeline)).toEqual(['logs/raw', 'logs', 'logs', 'logs/raw', 'logs', 'logs', 'logs/raw']);
    const back = [];
    for (const e of found.entries) back.push(...((await second.read(e)) as LogRecordData[]));
    expect(back.map((r) => r.attributes['url.path'])).toEqual([1, 2, 4, 5, 6, 8, 9].flatMap((i) => Array.from({ length: 10 }, (_, j) => `/items/${i * 10 + j}`)));
    // New entries go to a new segment, after the old ones.
    const next = await second.append('logs', RESOURCE, records(100, 1));
    expect(next.segment).toBeGreaterThan(entries.at(-1)!.segment);
  });

  it('discards an entry cut short by a crash mid-write (never answered 200), and cuts it off the file', async () => {
    const d = dir();
    const first = log(d);
    first.recover();
    const kept = await first.append('logs', RESOURCE, records(0, 5));
    const whole = readFileSync(join(d, readdirSync(d).find((f) => f.endsWith('.seg'))!));
    // Half of a second entry, as a process killed inside write() leaves it.
    const second = await first.append('logs', RESOURCE, records(5, 5));
    const segPath = join(d, readdirSync(d).find((f) => f.endsWith('.seg'))!);
    const full = readFileSync(segPath);
    writeFileSync(segPath, full.subarray(0, whole.length + Math.floor(second.bytes / 2)));
    const again = log(d);
    const found = again.recover();
    expect(found.torn).toBe(1);
    expect(found.entries).toHaveLength(1);
    expect(await again.read(found.entries[0]!)).toEqual(records(0, 5));
    expect(statSync(segPath).size).toBe(kept.bytes);
  });

  it('stops reading a segment at a checksum that does not match, and says how much was skipped', async () => {
    const d = dir();
    const first = log(d);
    first.recover();
    const a = await first.append('logs', RESOURCE, records(0, 5));
    await first.append('logs', RESOURCE, records(5, 5));
    const segPath = join(d, readdirSync(d).find((f) => f.endsWith('.seg'))!);
    const data = readFileSync(segPath);
    data[a.bytes + 20] = data[a.bytes + 20]! ^ 0xff; // a flipped byte inside the second entry
    writeFileSync(segPath, data);
    const found = log(d).recover();
    expect(found.entries).toHaveLength(1);
    expect(found.corrupt).toEqual([{ segment: a.segment, bytesSkipped: data.length - a.bytes }]);
  });

  it('reads many entries across segments at once, in the order asked; one damaged on disk gives an error in its place, the rest read', async () => {
    const d = dir();
    const l = log(d, undefined, 4096);
    l.recover();
    const entries = [];
    for (let i = 0; i < 12; i++) entries.push(await l.append('logs', RESOURCE, records(i * 4, 4)));
    expect(new Set(entries.map((e) => e.segment)).size).toBeGreaterThan(1);
    // Damage the fifth entry after it was written (a disk fault): it alone fails.
    const bad = entries[4]!;
    const segPath = join(d, `${String(bad.segment).padStart(10, '0')}.seg`);
    const data = readFileSync(segPath);
    data[bad.offset + bad.bytes - 3] = data[bad.offset + bad.bytes - 3]! ^ 0xff;
    writeFileSync(segPath, data);
    const asked = [entries[7]!, entries[0]!, entries[4]!, entries[1]!, entries[11]!, entries[2]!];
    const got = await l.readMany(asked);
    expect(got[2]).toBeInstanceOf(Error);
    expect((got[2] as Error).message).toContain('does not read back as written');
    expect([got[0], got[1], got[3], got[4], got[5]]).toEqual([records(28, 4), records(0, 4), records(4, 4), records(44, 4), records(8, 4)]);
    await l.close();
  });

  it('deletes a segment once everything in it was sent and a newer one is written', async () => {
    const d = dir();
    const budget = { maxBytes: 64 * 1024 * 1024, used: 0 };
    const l = log(d, budget, 4096);
    l.recover();
    const entries = [];
    for (let i = 0; i < 20; i++) entries.push(await l.append('logs', RESOURCE, records(i * 10, 10)));
    const segments = new Set(entries.map((e) => e.segment));
    expect(segments.size).toBeGreaterThan(2);
    expect(budget.used).toBe(entries.reduce((n, e) => n + e.bytes, 0));
    await l.ack(entries.slice(0, -1));
    const left = readdirSync(d).filter((f) => f.endsWith('.seg'));
    expect(left).toHaveLength(1);
    // What is left counts whole: the segment being written, with the one entry not sent.
    expect(budget.used).toBe(statSync(join(d, left[0]!)).size);
    await l.close();
  });

  it('refuses an append past the budget, shared by every log of the storage, and takes again once room is made', async () => {
    const budget = { maxBytes: 20_000, used: 0 };
    const a = log(dir(), budget);
    const b = log(dir(), budget);
    a.recover();
    b.recover();
    const taken: { log: SegmentLog; entry: Awaited<ReturnType<SegmentLog['append']>> }[] = [];
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const l = i % 2 ? a : b;
      try {
        taken.push({ log: l, entry: await l.append('logs', RESOURCE, records(i * 10, 10)) });
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(BudgetFull);
    expect(budget.used).toBeLessThanOrEqual(20_000);
    expect(a.room(10)).toBe(false);
    // Sent: the next run on these directories finds nothing left, and room again.
    await a.ack(taken.filter((t) => t.log === a).map((t) => t.entry));
    await b.ack(taken.filter((t) => t.log === b).map((t) => t.entry));
    const fresh = { maxBytes: 20_000, used: 0 };
    const again = log(a.directory, fresh);
    expect(again.recover().entries).toHaveLength(0);
    expect(again.room(10)).toBe(true);
  });
});

describe('the file_storage extension', () => {
  it('refuses to start on a missing directory unless create_directory is on, then creates it', async () => {
    const d = join(dir(), 'nested', 'queue');
    const off = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory: d }), () => {});
    await expect(off.start()).rejects.toThrow(/does not exist.*create_directory/);
    const on = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory: d, create_directory: true }), () => {});
    storages.push(on);
    await on.start();
    expect(statSync(d).isDirectory()).toBe(true);
  });

  it('lets one process at a time use a directory; a lock left by a dead process is taken over', async () => {
    const d = dir();
    // A lock held by a live process (this test's child) keeps us out, with a clear error.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(d, 'LOCK'), `${child.pid}\n`);
      const second = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory: d, timeout: '200ms' }), () => {});
      await expect(second.start()).rejects.toThrow(new RegExp(`in use by process ${child.pid}`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The holder died (SIGKILL leaves its lock file behind): the next start takes the directory.
    const third = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory: d, timeout: '200ms' }), () => {});
    storages.push(third);
    await third.start();
    expect(readFileSync(join(d, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    await third.shutdown();
    expect(existsSync(join(d, 'LOCK'))).toBe(false);
  });

  it('names one sub-directory per queue and starts empty with recreate', async () => {
    const d = dir();
    const s = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory: d }), () => {});
    await s.start();
    const q = s.queueLog('exporter_otlphttp_grafana_logs');
    expect(s.queueLog('exporter_otlphttp_grafana_logs')).toBe(q);
    q.recover();
    await q.append('logs', RESOURCE, records(0, 2));
    await s.shutdown();
    expect(readdirSync(d).sort()).toEqual(['exporter_otlphttp_grafana_logs']);
    const lines: string[] = [];
    const again = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory: d, recreate: true }), (_level, message) => lines.push(message));
    storages.push(again);
    await again.start();
    expect(again.queueLog('exporter_otlphttp_grafana_logs').recover().entries).toEqual([]);
    expect(lines.join('\n')).toMatch(/recreate is on/);
  });

  it('flushes to the disk before resolving with fsync on (still reads back)', async () => {
    const d = dir();
    const l = new SegmentLog(d, { fsync: true, segmentBytes: 1 << 20, budget: { maxBytes: 1 << 24, used: 0 } });
    l.recover();
    const entries = await Promise.all([0, 1, 2, 3].map((i) => l.append('logs', RESOURCE, records(i * 3, 3))));
    // Appends that came together were written together, in order, each readable.
    for (const [i, e] of entries.entries()) expect(await l.read(e)).toEqual(records(i * 3, 3));
    appendFileSync(join(d, 'unrelated.txt'), 'x');
    expect(log(d).recover().entries).toHaveLength(4);
  });
});
