/**
 * `npm run demo` (`tsx src/demo/main.ts`): runs {@link runDemo} with the command line's options.
 * Ctrl-C stops the walk and still cleans up; a second Ctrl-C exits at once.
 */
import { DEMO_USAGE, parseDemoArgs } from './args.js';
import { runDemo } from './walk.js';

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseDemoArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: stopping and cleaning up (Ctrl-C again to exit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await runDemo({
      cloud: args.cloud,
      flavor: args.flavor,
      fast: args.fast,
      json: args.json,
      out: (line) => process.stdout.write(`${line}\n`),
      log: (line) => process.stderr.write(`${line}\n`),
      signal: controller.signal,
    });
    return controller.signal.aborted ? 130 : 0;
  } catch (err) {
    if (controller.signal.aborted) return 130;
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

process.exitCode = await main(process.argv.slice(2));
