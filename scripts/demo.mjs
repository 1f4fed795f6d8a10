// `npm run demo`: the example site end to end, offline, through the bundled CLI.
import { spawnSync } from 'node:child_process';

const cli = (...args) => {
  console.log(`\n$ site-deploy ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

cli('validate', '--root', 'examples');
cli('graph', '--root', 'examples', '--site', 'client-portal', '--env', 'dev');
