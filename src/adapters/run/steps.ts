import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../aws/s3.js';
import type { Workspace } from '../../core/config/load.js';
import { isSensitiveInput, s3StateObject, type GraphNode, type SiteGraph } from '../../core/graph/build.js';
import { summarizePlan } from '../../core/plan/summary.js';
import { missingOutputs } from '../../core/plan/outputs.js';
import { formatProblem } from '../../core/errors.js';
import type { Manifest } from '../../core/config/model.js';
import { sensitivePlanValues } from '../../core/plan/sensitive.js';
import type { Redactor } from '../../core/redact.js';
import type { OutputValue, RunPorts, StepReport } from '../../core/run/runner.js';
import { engineFor, type Backend } from '../engines/index.js';
import { errorText } from '../engines/workdir.js';
import type { GroupedLog } from './group-log.js';
import type { StepIdentity } from '../../core/credentials/session.js';
import type { RunContext } from '../../core/config/scope.js';
import { startCredentialServer, type CredentialMode } from '../aws/credential-server.js';
import type { SessionBroker } from '../aws/sts.js';

/** How module steps run on this machine. */
export interface StepSettings {
  /** Absolute repository root. */
  root: string;
  /** Absolute folder of this run; each step works in `<workRoot>/<module>`. */
  workRoot: string;
  terraformBinary: string;
  lockTimeout: string;
  log: GroupedLog;
  /** Every secret a step meets (sensitive inputs, plan values, outputs) is registered here first. */
  redactor: Redactor;
  /** Extra environment for every step's child (e.g. AWS endpoints); credentials come per step. */
  env?: Record<string, string>;
  /** Per-step AWS sessions; absent means steps run with no AWS credentials at all. */
  credentials?: {
    broker: SessionBroker;
    mode: CredentialMode;
    ctx: RunContext;
    mask?: (secret: string) => void;
  };
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

/** Local state path of a module (SPEC §5): `<root>/.site-deploy/state/<site>/<env>/<module>.tfstate`. */
export function localStatePath(root: string, site: string, env: string, module: string): string {
  return join(root, '.site-deploy', 'state', site, env, `${module}.tfstate`);
}

/** The state backend of one module step. */
export function backendFor(settings: StepSettings, graph: SiteGraph, node: GraphNode): Backend {
  const s3 = s3StateObject(graph, node.name);
  if (s3) return { kind: 's3', ...s3 };
  return {
    kind: 'local',
    path: localStatePath(settings.root, graph.site.name, graph.environment.name, node.name),
  };
}

const ZERO = { add: 0, change: 0, destroy: 0, import: 0, forget: 0, replace: 0 };

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

/** `file:line:col: error: …` for outputs a manifest declares that the module's Terraform code lacks. */
function manifestOutputsProblem(ws: Workspace, manifest: Manifest, plan: unknown): string | undefined {
  const missing = missingOutputs(manifest.outputs, plan);
  if (missing.length === 0) return undefined;
  const file = ws.files.get(manifest.file);
  return missing
    .map((o) => {
      const at = file?.locate(['outputs', manifest.outputs!.indexOf(o)]) ?? {
        file: manifest.file,
        line: 1,
        column: 1,
      };
      return formatProblem({
        ...at,
        severity: 'error',
        message: `output "${o}" is declared in ${manifest.file}, but the module's Terraform code has no output "${o}": add it to the code or remove it from outputs:`,
      });
    })
    .join('\n');
}

/** An S3 SDK error as `Code (HTTP n): message`. */
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

/** Engine-backed ports for the runner: one work folder per step, grouped logs, plan summaries. */
export function enginePorts(ws: Workspace, graph: SiteGraph, settings: StepSettings): RunPorts {
  const site = graph.site.name;
  const env = graph.environment.name;
  return {
    async stateOutputs(node) {
      const backend = backendFor(settings, graph, node);
      if (backend.kind === 'local') {
        let text: string;
        try {
          text = await readFile(backend.path, 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // never applied
          throw new Error(
            `could not read the state of module "${node.name}" (${backend.path}): ${errorText(e)}`,
          );
        }
        return stateDocumentOutputs(text, `the state of module "${node.name}" (${backend.path})`);
      }
      const where = `s3://${backend.bucket}/${backend.key}`;
      const c = settings.credentials;
      const session =
        c && graph.credentials
          ? await c.broker.get(graph.credentials, stepIdentity(graph, node, backend, 'plan', c.ctx))
          : undefined;
      const s3 = s3Client(backend.region, settings.env ?? {}, session?.credentials);
      let text: string | undefined;
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: backend.key }));
        text = await r.Body?.transformToString('utf8');
      } catch (e) {
        // Only a missing object means "no state yet": denied, throttled or unreachable must never
        // turn into a plan against mock outputs.
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw new Error(`could not read the state of module "${node.name}" (${where}): ${s3ErrorText(e)}`);
      } finally {
        s3.destroy();
      }
      return text ? stateDocumentOutputs(text, `the state of module "${node.name}" (${where})`) : undefined;
    },
    async step({ node, mode, inputs, sensitiveInputs, signal }): Promise<StepReport> {
      const manifest = node.manifest;
      if (!manifest)
        return {
          status: 'failed',
          counts: ZERO,
          outputs: {},
          unknownOutputs: [],
          error: `module type ${node.type} has no manifest`,
        };
      // Before the engine starts, so its very first line is already redacted.
      for (const [k, v] of Object.entries(inputs))
        if (sensitiveInputs.includes(k) || isSensitiveInput(node, k)) settings.redactor.add(v);
      const log = settings.log.open(`${node.name} (${node.type}) — ${mode} ${site}/${env}`);
      let outputsProblem: string | undefined;
      const backend = backendFor(settings, graph, node);
      let server: Awaited<ReturnType<typeof startCredentialServer>> | undefined;
      try {
        // The step sees only its own session: no shared credentials or config file, no instance metadata.
        const stepEnv: Record<string, string> = {
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...(settings.env ?? {}),
        };
        const c = settings.credentials;
        if (c && graph.credentials) {
          const target = graph.credentials;
          const identity = stepIdentity(graph, node, backend, mode, c.ctx);
          try {
            const session = await c.broker.get(target, identity);
            if (session) {
              log.write(
                `AWS session ${session.sessionName} as ${session.assumedRoleArn ?? session.roleArn} (${session.hops.length} hop${session.hops.length === 1 ? '' : 's'})\n`,
              );
              server = await startCredentialServer({
                provider: c.broker.provider(target, identity),
                region: target.region,
                mode: c.mode,
                mask: c.mask,
              });
              Object.assign(stepEnv, server.env());
            }
          } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            log.write(`${error}\n`);
            return { status: 'failed', counts: ZERO, outputs: {}, unknownOutputs: [], error };
          }
        }
        const r = await engineFor(manifest.engine).run({
          mode,
          binary: settings.terraformBinary,
          moduleDir: resolve(settings.root, manifest.dir),
          root: settings.root,
          workDir: join(settings.workRoot, node.name),
          inputs,
          backend,
          lockTimeout: settings.lockTimeout,
          env: stepEnv,
          log: (chunk) => log.write(chunk),
          onPlan: (plan) => {
            settings.redactor.add(sensitivePlanValues(plan));
            outputsProblem = manifestOutputsProblem(ws, manifest, plan);
          },
          // Refused before anything is applied: downstream modules would wait for what never comes.
          beforeApply: () => Promise.resolve(outputsProblem),
          signal,
        });
        if (outputsProblem && r.status !== 'failed' && r.status !== 'cancelled')
          return { status: 'failed', counts: ZERO, outputs: {}, unknownOutputs: [], error: outputsProblem };
        for (const [k, v] of Object.entries(r.outputs)) {
          if (v.sensitive || manifest.sensitiveOutputs.includes(k)) settings.redactor.add(v.value);
        }
        let summary;
        let counts = { ...ZERO, ...(r.changes ?? {}) };
        if (r.plan !== undefined && r.status !== 'cancelled') {
          try {
            summary = summarizePlan(r.plan);
            counts = {
              add: summary.add,
              change: summary.change,
              destroy: summary.destroy,
              import: summary.import,
              forget: summary.forget,
              replace: summary.replace,
            };
          } catch (e) {
            if (r.status !== 'failed')
              return {
                status: 'failed',
                counts,
                outputs: r.outputs,
                unknownOutputs: [],
                error: `could not read the plan of ${node.name}: ${e instanceof Error ? e.message : String(e)}`,
              };
          }
        }
        if (r.error) log.write(`\n${r.error}\n`);
        return {
          status: r.status,
          counts,
          summary,
          outputs: r.outputs,
          unknownOutputs: r.unknownOutputs ?? [],
          planSha256: r.planSha256,
          error: r.error,
        };
      } finally {
        await server?.close();
        log.close();
      }
    },
  };
}
