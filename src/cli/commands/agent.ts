/** `dataswap agent`: the recovery agent daemon inside a guest, and `agent status` for its operator. */
import { loadAgentConfig } from '../../recovery/config.js';
import { runAgentDaemon } from '../agent/daemon.js';
import { ladderStatusText, readLadderStatus } from '../agent/status.js';
import { OUTPUT_OPTIONS, type Command, type CommandGroup } from '../command.js';
import { LOG_LEVEL_OPTION, logLevelOf } from '../daemon-support.js';

const DEFAULT_CONFIG = '/etc/dataswap/agent.yaml';

const CONFIG_OPTION = {
  config: {
    type: 'string' as const,
    value: 'FILE',
    description: `the agent config (default ${DEFAULT_CONFIG})`,
  },
};

const daemon: Command = {
  name: '',
  summary: 'run the recovery agent: escalation ladder, watchdog, daily backups (until SIGTERM)',
  usage: '[--config FILE] [--socket PATH]',
  description:
    'Loads the agent config and the guest credential it names (management.credentialFile, as written by\n' +
    '`dataswap guest credential <id> --reveal`), resumes the persisted ladder where it stopped, and watches\n' +
    'the guest. Triggers: SIGUSR1 reports a fault; with --socket, a unix socket takes "fault <reason>",\n' +
    '"reset" (after a hand-over) and "status" lines. SIGTERM/SIGINT stop it cleanly, state persisted.\n' +
    'Logs: one JSON object per line on stdout. Run it under systemd (examples/systemd/dataswap-agent.service),\n' +
    'outside the application and middleware units it restarts.',
  positionals: [],
  options: {
    ...CONFIG_OPTION,
    socket: { type: 'string', value: 'PATH', description: 'also listen for triggers on this unix socket' },
    'socket-mode': { type: 'string', value: 'OCTAL', description: 'permissions of the socket (default 600)' },
    ...LOG_LEVEL_OPTION,
    ...OUTPUT_OPTIONS,
  },
  examples: [
    'dataswap agent --config /etc/dataswap/agent.yaml',
    'dataswap agent --socket /run/dataswap/agent.sock --socket-mode 660',
    'systemctl kill --kill-whom=main --signal=USR1 dataswap-agent   # report a fault',
  ],
  async run(ctx) {
    const { args } = ctx;
    const modeText = args.string('socket-mode') ?? '600';
    if (!/^[0-7]{3}$/.test(modeText))
      throw args.usage(`--socket-mode must be three octal digits like 600, not "${modeText}"`);
    const socketPath = args.string('socket');
    if (args.string('socket-mode') !== undefined && !socketPath)
      throw args.usage('--socket-mode needs --socket');
    const exitCode = await runAgentDaemon(ctx, {
      configPath: args.string('config') ?? DEFAULT_CONFIG,
      socketPath,
      socketMode: parseInt(modeText, 8),
      logLevel: logLevelOf(args),
    });
    return { exitCode };
  },
};

const status: Command = {
  name: 'status',
  summary: 'the persisted ladder state: phase, stage, attempts, epoch, volumes, pending operation, hand-over',
  usage: '[--config FILE]',
  description:
    "Reads the state file in the config's stateDir only, so it works while the agent runs or after it stopped.",
  positionals: [],
  options: { ...CONFIG_OPTION, ...OUTPUT_OPTIONS },
  examples: [
    'dataswap agent status',
    'dataswap agent status --config /etc/dataswap/agent.yaml --json | jq .phase',
  ],
  async run(ctx) {
    const config = await loadAgentConfig(ctx.args.string('config') ?? DEFAULT_CONFIG);
    const s = await readLadderStatus(config);
    return { data: s, text: ladderStatusText(s) };
  },
};

export const agentGroup: CommandGroup = {
  name: 'agent',
  summary: 'the recovery agent daemon inside a guest, and its ladder status',
  commands: [daemon, status],
};
