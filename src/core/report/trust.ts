import { RUN_LOCK, s3LockObject, s3StateObject, type SiteGraph } from '../graph/build.js';
import { GITHUB_OIDC_HOST } from '../credentials/messages.js';
import {
  parseArn,
  partitionOf,
  sessionName,
  sessionPolicy,
  type StepIdentity,
} from '../credentials/session.js';

/** One IAM role the site's credentials use, with the trust policy it needs. */
export interface RoleTrust {
  role: string;
  /** What the role is for: apply, plan (read-only), or the hub the OIDC token reaches first. */
  purpose: 'apply' | 'plan' | 'hub';
  trustPolicy: unknown;
  /** What to check by hand: the identity provider, the hub's own permission. */
  notes: string[];
}

/** The session policy one module step gets. */
export interface StepPolicy {
  module: string;
  sessionName: string;
  services: string[];
  /** Undefined when the step gets no AWS session (no services, local state). */
  policy?: unknown;
}

/** Everything `trust-policy` prints for a site × environment. */
export interface TrustReport {
  site: string;
  environment: string;
  account: string;
  region: string;
  repository: string;
  roles: RoleTrust[];
  steps: StepPolicy[];
}

function oidcProvider(partition: string, account: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

/**
 * The IAM trust policies and per-step session policies a site × environment needs, with the
 * GitHub OIDC `sub` narrowed to the repository and the GitHub environment of the same name.
 */
export function trustReport(
  graph: SiteGraph,
  repository: string,
  audience = 'sts.amazonaws.com',
): TrustReport | undefined {
  const c = graph.credentials;
  if (!c) return undefined;
  const env = graph.environment.name;
  const partition = partitionOf(c.region);
  const sub = `repo:${repository}:environment:${env}`;
  const webIdentity = (account: string, subjects: string[], mergeQueue = false) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitHubActionsOidc',
        Effect: 'Allow',
        Principal: { Federated: oidcProvider(partition, account) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        // Several values of one key in StringEquals match any of them.
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: audience,
            [`${GITHUB_OIDC_HOST}:sub`]: subjects.length > 1 ? subjects : subjects[0],
          },
        },
      },
      // A merge queue's plan runs on its temporary branch: only this repository's queue branches.
      ...(mergeQueue
        ? [
            {
              Sid: 'GitHubMergeQueueOidc',
              Effect: 'Allow',
              Principal: { Federated: oidcProvider(partition, account) },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: audience },
                StringLike: {
                  [`${GITHUB_OIDC_HOST}:sub`]: `repo:${repository}:ref:refs/heads/gh-readonly-queue/*`,
                },
              },
            },
          ]
        : []),
    ],
  });
  const fromHub = (hub: string) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SiteDeployHub',
        Effect: 'Allow',
        Principal: { AWS: hub },
        Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
        Condition: { StringEquals: { 'aws:RequestTag/Environment': env } },
      },
    ],
  });
  const roles: RoleTrust[] = [];
  const targets: [string, 'apply' | 'plan'][] = [[c.role, 'apply']];
  if (c.planRole) targets.push([c.planRole, 'plan']);
  if (c.via) {
    const hubAccount = parseArn(c.via)?.account ?? c.account;
    roles.push({
      role: c.via,
      purpose: 'hub',
      trustPolicy: webIdentity(
        hubAccount,
        c.planRole ? [sub, `repo:${repository}:pull_request`] : [sub],
        !!c.planRole,
      ),
      notes: [
        `Needs the GitHub OIDC identity provider ${oidcProvider(partition, hubAccount)} (audience ${audience}).`,
        `Its permission policy must allow sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity on ${targets.map(([r]) => r).join(' and ')}.`,
        "For the CLI (ambient credentials) also trust your engineers' role here with sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity.",
      ],
    });
    for (const [role, purpose] of targets) {
      roles.push({
        role,
        purpose,
        trustPolicy: fromHub(c.via),
        notes: ['Reached from the hub role with session tags and a source identity (the GitHub actor).'],
      });
    }
  } else {
    for (const [role, purpose] of targets) {
      // A plan role also serves pull requests, whose token has no environment claim.
      const subjects = purpose === 'plan' ? [sub, `repo:${repository}:pull_request`] : [sub];
      roles.push({
        role,
        purpose,
        trustPolicy: webIdentity(c.account, subjects, purpose === 'plan'),
        notes: [
          `Needs the GitHub OIDC identity provider ${oidcProvider(partition, c.account)} (audience ${audience}).`,
          `Keep MaxSessionDuration at or above session_duration (${c.sessionDuration} s).`,
          "For the CLI (ambient credentials) add a statement trusting your engineers' role with sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity.",
        ],
      });
    }
  }
  const steps = graph.nodes.map((n): StepPolicy => {
    const identity: StepIdentity = {
      site: graph.site.name,
      environment: env,
      module: n.name,
      services: n.manifest?.services ?? [],
      // Resolved like the steps' own backend, so the printed policy is the one STS will get.
      stateObject: s3StateObject(graph, n.name),
      purpose: 'apply',
    };
    const policy = sessionPolicy(identity, c.allowedServices, partition);
    return {
      module: n.name,
      sessionName: sessionName(graph.site.name, env, n.name),
      services: identity.services,
      policy: policy ? (JSON.parse(policy) as unknown) : undefined,
    };
  });
  // The run lock's own session: only the lock object beside the state.
  const lock = s3LockObject(graph);
  if (lock) {
    const policy = sessionPolicy(
      {
        site: graph.site.name,
        environment: env,
        module: RUN_LOCK,
        services: [],
        stateObject: lock,
        purpose: 'apply',
      },
      c.allowedServices,
      partition,
    );
    steps.push({
      module: RUN_LOCK,
      sessionName: sessionName(graph.site.name, env, RUN_LOCK),
      services: [],
      policy: policy ? (JSON.parse(policy) as unknown) : undefined,
    });
  }
  return {
    site: graph.site.name,
    environment: env,
    account: c.account,
    region: c.region,
    repository,
    roles,
    steps,
  };
}

/** A readable rendering of the report: one section per role, then each step's session policy. */
export function renderTrustReport(r: TrustReport): string {
  const out = [
    `# IAM for ${r.site} / ${r.environment} — account ${r.account}, ${r.region}, repository ${r.repository}`,
    '',
  ];
  for (const role of r.roles) {
    out.push(
      `## ${role.purpose === 'hub' ? 'Hub role (via)' : role.purpose === 'plan' ? 'Plan role (read-only)' : 'Apply role'}: ${role.role}`,
      '',
      'Trust policy:',
      JSON.stringify(role.trustPolicy, null, 2),
      '',
    );
    for (const n of role.notes) out.push(`- ${n}`);
    out.push('');
  }
  out.push(
    "## Session policy of each module step (passed inline at AssumeRole; the role's own policy must allow at least this)",
    '',
  );
  for (const s of r.steps) {
    out.push(
      `### ${s.module} — session ${s.sessionName}`,
      s.policy ? JSON.stringify(s.policy, null, 2) : '(no AWS session: no services and local state)',
      '',
    );
  }
  return out.join('\n');
}
