// `npm run demo`: the example site end to end — validate, graph, plan and apply `dev` — offline,
// on local state under examples/.site-deploy/, through the bundled CLI. Run it twice: the second
// apply finds nothing to change.
import { spawnSync } from 'node:child_process';

const cli = (...args) => {
  console.log(`\n$ site-deploy ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

const site = ['--root', 'examples', '--site', 'client-portal', '--env', 'dev'];
cli('validate', '--root', 'examples');
cli('graph', ...site);
cli('plan', ...site, '--credentials', 'none');
cli('apply', ...site, '--credentials', 'none');
console.log('\nState is in examples/.site-deploy/state; run `npm run demo` again to see every module no-op.');
