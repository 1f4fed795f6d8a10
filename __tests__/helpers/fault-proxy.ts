// A real HTTP proxy in front of moto that injects the transient faults AWS really sends: STS
// throttling (400 `Throttling`, awsQuery XML), S3 throttling (503 `SlowDown`), and 500/503 server
// errors, for the first N requests that match a rule; everything else is forwarded byte for byte.
// Point AWS_ENDPOINT_URL (or `_STS`/`_S3`) at `endpoint`. Generalises fixtures/aws/sts-proxy.ts,
// which only sees STS calls.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stsErrorXml } from '../fixtures/aws/sts-proxy.js';

/** The AWS service a request is for, from its SigV4 credential scope (unsigned form posts are STS). */
export type AwsService = 'sts' | 's3';

/**
 * What the proxy answers instead of forwarding: the service's throttling error, a 500 / 503 with
 * the service's code, any other AWS error (e.g. a 403 `AccessDenied`), or a raw body (a load
 * balancer's HTML error page).
 */
export type Fault =
  | 'throttle'
  | 500
  | 503
  | { status: number; code: string; message: string }
  | { status: number; body: string; contentType: string };

/** One request the proxy received. */
export interface ProxiedRequest {
  service: AwsService;
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** STS: the form's `Action`. */
  action?: string;
  /** STS: the whole form. */
  form?: URLSearchParams;
  /** S3 (path style): the bucket, and the object key when the path names one. */
  bucket?: string;
  key?: string;
  headers: IncomingHttpHeaders;
  /** `forwarded` to moto, or the status the proxy answered with. */
  answered: 'forwarded' | number;
  /** The error code the proxy answered with (`Throttling`, `SlowDown`, `InternalError`…), if any. */
  code?: string;
  /** Arrival time (Date.now()). */
  at: number;
}

/** Which requests a rule applies to: every given field must match (a function decides alone). */
export type RequestMatch =
  | {
      service?: AwsService;
      /** STS Action, e.g. `AssumeRoleWithWebIdentity`. */
      action?: string;
      /** HTTP method, e.g. `GET`. */
      method?: string;
      /** S3 object key (exact, or a pattern). */
      key?: string | RegExp;
      /** Matched against the User-Agent header (tells Terraform's Go SDK from the JS SDK). */
      userAgent?: RegExp;
    }
  | ((r: ProxiedRequest) => boolean);

/** A running fault proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL. */
  endpoint: string;
  /** Every request, in arrival order. */
  requests: ProxiedRequest[];
  /** Answers the next `times` requests matching `match` with `fault`, then forwards them again. */
  failNext(times: number, fault: Fault, match: RequestMatch): void;
  /** The requests matching `match`, in order. */
  seen(match: RequestMatch): ProxiedRequest[];
  /** Forgets requests and pending faults. */
  reset(): void;
  stop(): Promise<void>;
}

/** Whether a request matches a rule. */
export function matches(r: ProxiedRequest, m: RequestMatch): boolean {
  if (typeof m === 'function') return m(r);
  if (m.service !== undefined && r.service !== m.service) return false;
  if (m.action !== undefined && r.action !== m.action) return false;
  if (m.method !== undefined && r.method !== m.method.toUpperCase()) return false;
  if (m.key !== undefined) {
    if (r.key === undefined) return false;
    if (typeof m.key === 'string' ? r.key !== m.key : !m.key.test(r.key)) return false;
  }
  if (m.userAgent !== undefined && !m.userAgent.test(String(r.headers['user-agent'] ?? ''))) return false;
  return true;
}

/** The S3 REST error document. */
export function s3ErrorXml(code: string, message: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message>` +
    '<RequestId>4442587FB7D0A2F9</RequestId><HostId>fault-proxy</HostId></Error>'
  );
}

/** Status, code and XML body AWS sends for a fault on a service (`Throttling` is a 400 on STS). */
export function faultAnswer(
  service: AwsService,
  fault: Fault,
): { status: number; code: string; body: string; contentType: string } {
  const xml = service === 'sts' ? 'text/xml' : 'application/xml';
  if (typeof fault === 'object' && 'body' in fault)
    return { status: fault.status, code: '', body: fault.body, contentType: fault.contentType };
  if (typeof fault === 'object') {
    const { status, code, message } = fault;
    const type = status >= 500 ? 'Receiver' : 'Sender';
    const body = service === 'sts' ? stsErrorXml(code, message, type) : s3ErrorXml(code, message);
    return { status, code, body, contentType: xml };
  }
  if (service === 'sts') {
    const [status, code, message, type] =
      fault === 'throttle'
        ? [400, 'Throttling', 'Rate exceeded', 'Sender']
        : fault === 500
          ? [500, 'InternalFailure', 'An internal error occurred.', 'Receiver']
          : [503, 'ServiceUnavailable', 'Service is unavailable. Please try again.', 'Receiver'];
    return { status, code, body: stsErrorXml(code, message, type), contentType: xml };
  }
  const [status, code, message] =
    fault === 'throttle'
      ? [503, 'SlowDown', 'Please reduce your request rate.']
      : fault === 500
        ? [500, 'InternalError', 'We encountered an internal error. Please try again.']
        : [503, 'ServiceUnavailable', 'Service is unable to handle request.'];
  return { status, code, body: s3ErrorXml(code, message), contentType: xml };
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'expect',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
]);

function serviceOf(headers: IncomingHttpHeaders, body: Buffer): AwsService {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\/aws4_request/.exec(
    String(headers.authorization ?? ''),
  );
  if (scope) return scope[1] === 'sts' ? 'sts' : 's3';
  // AssumeRoleWithWebIdentity is unsigned: a form post with an Action.
  const form = /application\/x-www-form-urlencoded/.test(String(headers['content-type'] ?? ''));
  return form && /(^|&)Action=/.test(body.toString('utf8')) ? 'sts' : 's3';
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * Rewrites the body of a forwarded answer (e.g. plants recognizable credentials in STS answers,
   * which moto accepts back whatever they are). Called for every forwarded request.
   */
  rewrite?: (r: ProxiedRequest, body: string) => string;
}

/** Starts the proxy on a loopback port, forwarding to `upstream` (moto's endpoint). */
export async function startFaultProxy(
  upstream: string,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  let rules: { match: RequestMatch; fault: Fault; left: number }[] = [];

  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = (req.method ?? 'GET').toUpperCase();
      const url = req.url ?? '/';
      const service = serviceOf(req.headers, body);
      const r: ProxiedRequest = { service, method, url, headers: req.headers, answered: 'forwarded', at };
      if (service === 'sts') {
        r.form = new URLSearchParams(body.toString('utf8'));
        r.action = r.form.get('Action') ?? '?';
      } else {
        const [bucket, ...rest] = new URL(url, 'http://x').pathname.slice(1).split('/');
        if (bucket) r.bucket = decodeURIComponent(bucket);
        if (rest.length > 0 && rest.join('/') !== '') r.key = decodeURIComponent(rest.join('/'));
      }
      requests.push(r);

      const rule = rules.find((x) => x.left > 0 && matches(r, x.match));
      if (rule) {
        rule.left--;
        const answer = faultAnswer(service, rule.fault);
        r.answered = answer.status;
        if (answer.code) r.code = answer.code;
        res.writeHead(answer.status, {
          'content-type': answer.contentType,
          'x-amz-request-id': '4442587FB7D0A2F9',
        });
        res.end(method === 'HEAD' ? undefined : answer.body);
        return;
      }

      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'host' && k !== 'content-length') headers[k] = v;
      }
      headers.host = target.host;
      headers['content-length'] = String(body.length);
      const up = httpRequest(
        { host: target.hostname, port: target.port, method, path: url, headers },
        (upRes) => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(upRes.headers))
            if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
          const rewrite = options.rewrite;
          if (!rewrite || method === 'HEAD') {
            res.writeHead(upRes.statusCode ?? 502, out);
            upRes.pipe(res);
            return;
          }
          const parts: Buffer[] = [];
          upRes.on('data', (c: Buffer) => parts.push(c));
          upRes.on('end', () => {
            const text = rewrite(r, Buffer.concat(parts).toString('utf8'));
            out['content-length'] = String(Buffer.byteLength(text));
            res.writeHead(upRes.statusCode ?? 502, out);
            res.end(text);
          });
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failNext(times, fault, match) {
      rules.push({ match, fault, left: times });
    },
    seen: (match) => requests.filter((r) => matches(r, match)),
    reset() {
      requests.length = 0;
      rules = [];
    },
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
