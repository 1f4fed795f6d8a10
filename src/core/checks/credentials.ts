import { CredentialError, partitionOf, sessionPolicy } from '../credentials/session.js';
import type { Problems } from '../errors.js';
import { RUN_LOCK, s3LockObject, s3StateObject, type SiteGraph } from '../graph/build.js';
import type { Workspace } from '../config/load.js';
import type { CredentialEntry, Site } from '../config/model.js';

/** The parts of an IAM ARN, or undefined when it is not one of the given resource kind. */
export function parseIamArn(
  arn: string,
  kind: 'role' | 'policy',
): { partition: string; account: string; name: string } | undefined {
  const m =
    /^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}|aws):(role|policy)(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,128})$/.exec(
      arn,
    );
  if (!m || m[3] !== kind) return undefined;
  return { partition: m[1] as string, account: m[2] as string, name: m[5] as string };
}

/** Services a module set needs, per module. */
export interface ServiceNeed {
  module: string;
  services: string[];
}

/**
 * Checks the structural rules of SPEC §2 for a site's credentials.yaml: accounts, partitions,
 * durations, entries for every environment that needs AWS, allowed services; warns about a role
 * shared across environments.
 */
export function checkCredentials(
  ws: Workspace,
  site: Site,
  needs: Map<string, ServiceNeed[]>,
  problems: Problems,
): void {
  const creds = site.credentials;
  if (creds?.broken) return;
  const file = creds?.file ?? site.file;
  const at = (env: string, key?: string, keyPos = false) =>
    ws.files.get(file)?.locate(key ? ['credentials', env, key] : ['credentials', env], keyPos) ?? {
      file,
      line: 1,
      column: 1,
    };

  for (const [env, modules] of needs) {
    const entry = creds?.entries.get(env);
    const needsAws = modules.some((m) => m.services.length > 0) || site.state.backend === 's3';
    if (!entry) {
      if (needsAws) {
        const why = modules
          .filter((m) => m.services.length > 0)
          .map((m) => `${m.module}: ${m.services.join(', ')}`);
        const reason = why.length
          ? `its modules need AWS (${why.slice(0, 4).join('; ')}${why.length > 4 ? '; ...' : ''})`
          : 'its state is in S3';
        const envFile = site.environments.get(env)?.file ?? site.file;
        problems.error(
          creds
            ? (ws.files.get(file)?.locate(['credentials'], true) ?? { file, line: 1, column: 1 })
            : { file: envFile, line: 1, column: 1 },
          `environment "${env}" has no entry in ${creds ? creds.file : `${site.dir}/credentials.yaml`}, but ${reason}`,
        );
      }
      continue;
    }
    if (entry.allowedServices) {
      const allowed = new Set(entry.allowedServices);
      for (const m of modules) {
        const missing = m.services.filter((s) => !allowed.has(s));
        if (missing.length === 0) continue;
        const mod = site.modules.find((x) => x.name === m.module);
        const pos = mod
          ? (ws.files.get(mod.origin.file)?.locate([...mod.origin.path, 'type']) ?? at(env))
          : at(env);
        problems.error(
          pos,
          `module "${m.module}" needs AWS service${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which credentials for environment ${env} do not allow (allowed_services: ${entry.allowedServices.join(', ') || 'none'}): add ${missing.length > 1 ? 'them' : 'it'} to allowed_services or drop the module from ${env}`,
        );
      }
    }
  }

  if (!creds) return;
  const envs = [...site.environments.keys()];
  const seen = new Map<string, string>();
  for (const [env, entry] of creds.entries) {
    if (!site.environments.has(env)) {
      problems.warn(
        at(env, undefined, true),
        `credentials for "${env}", which the site does not deploy to (environments: ${envs.join(', ') || 'none'})`,
      );
    }
    checkEntry(entry, (key, msg) => problems.error(at(env, key), msg));
    for (const key of ['role', 'plan_role'] as const) {
      const arn = key === 'role' ? entry.role : entry.planRole;
      if (!arn) continue;
      const other = seen.get(arn);
      if (other && other !== env) {
        problems.warn(
          at(env, key),
          `${key} ${arn} is also used by environment ${other}: one credential shared across an environment boundary`,
        );
      } else seen.set(arn, env);
    }
  }
}

function checkEntry(e: CredentialEntry, error: (key: string, message: string) => void): void {
  const partition = partitionOf(e.region);
  const arns: [string, string | undefined, 'role' | 'policy', boolean][] = [
    ['role', e.role, 'role', true],
    ['plan_role', e.planRole, 'role', true],
    ['via', e.via, 'role', false],
    ['boundary_policy', e.boundaryPolicy, 'policy', true],
  ];
  for (const [key, arn, kind, sameAccount] of arns) {
    if (arn === undefined) continue;
    const p = parseIamArn(arn, kind);
    if (!p) {
      error(
        key,
        `${key} "${arn}" is not an IAM ${kind} ARN (arn:${partition}:iam::<12-digit account>:${kind}/<name>)`,
      );
      continue;
    }
    if (p.partition !== partition) {
      error(
        key,
        `${key} uses partition "${p.partition}", but region ${e.region} is in partition "${partition}": write arn:${partition}:iam::...`,
      );
    }
    if (sameAccount && p.account !== e.account) {
      error(key, `${key} is in account ${p.account}, not in aws_account ${e.account}`);
    }
  }
  if (e.sessionDuration < 900 || e.sessionDuration > 43200) {
    error('session_duration', `session_duration ${e.sessionDuration} is outside 900–43200 seconds`);
  } else if (e.via && e.sessionDuration > 3600) {
    error(
      'session_duration',
      `session_duration ${e.sessionDuration} exceeds 3600 seconds: with via the session is chained, and STS caps chained sessions at one hour`,
    );
  }
}

/**
 * Builds every session policy a site × environment will send to STS (one per module step, and the
 * run lock's), so what STS would refuse — a policy over 2,048 characters, a service that is no IAM
 * prefix — is a config error at the module's `services` line, before anything runs.
 */
export function checkSessionPolicies(ws: Workspace, graph: SiteGraph, problems: Problems): void {
  const c = graph.credentials;
  if (!c || graph.site.credentials?.broken) return;
  const partition = partitionOf(c.region);
  const base = { site: graph.site.name, environment: graph.environment.name, purpose: 'apply' as const };
  for (const n of graph.nodes) {
    try {
      sessionPolicy(
        {
          ...base,
          module: n.name,
          services: n.manifest?.services ?? [],
          stateObject: s3StateObject(graph, n.name),
        },
        c.allowedServices,
        partition,
      );
    } catch (e) {
      if (!(e instanceof CredentialError)) throw e;
      const manifest = n.manifest;
      const pos = manifest
        ? (ws.files.get(manifest.file)?.locate(['services'], true) ?? {
            file: manifest.file,
            line: 1,
            column: 1,
          })
        : { file: graph.site.file, line: 1, column: 1 };
      problems.error(pos, e.message);
    }
  }
  const lock = s3LockObject(graph);
  if (!lock) return;
  try {
    sessionPolicy(
      { ...base, module: RUN_LOCK, services: [], stateObject: lock },
      c.allowedServices,
      partition,
    );
  } catch (e) {
    if (!(e instanceof CredentialError)) throw e;
    const at = graph.site.state.origin;
    problems.error(
      at
        ? (ws.files.get(at.file)?.locate(at.path) ?? { file: at.file, line: 1, column: 1 })
        : { file: graph.site.file, line: 1, column: 1 },
      e.message,
    );
  }
}
