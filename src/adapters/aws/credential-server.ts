/**
 * Serves one step's credentials to its child process over the container-credentials protocol
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`), which the AWS SDKs,
 * the AWS CLI and Terraform read and re-read before expiry — so a step may outlive its session.
 * Loopback only, a random path and a per-step random token; nothing touches disk or GITHUB_ENV.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CredentialProvider, StepCredentials } from './sts.js';
import { strippedFromChild } from '../engines/process.js';

/** How the child gets its credentials: the loopback endpoint (default), or plain env vars (no refresh). */
export type CredentialMode = 'server' | 'env';

/** Options of one step's credential endpoint. */
export interface CredentialServerOptions {
  /** Re-assumes when asked for credentials valid at least `minRemainingMs` longer. */
  provider: CredentialProvider;
  /** The step's region, for AWS_REGION / AWS_DEFAULT_REGION. */
  region: string;
  mode?: CredentialMode;
  /** Credentials expiring within this many ms are replaced before being served; default 5 minutes. */
  refreshBeforeMs?: number;
  /** Masks the per-step token; default: nothing (the caller masks via its own logger). */
  mask?: (secret: string) => void;
  /** Diagnostic lines (never a secret). */
  log?: (line: string) => void;
  /** Clock; default Date.now. */
  now?: () => number;
}

/** A running credential endpoint for one step. */
export interface CredentialServer {
  mode: CredentialMode;
  /** The full URI (server mode); empty in env mode. */
  url: string;
  /** Variables for the step's child process: add them to an env scrubbed by `childEnvWith`. */
  env(): Record<string, string>;
  /**
   * The credentials the child is served, in memory (the same cache, no request to the endpoint):
   * for site-deploy's own calls on the step's behalf, such as reading the state it wrote.
   */
  credentials(): Promise<StepCredentials>;
  /** How many times the provider was asked for credentials. */
  readonly fetches: number;
  /** Stops serving; open connections are closed. */
  close(): Promise<void>;
}

/** Variables that would shadow or redirect the step's credentials in a child; `childEnvWith` removes them. */
export const AMBIENT_CREDENTIAL_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
] as const;

/**
 * A child environment: `base` without any ambient credential variable (the env provider would
 * otherwise win over the container endpoint, and the OIDC request token could mint tokens) and
 * without anything else of the runner a step must not see (`strippedFromChild`), plus `step`.
 */
export function childEnvWith(
  base: Record<string, string | undefined>,
  step: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  const drop = new Set<string>(AMBIENT_CREDENTIAL_VARS);
  for (const [k, v] of Object.entries(base))
    if (v !== undefined && !drop.has(k) && !strippedFromChild(k)) out[k] = v;
  return { ...out, ...step };
}

function tokenMatches(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined) return false;
  const g = Buffer.from(given, 'utf8');
  return g.length === expected.length && timingSafeEqual(g, expected);
}

function body(c: StepCredentials): string {
  const doc: Record<string, string> = {
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken,
    // RFC 3339 without milliseconds, as ECS serves it (`2026-01-01T00:00:00Z`).
    Expiration: c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (c.accountId) doc.AccountId = c.accountId;
  return JSON.stringify(doc);
}

/** The step's credentials, cached and re-assumed (once, however many ask at a time) near expiry. */
class CredentialCache {
  fetches = 0;
  private cached: StepCredentials | undefined;
  private inflight: Promise<StepCredentials> | undefined;
  private readonly refreshBeforeMs: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly options: CredentialServerOptions) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
  }

  /** Credentials valid at least `refreshBeforeMs` longer. */
  current(): Promise<StepCredentials> {
    const cached = this.cached;
    if (cached && cached.expiration.getTime() - this.now() > this.refreshBeforeMs)
      return Promise.resolve(cached);
    // Concurrent requests near expiry share one re-assume.
    this.inflight ??= this.assume();
    return this.inflight;
  }

  private async assume(): Promise<StepCredentials> {
    try {
      this.fetches++;
      this.log(
        this.cached
          ? 'credential server: credentials near expiry; re-assuming'
          : 'credential server: assuming',
      );
      this.cached = await this.options.provider({ minRemainingMs: this.refreshBeforeMs });
      return this.cached;
    } finally {
      this.inflight = undefined;
    }
  }
}

/** Env mode: the credentials fetched once, handed to the child as AWS_ACCESS_KEY_ID/…; nothing listens. */
async function envCredentials(
  cache: CredentialCache,
  regionVars: Record<string, string>,
): Promise<CredentialServer> {
  const c = await cache.current();
  return {
    mode: 'env',
    url: '',
    env: () => ({
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
      AWS_SESSION_TOKEN: c.sessionToken,
      ...regionVars,
    }),
    credentials: () => Promise.resolve(c),
    get fetches() {
      return cache.fetches;
    },
    close: async () => undefined,
  };
}

/** Answers the child's credential requests: only on `path` with the step's token, only GET. */
function credentialHandler(
  path: string,
  expected: Buffer,
  cache: CredentialCache,
  log: (line: string) => void,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Wrong path and wrong token look the same from outside: 401, empty body.
    if (url.pathname !== path || !tokenMatches(req.headers.authorization, expected)) {
      log(
        `credential server: refused ${req.method ?? '?'} request (${url.pathname !== path ? 'path' : 'token'})`,
      );
      res.writeHead(401).end();
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    try {
      const c = await cache.current();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(body(c));
    } catch (e) {
      // The child learns only that credentials are unavailable; the reason goes to our own log.
      log(`credential server: could not get credentials: ${e instanceof Error ? e.message : String(e)}`);
      res.writeHead(500, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          Code: 'CredentialsUnavailable',
          Message: 'site-deploy could not refresh this step’s credentials',
        }),
      );
    }
  };
}

/** An HTTP server on 127.0.0.1 and a random port; its port once it listens. */
async function listenLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the credential server has no TCP port');
  return { server, port: address.port };
}

/**
 * Starts the step's credential endpoint (server mode: 127.0.0.1, random port, random path, random
 * token; env mode: fetches once and hands out AWS_ACCESS_KEY_ID/… instead).
 */
export async function startCredentialServer(options: CredentialServerOptions): Promise<CredentialServer> {
  const mode = options.mode ?? 'server';
  const log = options.log ?? (() => undefined);
  const regionVars = { AWS_REGION: options.region, AWS_DEFAULT_REGION: options.region };
  const cache = new CredentialCache(options);
  if (mode === 'env') return envCredentials(cache, regionVars);

  const token = randomBytes(32).toString('base64url');
  options.mask?.(token);
  const path = `/creds/${randomBytes(16).toString('hex')}`;
  const { server, port } = await listenLoopback(
    credentialHandler(path, Buffer.from(token, 'utf8'), cache, log),
  );
  const url = `http://127.0.0.1:${port}${path}`;
  return {
    mode,
    url,
    env: () => ({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
      ...regionVars,
    }),
    credentials: () => cache.current(),
    get fetches() {
      return cache.fetches;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
