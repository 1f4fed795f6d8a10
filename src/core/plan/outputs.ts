/**
 * A catalog manifest's `outputs:` held against the Terraform code: the plan's configuration lists
 * the outputs the root module really declares. An output the manifest promises but the code lacks
 * would otherwise fail later, at a downstream module, with no hint at the manifest.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Outputs the root module of a `terraform show -json` plan declares, or undefined when the plan does not say. */
export function configuredOutputs(plan: unknown): string[] | undefined {
  const root = isObj(plan) && isObj(plan.configuration) ? plan.configuration.root_module : undefined;
  if (!isObj(root)) return undefined;
  return isObj(root.outputs) ? Object.keys(root.outputs) : [];
}

/** The manifest's outputs the code does not declare, in the manifest's order. */
export function missingOutputs(declared: string[] | undefined, plan: unknown): string[] {
  const configured = configuredOutputs(plan);
  if (!declared || configured === undefined) return [];
  const have = new Set(configured);
  return declared.filter((o) => !have.has(o));
}
