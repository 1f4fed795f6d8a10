// The site the approval-binding tests plan and apply through the bundled action: three modules of
// real Terraform, the middle one holding a sensitive value; and the pull-request event they plan in.
import { filePutter, TF_MODULES } from './site.js';

export const SITE = 'shop';
export const ENV = 'production';

/** A vault module whose resource holds a sensitive value. */
export const VAULT_TF = `variable "unlock" {
  type      = string
  sensitive = true
}
variable "label" {
  type = string
}
resource "terraform_data" "vault" {
  input = { label = var.label, unlock = var.unlock }
}
output "label" {
  value = var.label
}
`;

/** Writes the catalog and the site `net` (10) → `vault` (20, sensitive `unlock` = `secret`) → `app` (30). */
export async function writeVaultSite(
  root: string,
  secret: string,
): Promise<(path: string, content: unknown) => Promise<void>> {
  const put = filePutter(root);
  await put('modules/step/module.yaml', {
    engine: 'terraform',
    services: [],
    outputs: TF_MODULES.step!.outputs,
  });
  await put('modules/step/main.tf', TF_MODULES.step!.tf);
  await put('modules/vault/module.yaml', { engine: 'terraform', services: [], outputs: ['label'] });
  await put('modules/vault/main.tf', VAULT_TF);
  await put(`sites/${SITE}/site.yaml`, {
    site: {
      name: SITE,
      state: { backend: 'local' },
      modules: [
        { type: 'step', name: 'net', weight: 10, value: '#{net_label}' },
        { type: 'vault', name: 'vault', weight: 20, label: '#{vault_label}', unlock: '#{unlock}' },
        { type: 'step', name: 'app', weight: 30, value: '#{app_label}' },
      ],
      environments: [{ path: `environments/${ENV}.yaml` }],
    },
  });
  await put(`sites/${SITE}/environments/${ENV}.yaml`, {
    environment: ENV,
    variables: { net_label: 'net-1', vault_label: 'vault-1', app_label: 'app-1', unlock: secret },
  });
  return put;
}

/** A `pull_request` event of pull request `pr` whose head is `head`, in org/repo. */
export function pullRequestEvent(pr: number, head: string): { name: string; payload: unknown } {
  return {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      number: pr,
      pull_request: {
        number: pr,
        state: 'open',
        head: { sha: head, ref: `feature/${pr}`, repo: { full_name: 'org/repo' } },
        base: { sha: 'a'.repeat(40), ref: 'main', repo: { full_name: 'org/repo' } },
      },
      repository: { full_name: 'org/repo', name: 'repo', owner: { login: 'org' } },
      sender: { login: 'octocat', type: 'User' },
    },
  };
}
