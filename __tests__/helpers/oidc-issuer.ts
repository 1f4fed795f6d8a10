import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

/** Claims the stub puts in its tokens; `undefined` leaves a claim out. */
export interface IssuerClaims {
  sub?: string;
  repository?: string;
  environment?: string;
  actor?: string;
  run_id?: string;
  ref?: string;
  sha?: string;
  job_workflow_ref?: string;
}

/** A local stand-in for GitHub's OIDC token service (local-stack §5). */
export interface OidcIssuer {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL (already holds `?`). */
  requestUrl: string;
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  issuer: string;
  jwksUrl: string;
  /** Changes the claims of tokens minted from now on. */
  setClaims(claims: IssuerClaims): void;
  /** Every token minted, in order. */
  tokens: string[];
  /** Requests refused for a wrong bearer token. */
  refused: number;
  /** The env vars `core.getIDToken` reads. */
  env(): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  stop(): Promise<void>;
}

/** Claims of a deploy job in the `production` GitHub environment of org/repo. */
export const DEFAULT_CLAIMS: IssuerClaims = {
  sub: 'repo:org/repo:environment:production',
  repository: 'org/repo',
  environment: 'production',
  actor: 'octocat',
  run_id: '4242',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  job_workflow_ref: 'org/repo/.github/workflows/deploy.yml@refs/heads/main',
};

/** Starts the issuer on a loopback port: `/token?api-version=2.0&audience=…` (bearer-checked) and `/jwks`. */
export async function startOidcIssuer(claims: IssuerClaims = DEFAULT_CLAIMS): Promise<OidcIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  const requestToken = randomBytes(16).toString('hex');
  let current: IssuerClaims = { ...claims };
  const tokens: string[] = [];
  let refused = 0;
  let base = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/jwks') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (url.pathname !== '/token') {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${requestToken}`) {
      refused++;
      res.statusCode = 401;
      res.end();
      return;
    }
    const { sub, ...rest } = current;
    const payload = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    let jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(base)
      .setAudience(url.searchParams.get('audience') ?? 'https://github.com/org')
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomBytes(8).toString('hex'));
    if (sub !== undefined) jwt = jwt.setSubject(sub);
    jwt.sign(privateKey).then(
      (value) => {
        tokens.push(value);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ count: tokens.length, value }));
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requestUrl = `${base}/token?api-version=2.0`;
  return {
    requestUrl,
    requestToken,
    issuer: base,
    jwksUrl: `${base}/jwks`,
    setClaims(c) {
      current = { ...c };
    },
    tokens,
    get refused() {
      return refused;
    },
    env: () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken }),
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
