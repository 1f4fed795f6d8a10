import { RUN_LOCK, s3LockObject, s3StateObject, type SiteGraph } from '../graph/build.js';
import { GITHUB_OIDC_HOST } from '../credentials/messages.js';
import {
  parseArn,
  partitionOf,
  sessionName,
  sessionPolicy,
  type Partition,
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
  const trust: TrustContext = {
    repository,
    audience,
    env: graph.environment.name,
    partition: partitionOf(c.region),
    sub: `repo:${repository}:environment:${graph.environment.name}`,
  };
  return {
    site: graph.site.name,
    environment: trust.env,
    account: c.account,
    region: c.region,
    repository,
    roles: c.via ? hubRoles(c, c.via, trust) : directRoles(c, trust),
    steps: stepPolicies(graph, c, trust.partition),
  };
}

type Credentials = NonNullable<SiteGraph['credentials']>;

/** What every trust policy of one report is written for. */
interface TrustContext {
  repository: string;
  audience: string;
  env: string;
  partition: Partition;
  /** The OIDC subject of the repository's GitHub environment of the same name. */
  sub: string;
}

/** The roles a step assumes: the apply role, and the plan role when there is one. */
function targets(c: Credentials): [string, 'apply' | 'plan'][] {
  const list: [string, 'apply' | 'plan'][] = [[c.role, 'apply']];
  if (c.planRole) list.push([c.planRole, 'plan']);
  return list;
}

/** A role trusting GitHub's OIDC tokens for `subjects` (and, for plans, the merge queue). */
function webIdentity(t: TrustContext, account: string, subjects: string[], mergeQueue = false): unknown {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitHubActionsOidc',
        Effect: 'Allow',
        Principal: { Federated: oidcProvider(t.partition, account) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        // Several values of one key in StringEquals match any of them.
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: t.audience,
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
              Principal: { Federated: oidcProvider(t.partition, account) },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: t.audience },
                StringLike: {
                  [`${GITHUB_OIDC_HOST}:sub`]: `repo:${t.repository}:ref:refs/heads/gh-readonly-queue/*`,
                },
              },
            },
          ]
        : []),
    ],
  };
}

/** A role trusting the hub role, with the environment's session tag. */
function fromHub(hub: string, env: string): unknown {
  return {
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
  };
}

/** Through a hub (`via`): the hub trusts GitHub, the apply and plan roles trust the hub. */
function hubRoles(c: Credentials, via: string, t: TrustContext): RoleTrust[] {
  const hubAccount = parseArn(via)?.account ?? c.account;
  const roles: RoleTrust[] = [
    {
      role: via,
      purpose: 'hub',
      trustPolicy: webIdentity(
        t,
        hubAccount,
        c.planRole ? [t.sub, `repo:${t.repository}:pull_request`] : [t.sub],
        !!c.planRole,
      ),
      notes: [
        `Needs the GitHub OIDC identity provider ${oidcProvider(t.partition, hubAccount)} (audience ${t.audience}).`,
        `Its permission policy must allow sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity on ${targets(
          c,
        )
          .map(([r]) => r)
          .join(' and ')}.`,
        "For the CLI (ambient credentials) also trust your engineers' role here with sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity.",
      ],
    },
  ];
  for (const [role, purpose] of targets(c)) {
    roles.push({
      role,
      purpose,
      trustPolicy: fromHub(via, t.env),
      notes: ['Reached from the hub role with session tags and a source identity (the GitHub actor).'],
    });
  }
  return roles;
}

/** Without a hub: the apply and plan roles trust GitHub's OIDC tokens themselves. */
function directRoles(c: Credentials, t: TrustContext): RoleTrust[] {
  return targets(c).map(([role, purpose]) => {
    // A plan role also serves pull requests, whose token has no environment claim.
    const subjects = purpose === 'plan' ? [t.sub, `repo:${t.repository}:pull_request`] : [t.sub];
    return {
      role,
      purpose,
      trustPolicy: webIdentity(t, c.account, subjects, purpose === 'plan'),
      notes: [
        `Needs the GitHub OIDC identity provider ${oidcProvider(t.partition, c.account)} (audience ${t.audience}).`,
        `Keep MaxSessionDuration at or above session_duration (${c.sessionDuration} s).`,
        "For the CLI (ambient credentials) add a statement trusting your engineers' role with sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity.",
      ],
    };
  });
}

/** Each module step's session policy, then the run lock's (only the lock object beside the state). */
function stepPolicies(graph: SiteGraph, c: Credentials, partition: Partition): StepPolicy[] {
  const step = (module: string, services: string[], stateObject: StepIdentity['stateObject']): StepPolicy => {
    const identity: StepIdentity = {
      site: graph.site.name,
      environment: graph.environment.name,
      module,
      services,
      stateObject,
      purpose: 'apply',
    };
    const policy = sessionPolicy(identity, c.allowedServices, partition);
    return {
      module,
      sessionName: sessionName(graph.site.name, graph.environment.name, module),
      services,
      policy: parse(policy),
    };
  };
  // Resolved like the steps' own backend, so the printed policy is the one STS will get.
  const steps = graph.nodes.map((n) =>
    step(n.name, n.manifest?.services ?? [], s3StateObject(graph, n.name)),
  );
  const lock = s3LockObject(graph);
  if (lock) steps.push(step(RUN_LOCK, [], lock));
  return steps;
}

/** A session policy document as data, to print it indented. */
function parse(policy: string | undefined): unknown {
  if (!policy) return undefined;
  const parsed: unknown = JSON.parse(policy);
  return parsed;
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
