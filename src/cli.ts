import { main } from './adapters/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
