/**
 * A small file whose content is read again when it changes: a token or password file rotated
 * by its owner (a Kubernetes secret, a vault agent). What bearertokenauth's `filename`, basicauth's
 * `password_file` and headers_setter's `value_file` hold. The directory is watched, not the file:
 * an editor or Kubernetes replaces a file (rename, symlink swap) rather than writing into it, and
 * a watch on the old file would see nothing more. Any event there reads the file again; only a
 * changed content is handed on. Where the watch cannot be set (inotify limits), it polls.
 */
import { readFileSync, watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../service/log.ts';

/** Events come in bursts (write, then chmod, then rename): one read after they settle. */
const SETTLE_MS = 50;

/** How often a file is polled where no watch could be set. */
const POLL_MS = 2_000;

function readReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
}

/** Why a file cannot be read, for validate (`cannot read "/x": no such file`); undefined when it can. */
export function unreadable(path: string): string | undefined {
  try {
    readFileSync(path);
    return undefined;
  } catch (error) {
    return `cannot read ${JSON.stringify(path)}: ${readReason(error)}`;
  }
}

/** A file's text, or an Error whose message names `key` and the file (never its content). */
export function readSmallFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${key}: cannot read ${JSON.stringify(path)}: ${readReason(error)}`);
  }
}

export class WatchedFile {
  private readonly _key: string;
  private readonly _path: string;
  private readonly _onChange: (text: string) => void;
  private readonly _log: Logger;
  private _text: string | undefined;
  private _watcher: FSWatcher | undefined;
  private _polling = false;
  private _timer: NodeJS.Timeout | undefined;

  /** `key`: the config key that names the file, for messages (`extensions.bearertokenauth.filename`). */
  constructor(key: string, path: string, onChange: (text: string) => void, log: Logger) {
    this._key = key;
    this._path = path;
    this._onChange = onChange;
    this._log = log;
  }

  /** Reads the file now (throwing an error that names the key and the file) and starts watching it. */
  start(): void {
    this._text = readSmallFile(this._key, this._path);
    this._onChange(this._text);
    try {
      this._watcher = watch(dirname(this._path), { persistent: false }, () => this._changed());
      this._watcher.on('error', () => this._poll());
    } catch {
      this._poll();
    }
  }

  stop(): void {
    this._watcher?.close();
    this._watcher = undefined;
    if (this._polling) unwatchFile(this._path);
    this._polling = false;
    clearTimeout(this._timer);
  }

  private _poll(): void {
    this._watcher?.close();
    this._watcher = undefined;
    if (this._polling) return;
    this._polling = true;
    watchFile(this._path, { persistent: false, interval: POLL_MS }, () => this._changed());
  }

  private _changed(): void {
    clearTimeout(this._timer);
    this._timer = setTimeout(() => void this._read(), SETTLE_MS);
    this._timer.unref();
  }

  private async _read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this._path, 'utf8');
    } catch (error) {
      // Mid-swap, or removed: what was read last stays in use.
      this._log('warn', `${this._key}: cannot read ${JSON.stringify(this._path)} (${readReason(error)}); the value read before stays in use`);
      return;
    }
    if (text === this._text) return;
    this._text = text;
    this._onChange(text);
    this._log('info', `${this._key}: read again after a change`);
  }
}
