#!/usr/bin/env node
import { quickAnswer } from './quick.js';

const argv = process.argv.slice(2);
// `--help` and `--version` are answered before the commands' modules are loaded (cli/quick.ts).
const quick = quickAnswer(argv, process.stdout, process.stderr);
if (quick !== undefined) {
  process.exitCode = quick;
} else {
  const { main } = await import('./program.js');
  process.exitCode = await main(argv);
}
