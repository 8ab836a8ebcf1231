/**
 * TLS settings with the Collector's configtls keys: the client side (an exporter's `tls`: ca_file,
 * cert_file, key_file, insecure_skip_verify, server_name_override, ...) and the server side (a
 * receiver's: cert_file, key_file, client_ca_file, min_version). Files are read when the config is
 * validated, so `validate` names a missing or unreadable one, and again when the component starts.
 * Every message names the key and the file; none quotes what a PEM holds (a key is a secret).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, getCACertificates, type ConnectionOptions, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { z } from 'zod';
import { duration } from './units.ts';

/** The Collector's version names, as Node's. */
const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/** configtls' curve names, as OpenSSL's. */
const CURVES: Readonly<Record<string, string>> = { X25519: 'X25519', P256: 'P-256', P384: 'P-384', P521: 'P-521' };

/**
 * "1.2", or 1.2 as YAML reads it unquoted (the Collector's decoder takes both). A number is
 * written with one decimal: 1.0 is "1.0", not "1".
 */
const tlsVersion = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === 'number' ? value.toFixed(1) : value.trim();
  if (TLS_VERSIONS[text] !== undefined) return text;
  ctx.addIssue({ code: 'custom', message: `expected one of "1.0", "1.1", "1.2", "1.3", got ${JSON.stringify(String(value)).slice(0, 20)}` });
  return z.NEVER;
});

/** A key the Collector has and we do not: accepted by the schema only to say why it is refused. */
const refused = z.unknown().optional();

const REFUSED_CLIENT_KEYS: Readonly<Record<string, string>> = {
  cipher_suites: "not supported here: Go's cipher suite names are not OpenSSL's; the defaults (TLS 1.2 with forward secrecy, TLS 1.3) are what the Collector uses too",
  include_insecure_cipher_suites: 'not supported here: insecure cipher suites cannot be enabled',
  tpm: 'not supported here: no TPM access; put the key in key_file',
};

/** An exporter's `tls`, as the Collector's configtls.ClientConfig. */
export const tlsClientSchema = z
  .strictObject({
    /** The CA that signs the backend's certificate (PEM). Default: Node's trusted CAs. */
    ca_file: z.string().min(1).optional(),
    /** The same, inline. */
    ca_pem: z.string().min(1).optional(),
    /** The client certificate, for mutual TLS (PEM); with key_file. */
    cert_file: z.string().min(1).optional(),
    cert_pem: z.string().min(1).optional(),
    /** The client certificate's private key (PEM, unencrypted). */
    key_file: z.string().min(1).optional(),
    key_pem: z.string().min(1).optional(),
    /**
     * As the Collector's over HTTP: the endpoint's scheme decides whether TLS is used; `true`
     * with no CA set makes the other keys apply no more (Node's defaults verify the backend).
     * Default false.
     */
    insecure: z.boolean().default(false),
    /** TLS without checking the backend's certificate: for tests only. Default false. */
    insecure_skip_verify: z.boolean().default(false),
    /** The oldest TLS version accepted: "1.0", "1.1", "1.2" (default) or "1.3". */
    min_version: tlsVersion.default('1.2'),
    /** The newest TLS version offered. Default: the newest Node has (1.3). */
    max_version: tlsVersion.optional(),
    /** The name sent as SNI and checked in the backend's certificate, instead of the endpoint's host. */
    server_name_override: z.string().min(1).optional(),
    /** Trust the system's CAs as well as ca_file / ca_pem. Default false. */
    include_system_ca_certs_pool: z.boolean().default(false),
    /** Curves offered for ECDHE, in order: X25519, P256, P384, P521. Default: OpenSSL's. */
    curve_preferences: z.array(z.enum(['X25519', 'P256', 'P384', 'P521'])).default([]),
    /**
     * cert_file and key_file are read again after this long, on the next new connection (the
     * connections open go on with the certificate they have). Default: never.
     */
    reload_interval: duration.optional(),
    cipher_suites: refused,
    include_insecure_cipher_suites: refused,
    tpm: refused,
  })
  .superRefine((config, ctx) => {
    for (const [key, why] of Object.entries(REFUSED_CLIENT_KEYS)) {
      if ((config as Record<string, unknown>)[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
    }
    for (const problem of checkClientTls(config)) ctx.addIssue({ code: 'custom', path: [problem.key], message: problem.message });
  });

export type TlsClientConfig = z.output<typeof tlsClientSchema>;

/** A receiver's `tls`, as the Collector's configtls.ServerConfig (the keys a drain endpoint needs). */
export const tlsServerSchema = z
  .strictObject({
    /** The server certificate (PEM), with its chain. */
    cert_file: z.string().min(1),
    /** Its private key (PEM, unencrypted). */
    key_file: z.string().min(1),
    /** Ask clients for a certificate signed by this CA and refuse those without (mutual TLS). */
    client_ca_file: z.string().min(1).optional(),
    /** The oldest TLS version accepted: "1.2" (default) or "1.3". */
    min_version: tlsVersion.default('1.2'),
  })
  .superRefine((config, ctx) => {
    for (const problem of checkServerTls(config)) ctx.addIssue({ code: 'custom', path: [problem.key], message: problem.message });
  });

export type TlsServerConfig = z.output<typeof tlsServerSchema>;

/** What is wrong with one key of a `tls` block; `key` is relative to the block (`cert_file`). */
export interface TlsProblem {
  key: string;
  message: string;
}

/** Thrown by the loaders: the first problem, with the key path the caller gave. */
export class TlsConfigError extends Error {
  constructor(base: string, problem: TlsProblem) {
    super(`${base}.${problem.key}: ${problem.message}`);
    this.name = 'TlsConfigError';
  }
}

function readReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? 'unreadable';
}

/** A file's bytes, or a problem naming the key and the file. */
function readFile(key: string, file: string, problems: TlsProblem[]): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    problems.push({ key, message: `cannot read ${JSON.stringify(file)}: ${readReason(error)}` });
    return undefined;
  }
}

const BEGIN_CERTIFICATE = '-----BEGIN CERTIFICATE-----';
const END_CERTIFICATE = '-----END CERTIFICATE-----';

/** The PEM certificates in a text, each parsed; a problem when there is none or one is unreadable. */
function certificates(key: string, pem: Buffer | string, where: string, problems: TlsProblem[]): string[] {
  const text = pem.toString();
  const out: string[] = [];
  for (let from = text.indexOf(BEGIN_CERTIFICATE); from >= 0; from = text.indexOf(BEGIN_CERTIFICATE, from + 1)) {
    const end = text.indexOf(END_CERTIFICATE, from);
    if (end < 0) break;
    const block = text.slice(from, end + END_CERTIFICATE.length);
    try {
      new X509Certificate(block);
    } catch {
      problems.push({ key, message: `${where} holds a certificate that cannot be read (not valid PEM)` });
      return [];
    }
    out.push(block);
  }
  if (out.length === 0) problems.push({ key, message: `${where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
  return out;
}

/** A private key's PEM, checked readable; never quoted. */
function privateKey(key: string, pem: Buffer | string, where: string, problems: TlsProblem[]): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    problems.push({ key, message: `${where} holds no readable private key (PEM, without a passphrase)` });
    return false;
  }
}

/** `cert` and `key` belong together; a problem on `certKey` otherwise. */
function pairMatches(certKey: string, keyKey: string, cert: Buffer | string, key: Buffer | string, problems: TlsProblem[]): void {
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const mismatch = (error as NodeJS.ErrnoException).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
    problems.push({ key: certKey, message: mismatch ? `the certificate does not belong to the private key of ${keyKey}` : `the certificate and ${keyKey} cannot be used together` });
  }
}

/** A PEM from a file key or an inline key (the Collector refuses both at once). */
function pemOf(config: Record<string, unknown>, fileKey: string, pemKey: string, problems: TlsProblem[]): { pem: Buffer | string; key: string; where: string } | undefined {
  const file = config[fileKey] as string | undefined;
  const inline = config[pemKey] as string | undefined;
  if (file !== undefined && inline !== undefined) {
    problems.push({ key: pemKey, message: `set ${fileKey} or ${pemKey}, not both` });
    return undefined;
  }
  if (file !== undefined) {
    const pem = readFile(fileKey, file, problems);
    return pem === undefined ? undefined : { pem, key: fileKey, where: JSON.stringify(file) };
  }
  return inline === undefined ? undefined : { pem: inline, key: pemKey, where: pemKey };
}

interface ClientMaterial {
  ca: string[] | undefined;
  cert: Buffer | string | undefined;
  key: Buffer | string | undefined;
}

function clientMaterial(config: TlsClientConfig, problems: TlsProblem[]): ClientMaterial {
  const raw = config as unknown as Record<string, unknown>;
  const ca = pemOf(raw, 'ca_file', 'ca_pem', problems);
  const cert = pemOf(raw, 'cert_file', 'cert_pem', problems);
  const key = pemOf(raw, 'key_file', 'key_pem', problems);
  const hasCert = config.cert_file !== undefined || config.cert_pem !== undefined;
  const hasKey = config.key_file !== undefined || config.key_pem !== undefined;
  if (hasCert !== hasKey) problems.push({ key: hasCert ? 'key_file' : 'cert_file', message: 'a client certificate needs both cert_file (or cert_pem) and key_file (or key_pem)' });
  const caCerts = ca === undefined ? undefined : certificates(ca.key, ca.pem, ca.where, problems);
  const certOk = cert !== undefined && certificates(cert.key, cert.pem, cert.where, problems).length > 0;
  const keyOk = key !== undefined && privateKey(key.key, key.pem, key.where, problems);
  if (certOk && keyOk) pairMatches(cert.key, key.key, cert.pem, key.pem, problems);
  return { ca: caCerts, cert: cert?.pem, key: key?.pem };
}

function versionProblems(min: string, max: string | undefined): TlsProblem[] {
  if (max === undefined || Number(max) >= Number(min)) return [];
  return [{ key: 'min_version', message: `is newer than max_version (${max})` }];
}

/** Every problem of a client `tls` block, files read (not when they would not be used: see clientTlsApplies). */
export function checkClientTls(config: TlsClientConfig): TlsProblem[] {
  const problems = versionProblems(config.min_version, config.max_version);
  if (clientTlsApplies(config)) clientMaterial(config, problems);
  return problems;
}

/** Whether the Collector would apply these settings at all: `insecure` without a CA leaves Go's defaults. */
export function clientTlsApplies(config: TlsClientConfig): boolean {
  return !(config.insecure && config.ca_file === undefined && config.ca_pem === undefined);
}

/**
 * Node's connection options for a client `tls` block, its files read now; undefined when the
 * Collector would use its defaults (see clientTlsApplies). Throws a TlsConfigError naming
 * `${base}.<key>` when a file cannot be read or used.
 */
export function clientTlsOptions(config: TlsClientConfig, base: string): ConnectionOptions | undefined {
  if (!clientTlsApplies(config)) return undefined;
  const problems: TlsProblem[] = [];
  const material = clientMaterial(config, problems);
  if (problems.length > 0) throw new TlsConfigError(base, problems[0]!);
  let ca = material.ca;
  if (ca !== undefined && config.include_system_ca_certs_pool) ca = [...new Set([...getCACertificates('default'), ...getCACertificates('system'), ...ca])];
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(material.cert !== undefined ? { cert: material.cert, key: material.key } : {}),
    rejectUnauthorized: !config.insecure_skip_verify,
    minVersion: TLS_VERSIONS[config.min_version]!,
    ...(config.max_version !== undefined ? { maxVersion: TLS_VERSIONS[config.max_version]! } : {}),
    ...(config.server_name_override !== undefined ? { servername: config.server_name_override } : {}),
    ...(config.curve_preferences.length > 0 ? { ecdhCurve: config.curve_preferences.map((c) => CURVES[c]!).join(':') } : {}),
  };
}

/** Every problem of a server `tls` block, files read. */
export function checkServerTls(config: TlsServerConfig): TlsProblem[] {
  const problems: TlsProblem[] = [];
  serverMaterial(config, problems);
  return problems;
}

function serverMaterial(config: TlsServerConfig, problems: TlsProblem[]): { cert?: Buffer; key?: Buffer; ca?: string[] } {
  const cert = readFile('cert_file', config.cert_file, problems);
  const key = readFile('key_file', config.key_file, problems);
  const certOk = cert !== undefined && certificates('cert_file', cert, JSON.stringify(config.cert_file), problems).length > 0;
  const keyOk = key !== undefined && privateKey('key_file', key, JSON.stringify(config.key_file), problems);
  if (certOk && keyOk) pairMatches('cert_file', 'key_file', cert, key, problems);
  let ca: string[] | undefined;
  if (config.client_ca_file !== undefined) {
    const pem = readFile('client_ca_file', config.client_ca_file, problems);
    if (pem !== undefined) ca = certificates('client_ca_file', pem, JSON.stringify(config.client_ca_file), problems);
  }
  return { ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) };
}

/** What a TLS server is made with: its secure context, and whether it asks for client certificates. */
export interface ServerTls {
  context: SecureContextOptions;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * A server `tls` block's context, its files read now (at start and at every reload). Throws a
 * TlsConfigError naming `${base}.<key>` when a file cannot be read or used.
 */
export function serverTls(config: TlsServerConfig, base: string): ServerTls {
  const problems: TlsProblem[] = [];
  const material = serverMaterial(config, problems);
  if (problems.length > 0) throw new TlsConfigError(base, problems[0]!);
  const mutual = material.ca !== undefined;
  return {
    context: { cert: material.cert!, key: material.key!, ...(mutual ? { ca: material.ca } : {}), minVersion: TLS_VERSIONS[config.min_version]! },
    requestCert: mutual,
    rejectUnauthorized: mutual,
  };
}

/** Error codes Node gives when the peer's certificate is not signed by a trusted CA. */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE']);

/** The backend refused our client certificate, or asked for one we did not send. */
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);

/**
 * A client's TLS failure in words that say what to set, with Node's code and message after
 * them; undefined when `code` is no TLS failure.
 */
export function describeTlsFailure(code: string | undefined, message: string): string | undefined {
  if (code === undefined) return undefined;
  let what: string | undefined;
  if (UNTRUSTED.has(code)) what = "the backend's certificate is not signed by a CA this exporter trusts (set tls.ca_file to its CA)";
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') what = "the backend's certificate does not name the endpoint's host (tls.server_name_override sets the name checked)";
  else if (code === 'CERT_HAS_EXPIRED') what = "the backend's certificate has expired";
  else if (code === 'CERT_NOT_YET_VALID') what = "the backend's certificate is not valid yet (check this machine's clock)";
  else if (CLIENT_CERT_REFUSED.has(code)) what = "the backend refused this exporter's client certificate, or wanted one (tls.cert_file, tls.key_file)";
  else if (code.startsWith('ERR_SSL_')) what = 'the TLS handshake failed';
  return what === undefined ? undefined : `TLS: ${what} (${code}: ${message.split('\n', 1)[0]!.slice(0, 200)})`;
}
