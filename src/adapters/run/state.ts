/**
 * A module's Terraform state, as the runner reads it at plan time: where it lives (local file or
 * S3 object, SPEC §5) and its outputs. Only a missing state means "never applied"; denied,
 * throttled or unreachable is an error naming the object, never a quiet fall-back to mocks.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { s3StateObject, type GraphNode, type SiteGraph } from '../../core/graph/build.js';
import type { OutputValue } from '../../core/inputs.js';
import { s3Client, type S3CredentialSource } from '../aws/s3.js';
import type { Backend } from '../engines/types.js';
import { stepSession, type SessionSettings } from './sessions.js';
import { toolDir } from '../tool-dir.js';

/** Local state path of a module (SPEC §5): `<root>/.site-deploy/state/<site>/<env>/<module>.tfstate`. */
export function localStatePath(root: string, site: string, env: string, module: string): string {
  return join(toolDir(root), 'state', site, env, `${module}.tfstate`);
}

/** The state backend of one module step. */
export function backendFor(root: string, graph: SiteGraph, node: GraphNode): Backend {
  const s3 = s3StateObject(graph, node.name);
  if (s3) return { kind: 's3', ...s3 };
  return { kind: 'local', path: localStatePath(root, graph.site.name, graph.environment.name, node.name) };
}

/** Outputs of a Terraform state document (`outputs: { name: { value, sensitive } }`). */
export function stateDocumentOutputs(text: string, what = 'state'): Record<string, OutputValue> | undefined {
  let doc: { outputs?: Record<string, { value: unknown; sensitive?: boolean }> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new Error(`${what} is not valid JSON (a Terraform state file was expected)`);
  }
  if (!doc.outputs || Object.keys(doc.outputs).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(doc.outputs).map(([k, v]) => [k, { value: v.value, sensitive: v.sensitive === true }]),
  );
}

/** An S3 SDK error as `Code (HTTP n): message after N attempts`. */
function s3ErrorText(e: unknown): string {
  const err = e as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  const status = err.$metadata?.httpStatusCode;
  const attempts = err.$metadata?.attempts;
  return `${err.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}${
    attempts && attempts > 1 ? ` after ${attempts} attempts` : ''
  }`;
}

/**
 * The outputs in a module's state, or undefined when it has no state yet. `credentials`: the
 * module's plan session (S3); `env`: endpoints and static keys for the S3 client.
 */
export async function readStateOutputs(
  module: string,
  backend: Backend,
  env: Record<string, string | undefined>,
  credentials?: S3CredentialSource,
): Promise<Record<string, OutputValue> | undefined> {
  if (backend.kind === 'local') {
    let text: string;
    try {
      text = await readFile(backend.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // never applied
      throw new Error(
        `could not read the state of module "${module}" (${backend.path}): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return stateDocumentOutputs(text, `the state of module "${module}" (${backend.path})`);
  }
  const where = `s3://${backend.bucket}/${backend.key}`;
  const s3 = await s3Client(backend.region, env, credentials);
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let text: string | undefined;
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: backend.key }));
    text = await r.Body?.transformToString('utf8');
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
    throw new Error(`could not read the state of module "${module}" (${where}): ${s3ErrorText(e)}`);
  } finally {
    s3.destroy();
  }
  return text ? stateDocumentOutputs(text, `the state of module "${module}" (${where})`) : undefined;
}

/**
 * A module's outputs as its state holds them before this run, read with its plan session (the
 * least the read needs) when steps get sessions; undefined when it has no state yet.
 */
export async function moduleStateOutputs(
  root: string,
  graph: SiteGraph,
  node: GraphNode,
  env: Record<string, string | undefined>,
  sessions: SessionSettings | undefined,
): Promise<Record<string, OutputValue> | undefined> {
  const backend = backendFor(root, graph, node);
  // A local state is a file on this machine: no session is needed to read it.
  const session =
    backend.kind === 's3' && sessions ? await stepSession(sessions, graph, node, backend, 'plan') : undefined;
  return readStateOutputs(node.name, backend, env, session?.credentials);
}
