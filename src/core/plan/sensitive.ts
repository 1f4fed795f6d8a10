/**
 * The values a `terraform show -json` plan holds in plaintext although Terraform marks them
 * sensitive. Only the `*_sensitive` / `sensitive_values` trees, outputs' `sensitive: true` and the
 * configuration's sensitive variables say which they are; every one is registered with the
 * redaction before anything of the step is reported.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The parts of `value` that a sensitivity tree (`true`, or lists/maps of them) marks. */
function marked(value: unknown, tree: unknown, out: unknown[]): void {
  const stack: [unknown, unknown][] = [[value, tree]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, t] = top;
    if (v === undefined || v === null) continue;
    if (t === true) out.push(v);
    else if (Array.isArray(t) && Array.isArray(v)) t.forEach((x, i) => stack.push([v[i], x]));
    else if (isObj(t) && isObj(v)) for (const [k, x] of Object.entries(t)) stack.push([v[k], x]);
  }
}

/** Resources of a `planned_values` / `prior_state.values` module tree, child modules included. */
function moduleResources(root: unknown, out: unknown[]): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const m = stack.pop();
    if (!isObj(m)) continue;
    if (Array.isArray(m.resources))
      for (const r of m.resources) if (isObj(r)) marked(r.values, r.sensitive_values, out);
    // One by one: spreading a long list into push() would overflow the call stack.
    if (Array.isArray(m.child_modules)) for (const c of m.child_modules) stack.push(c);
  }
}

function outputValues(outputs: unknown, out: unknown[]): void {
  if (!isObj(outputs)) return;
  for (const o of Object.values(outputs)) if (isObj(o) && o.sensitive === true) out.push(o.value);
}

/** Every sensitive value in a parsed plan document (duplicates possible; the caller dedupes). */
export function sensitivePlanValues(plan: unknown): unknown[] {
  const out: unknown[] = [];
  if (!isObj(plan)) return out;
  for (const key of ['resource_changes', 'resource_drift'] as const) {
    const list = plan[key];
    if (!Array.isArray(list)) continue;
    for (const rc of list) {
      const c = isObj(rc) ? rc.change : undefined;
      if (!isObj(c)) continue;
      marked(c.before, c.before_sensitive, out);
      marked(c.after, c.after_sensitive, out);
    }
  }
  if (isObj(plan.output_changes)) {
    for (const c of Object.values(plan.output_changes)) {
      if (!isObj(c)) continue;
      marked(c.before, c.before_sensitive, out);
      marked(c.after, c.after_sensitive, out);
    }
  }
  const planned = plan.planned_values;
  if (isObj(planned)) {
    outputValues(planned.outputs, out);
    moduleResources(planned.root_module, out);
  }
  const prior = isObj(plan.prior_state) ? plan.prior_state.values : undefined;
  if (isObj(prior)) {
    outputValues(prior.outputs, out);
    moduleResources(prior.root_module, out);
  }
  const config = isObj(plan.configuration) ? plan.configuration.root_module : undefined;
  const declared = isObj(config) && isObj(config.variables) ? config.variables : {};
  if (isObj(plan.variables)) {
    for (const [name, v] of Object.entries(plan.variables)) {
      const d = declared[name];
      if (isObj(d) && d.sensitive === true && isObj(v)) out.push(v.value);
    }
  }
  return out;
}
