/**
 * A process that runs the emulator for a benchmark, so the measured client's CPU and RSS are its
 * own. Started by `startChild({ script: 'lib/emulator-host.ts', args: [<EmulatorOptions JSON>], ipc: true })`;
 * prints `READY {cloudConfig, baseUrl}`; answers IPC messages:
 * `{cmd: 'random', probability, seed}` (429s with `Retry-After: 0` on that share of non-Keystone
 * calls), `{cmd: 'stopRandom'}`, `{cmd: 'stats'}` (counts, faults injected, peak RSS),
 * `{cmd: 'resetStats'}`.
 */
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { peakRssMiB } from './child.js';

const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const emu = await startEmulator(options);

type Command =
  | { cmd: 'random'; probability: number; seed?: number }
  | { cmd: 'stopRandom' }
  | { cmd: 'stats' }
  | { cmd: 'resetStats' };

process.on('message', (m: Command) => {
  switch (m.cmd) {
    case 'random':
      emu.faults.random({ probability: m.probability, status: 429, seed: m.seed ?? 1 });
      break;
    case 'stopRandom':
      emu.faults.stopRandom();
      break;
    case 'resetStats':
      emu.stats.reset();
      break;
    case 'stats':
      break;
  }
  process.send?.({
    total: emu.stats.total,
    faultsInjected: emu.stats.faultsInjected,
    byOperation: emu.stats.byOperation(),
    peakRssMiB: peakRssMiB(),
  });
});
process.on('SIGTERM', () => {
  void emu.close().then(() => process.exit(0));
});
process.stdout.write(`READY ${JSON.stringify({ cloudConfig: emu.cloudConfig, baseUrl: emu.baseUrl })}\n`);
