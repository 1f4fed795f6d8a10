/**
 * A module step's AWS session (SPEC §6): who the step is (name, services, state object, tags), and
 * the loopback credential endpoint that serves the session to the step's child process only.
 */
import type { RunContext } from '../../core/config/scope.js';
import type { StepIdentity } from '../../core/credentials/session.js';
import type { GraphNode, SiteGraph } from '../../core/graph/build.js';
import { startCredentialServer, type CredentialMode } from '../aws/credential-server.js';
import type { SessionBroker, StepSession } from '../aws/sts.js';
import type { S3CredentialSource } from '../aws/s3.js';
import type { Backend } from '../engines/types.js';

/** How steps get AWS sessions. */
export interface SessionSettings {
  broker: SessionBroker;
  mode: CredentialMode;
  ctx: RunContext;
  mask?: (secret: string) => void;
}

/** Who a module step is, for its session policy, name and tags. */
export function stepIdentity(
  graph: SiteGraph,
  node: GraphNode,
  backend: Backend,
  purpose: 'plan' | 'apply',
  ctx: RunContext,
): StepIdentity {
  return {
    site: graph.site.name,
    environment: graph.environment.name,
    module: node.name,
    services: node.manifest?.services ?? [],
    stateObject: backend.kind === 's3' ? { bucket: backend.bucket, key: backend.key } : undefined,
    repository: ctx.repository,
    runId: ctx.runId,
    actor: ctx.actor,
    purpose,
  };
}

/** The environment a step's child gets for its session, and how to stop serving it. */
export interface StepCredentials {
  session: StepSession;
  env: Record<string, string>;
  /** The credentials the child is served, in memory: what the engine reads the step's state with. */
  credentials: S3CredentialSource;
  close(): Promise<void>;
}

/** The module's session for `purpose`, or undefined when it needs none (no services, local state). */
export function stepSession(
  c: SessionSettings,
  graph: SiteGraph,
  node: GraphNode,
  backend: Backend,
  purpose: 'plan' | 'apply',
): Promise<StepSession | undefined> {
  if (!graph.credentials) return Promise.resolve(undefined);
  return c.broker.get(graph.credentials, stepIdentity(graph, node, backend, purpose, c.ctx));
}

/** Starts serving the step's session on a loopback endpoint (re-assumed before it expires). */
export async function serveStepCredentials(
  c: SessionSettings,
  graph: SiteGraph,
  node: GraphNode,
  backend: Backend,
  purpose: 'plan' | 'apply',
): Promise<StepCredentials | undefined> {
  const target = graph.credentials;
  if (!target) return undefined;
  const identity = stepIdentity(graph, node, backend, purpose, c.ctx);
  const session = await c.broker.get(target, identity);
  if (!session) return undefined;
  const server = await startCredentialServer({
    provider: c.broker.provider(target, identity),
    region: target.region,
    mode: c.mode,
    mask: c.mask,
  });
  return { session, env: server.env(), credentials: () => server.credentials(), close: () => server.close() };
}
