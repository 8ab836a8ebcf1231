/**
 * The `headers_setter` extension, as contrib's: a client authenticator applying its header
 * actions to every request of the exporters naming it, in the order listed, after its
 * `additional_auth` (when set) has applied its own.
 */
import type { ClientAuthenticator, Extension, Host } from '../../service/component.ts';
import type { Attributes } from '../../translate/telemetry.ts';
import { WatchedFile } from '../watched-file.ts';
import type { HeadersSetterConfig, HeaderSetting } from './config.ts';

/** One header action, its key in lower case (request headers are kept so). */
interface Action {
  key: string;
  action: HeaderSetting['action'];
  /** The value, or how to find it in a batch's resource. */
  value: (resource: Attributes) => string;
}

/** A resource attribute as a header value: scalars as written, a list joined by commas. */
function attributeText(value: Attributes[string] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Applies one action to request headers (keys lower case), as contrib's action package. */
export function applyAction(headers: Record<string, string>, key: string, action: Action['action'], value: string): void {
  const present = headers[key] !== undefined && headers[key] !== '';
  if (action === 'delete') delete headers[key];
  else if (action === 'upsert' || (action === 'insert' && !present) || (action === 'update' && present)) headers[key] = value;
}

export class HeadersSetter implements Extension, ClientAuthenticator {
  readonly clientAuth: ClientAuthenticator = this;
  private readonly _id: string;
  private readonly _config: HeadersSetterConfig;
  private readonly _host: Host;
  private readonly _actions: Action[] = [];
  /** value_file headers: each file and what it held last (trimmed). */
  private readonly _files: Array<{ file: WatchedFile; text: string }> = [];
  private _additional: ClientAuthenticator | undefined;

  constructor(id: string, config: HeadersSetterConfig, host: Host) {
    this._id = id;
    this._config = config;
    this._host = host;
    config.headers.forEach((setting, i) => {
      const key = setting.key.toLowerCase();
      if (setting.from_context !== undefined) {
        const name = setting.from_context;
        const fallback = setting.default_value ?? '';
        this._actions.push({ key, action: setting.action, value: (resource) => attributeText(resource[name]) ?? fallback });
      } else if (setting.value_file !== undefined) {
        const slot: { file: WatchedFile; text: string } = {
          file: new WatchedFile(`extensions.${id}.headers[${i}].value_file`, setting.value_file, (text) => (slot.text = text.trim()), host.log),
          text: '',
        };
        this._files.push(slot);
        this._actions.push({ key, action: setting.action, value: () => slot.text });
      } else {
        const value = setting.value ?? '';
        this._actions.push({ key, action: setting.action, value: () => value });
      }
    });
  }

  async start(): Promise<void> {
    const other = this._config.additional_auth;
    if (other !== undefined) {
      // Looked up now, not when made: extensions are made in service.extensions' order.
      this._additional = this._host.extension(other)?.clientAuth;
      if (this._additional === undefined) throw new Error(`extensions.${this._id}.additional_auth: extension "${other}" is not running or does not authenticate an exporter's requests`);
    }
    for (const slot of this._files) slot.file.start();
  }

  async shutdown(): Promise<void> {
    for (const slot of this._files) slot.file.stop();
  }

  applyHeaders(headers: Record<string, string>, resource: Attributes): void {
    this._additional?.applyHeaders(headers, resource);
    for (const a of this._actions) applyAction(headers, a.key, a.action, a.action === 'delete' ? '' : a.value(resource));
  }
}
