#!/usr/bin/env node
/** The `dataswap` executable. Everything else lives in run.ts, so tests run commands in-process. */
import { nodeIo } from './io.js';
import { runCli } from './run.js';

const io = nodeIo();
const code = await runCli(process.argv.slice(2), io);
// Leftover keep-alive sockets or timers must not keep a finished command alive; flush, then go.
process.stdout.write('', () => process.exit(code));
