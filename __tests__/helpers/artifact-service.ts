// A local stand-in for GitHub Actions' artifact service (the "results" service v4 artifacts use),
// as @actions/artifact 6 talks to it:
//
//   POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact   (JSON, proto field names)
//        → { ok, signed_upload_url }
//   PUT  <signed_upload_url>&comp=block&blockid=…     Azure Blob "Put Block" (the zip, in chunks)
//   PUT  <signed_upload_url>&comp=blocklist           Azure Blob "Put Block List" (XML, commits them)
//   POST /twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact → { ok, artifact_id }
//
// Every twirp call must carry `Authorization: Bearer <runtime token>`, and the workflow run / job
// backend ids inside the token's `scp` claim (`Actions.Results:<run>:<job>`) must be the ones in
// the request body, as the real service checks. Artifact names must be unique within the run (the
// service answers 409 for a second one). The blob is reassembled from its committed blocks and
// FinalizeArtifact's size and `sha256:` hash are checked against it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService/';

/** One artifact the service holds. */
export interface StoredArtifact {
  id: number;
  name: string;
  mimeType: string | undefined;
  version: number | undefined;
  /** The committed blob (a zip unless uploaded with skipArchive). */
  blob: Buffer;
  finalized: boolean;
  /** FinalizeArtifact's `hash`, e.g. `sha256:<hex>`. */
  hash: string | undefined;
}

/** The running stand-in. */
export interface ArtifactService {
  /** Value for ACTIONS_RESULTS_URL. */
  url: string;
  /** Value for ACTIONS_RUNTIME_TOKEN (a JWT whose `scp` names the run and job below). */
  runtimeToken: string;
  artifacts: StoredArtifact[];
  /** Every problem a request had (wrong token, unknown ids, bad finalize); a test asserts it empty. */
  problems: string[];
  /** Method and path (no query) of every request, in order. */
  calls: string[];
  stop(): Promise<void>;
}

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

/** Starts the stand-in on a loopback port. */
export async function startArtifactService(): Promise<ArtifactService> {
  const runId = 'c0ffee00-0000-4000-8000-000000000001';
  const jobId = 'c0ffee00-0000-4000-8000-000000000002';
  // The client only decodes the token (jwt-decode); the service would check its signature.
  const runtimeToken = [
    b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' })),
    b64url(
      JSON.stringify({ scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}`, exp: 4102444800 }),
    ),
    b64url(randomBytes(32)),
  ].join('.');
  const artifacts: StoredArtifact[] = [];
  const problems: string[] = [];
  const calls: string[] = [];
  const uploads = new Map<string, { artifact: StoredArtifact; blocks: Map<string, Buffer>; sig: string }>();
  let base = '';
  let nextId = 1001;

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  };
  const twirpError = (res: ServerResponse, status: number, code: string, msg: string): void => {
    problems.push(msg);
    json(res, status, { code, msg });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push(`${req.method} ${url.pathname}`);
    const body = await readBody(req);

    if (url.pathname.startsWith(SERVICE) && req.method === 'POST') {
      if (req.headers.authorization !== `Bearer ${runtimeToken}`) {
        return twirpError(res, 401, 'unauthenticated', `${url.pathname}: wrong or missing runtime token`);
      }
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return twirpError(res, 400, 'malformed', `${url.pathname}: body is not JSON`);
      }
      if (msg.workflow_run_backend_id !== runId || msg.workflow_job_run_backend_id !== jobId) {
        return twirpError(
          res,
          403,
          'permission_denied',
          `${url.pathname}: backend ids do not match the token`,
        );
      }
      const name = String(msg.name ?? '');
      const method = url.pathname.slice(SERVICE.length);
      if (method === 'CreateArtifact') {
        if (artifacts.some((a) => a.name === name)) {
          return twirpError(
            res,
            409,
            'already_exists',
            `CreateArtifact: an artifact named ${name} exists already`,
          );
        }
        const artifact: StoredArtifact = {
          id: nextId++,
          name,
          mimeType: typeof msg.mime_type === 'string' ? msg.mime_type : undefined,
          version: typeof msg.version === 'number' ? msg.version : undefined,
          blob: Buffer.alloc(0),
          finalized: false,
          hash: undefined,
        };
        artifacts.push(artifact);
        const blobPath = `/blob/${artifact.id}`;
        const sig = randomBytes(12).toString('hex');
        uploads.set(blobPath, { artifact, blocks: new Map(), sig });
        return json(res, 200, { ok: true, signed_upload_url: `${base}${blobPath}?sv=2023-11-03&sig=${sig}` });
      }
      if (method === 'FinalizeArtifact') {
        const artifact = artifacts.find((a) => a.name === name && !a.finalized);
        if (!artifact)
          return twirpError(res, 404, 'not_found', `FinalizeArtifact: no artifact ${name} in progress`);
        const hash = typeof msg.hash === 'string' ? msg.hash : undefined;
        const want = `sha256:${createHash('sha256').update(artifact.blob).digest('hex')}`;
        if (String(msg.size) !== String(artifact.blob.length) || hash !== want) {
          return twirpError(
            res,
            400,
            'invalid_argument',
            `FinalizeArtifact: size ${String(msg.size)} / hash ${String(hash)} do not match the blob (${artifact.blob.length} / ${want})`,
          );
        }
        artifact.finalized = true;
        artifact.hash = hash;
        return json(res, 200, { ok: true, artifact_id: String(artifact.id) });
      }
      return twirpError(res, 404, 'bad_route', `${url.pathname}: not implemented here`);
    }

    const upload = uploads.get(url.pathname);
    if (upload && req.method === 'PUT') {
      if (url.searchParams.get('sig') !== upload.sig) {
        problems.push(`${url.pathname}: wrong signature`);
        res.statusCode = 403;
        return void res.end();
      }
      const comp = url.searchParams.get('comp');
      if (comp === 'block') {
        upload.blocks.set(url.searchParams.get('blockid') ?? '', body);
      } else if (comp === 'blocklist') {
        const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(
          (m) => m[1] ?? '',
        );
        const missing = ids.filter((id) => !upload.blocks.has(id));
        if (missing.length) {
          problems.push(`${url.pathname}: block list names unknown blocks ${missing.join(', ')}`);
          res.statusCode = 400;
          return void res.end();
        }
        upload.artifact.blob = Buffer.concat(ids.map((id) => upload.blocks.get(id) as Buffer));
      } else if (comp === null) {
        upload.artifact.blob = body; // a single Put Blob
      }
      res.statusCode = 201;
      res.setHeader('ETag', `"0x${randomBytes(8).toString('hex')}"`);
      res.setHeader('Last-Modified', new Date().toUTCString());
      res.setHeader('x-ms-request-server-encrypted', 'true');
      res.setHeader('x-ms-version', '2023-11-03');
      return void res.end();
    }
    problems.push(`${req.method} ${url.pathname}: not implemented here`);
    res.statusCode = 404;
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      problems.push(`${req.method} ${req.url}: ${String(e)}`);
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    runtimeToken,
    artifacts,
    problems,
    calls,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** The files of a zip (stored or deflated entries), read through its central directory. */
export function unzip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + compressed);
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}
