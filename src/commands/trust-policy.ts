import type { Problem } from '../core/errors.js';
import { SiteDeployError } from '../core/errors.js';
import { renderTrustReport, trustReport, type TrustReport } from '../core/report/trust.js';
import { loadProject } from '../core/project.js';
import type { SiteEnvSettings } from './graph.js';
import type { CommandPorts } from './ports.js';
import { defineCommand } from './descriptor.js';
import { siteEnv } from './options.js';

/** Set where the repository could not be determined (no GitHub, no SITE_DEPLOY_REPOSITORY, no git remote). */
export const UNKNOWN_REPOSITORY = 'local/local';

/** `trust-policy`: the IAM trust and session policies a site × environment needs. */
export function trustPolicy(
  s: SiteEnvSettings,
  ports: CommandPorts,
): { report: TrustReport; warnings: Problem[]; notes: string[] } {
  const ctx = ports.context(s.root);
  const { graph, warnings } = loadProject(ports.files(s.root), s.layout, ctx, s.site, s.env);
  const report = trustReport(graph, ctx.repository);
  if (!report)
    throw new SiteDeployError(
      'bad-input',
      `${graph.site.dir}/credentials.yaml has no entry for environment ${graph.environment.name}`,
    );
  const notes =
    ctx.repository === UNKNOWN_REPOSITORY
      ? [
          'could not tell the repository (no GITHUB_REPOSITORY, no SITE_DEPLOY_REPOSITORY, no git remote "origin" on GitHub): ' +
            `the OIDC sub below names "${UNKNOWN_REPOSITORY}", which no GitHub token carries — set SITE_DEPLOY_REPOSITORY=<owner>/<repo> and run again`,
        ]
      : [];
  return { report, warnings, notes };
}

export const trustPolicyCommand = defineCommand({
  name: 'trust-policy',
  summary: 'print the IAM trust and session policies a site × environment needs',
  usage: 'site-deploy trust-policy --site S --env E [--json]',
  example: 'site-deploy trust-policy --root examples --site client-portal --env production',
  flags: ['site', 'env', 'json'],
  needs: ['site', 'env'],
  settings: siteEnv,
  run: trustPolicy,
  json: (r) => r.report,
  text: (r) => `${renderTrustReport(r.report)}\n`,
  notes: (r) => ({ warnings: r.notes }),
});
