/** `dataswap volume create-from-backup`: a new data volume for a guest, ready to swap in. */
import type { DataSource } from '../../management/data-volumes.js';
import { managementOptions, type Command, type CommandGroup } from '../command.js';
import { openDevice } from '../device.js';
import { fields } from '../output.js';

const createFromBackup: Command = {
  name: 'create-from-backup',
  summary: 'build a data volume for the guest from a backup (default the latest) or the startup image',
  usage: '<id> [--generation N | --previous N | --startup]',
  description:
    "The volume is made in the guest's availability zone and labelled a candidate; swap it in with\n" +
    '`dataswap swap <id> <volume-id>`. Deleting the guest deletes it too.',
  positionals: [{ name: 'id', description: 'the guest id' }],
  options: managementOptions({
    generation: { type: 'string', value: 'N', description: 'from backup generation N' },
    previous: {
      type: 'string',
      value: 'N',
      description: 'from the backup N generations before the latest (1 = the one before)',
    },
    startup: { type: 'boolean', description: "from the startup image (the guest's initial data)" },
  }),
  examples: [
    'dataswap volume create-from-backup cc-01',
    'dataswap volume create-from-backup cc-01 --previous 1 --json | jq -r .volume.volumeId',
    'dataswap volume create-from-backup cc-01 --startup',
  ],
  async run(ctx) {
    const { args } = ctx;
    const guestId = args.guestId();
    const generation = args.int('generation', 1, 1_000_000);
    const previous = args.int('previous', 1, 1_000);
    const startup = args.flag('startup');
    const given = [generation !== undefined, previous !== undefined, startup].filter(Boolean).length;
    if (given > 1) throw args.usage('give at most one of --generation, --previous and --startup');
    const from: DataSource =
      generation !== undefined
        ? { generation }
        : previous !== undefined
          ? { previous }
          : startup
            ? 'startup'
            : 'latest';
    const { device } = await openDevice(ctx);
    ctx.progress.step(`building a data volume for guest ${guestId}`);
    const volume = await device.createDataVolume(guestId, { from }, { signal: ctx.signal });
    return {
      data: { volume },
      text: `${fields([
        ['data volume', volume.volumeId],
        ['guest', volume.guestId],
        ['from', volume.source],
        ['request', volume.requestId],
      ])}\nswap it in with: dataswap swap ${guestId} ${volume.volumeId}`,
    };
  },
};

export const volumeGroup: CommandGroup = {
  name: 'volume',
  summary: 'build a new data volume for a guest from a backup or the startup image',
  commands: [createFromBackup],
};
