import { describe, expect, it } from '@jest/globals';
import { commandFailure, describeCommand, runCommand } from '../../src/recovery/command.js';
import {
  createCommandStageExecutor,
  DEFAULT_REBOOT_COMMAND,
} from '../../src/recovery/executors/command-stage.js';
import type { Os } from '../../src/recovery/os.js';
import { createNodeOs } from '../../src/recovery/os.js';

describe('runCommand (real processes)', () => {
  it('captures the exit code and output of an argv, without a shell', async () => {
    const result = await runCommand(
      { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] },
      { timeoutMs: 5_000 },
    );
    expect(result).toEqual({ exitCode: 3, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
    // An argv is not shell-parsed: `$HOME` stays literal.
    expect((await runCommand({ argv: ['echo', '$HOME'] }, { timeoutMs: 5_000 })).stdout).toBe('$HOME\n');
  });

  it('runs through /bin/sh only when configured with `shell`', async () => {
    const result = await runCommand({ shell: 'echo a | tr a b' }, { timeoutMs: 5_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'b\n' });
  });

  it('kills a command (and its children) at the timeout', async () => {
    const started = Date.now();
    const result = await runCommand({ shell: 'sleep 30 & sleep 30; wait' }, { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(commandFailure({ shell: 'x' }, result)).toBe('sh -c "x": timed out');
  });

  it('kills a command when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runCommand({ argv: ['sleep', '30'] }, { timeoutMs: 30_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(running).resolves.toMatchObject({ timedOut: false, signal: 'SIGKILL' });
  });

  it('resolves (never rejects) when the program does not exist', async () => {
    const result = await runCommand({ argv: ['/nonexistent/dataswap-test'] }, { timeoutMs: 1_000 });
    expect(result.spawnError).toMatch(/ENOENT/);
    expect(commandFailure({ argv: ['/nonexistent/dataswap-test'] }, result)).toMatch(
      /^\/nonexistent\/dataswap-test: .*ENOENT/,
    );
  });

  it('describes failures for logs', () => {
    const base = { signal: null, timedOut: false, stdout: '' };
    expect(commandFailure({ argv: ['true'] }, { ...base, exitCode: 0, stderr: '' })).toBeUndefined();
    expect(commandFailure({ argv: ['x', 'y'] }, { ...base, exitCode: 4, stderr: ' denied\n' })).toBe(
      'x y: exit code 4: denied',
    );
    expect(describeCommand({ shell: 'a && b' })).toBe('sh -c "a && b"');
  });
});

describe('the command stage executor', () => {
  it('runs each stage kind`s command and reports the outcome', async () => {
    const os = createNodeOs();
    const executor = createCommandStageExecutor({
      os,
      timeoutMs: 5_000,
      commands: { 'restart-app': { argv: ['true'] }, 'restart-middleware': { argv: ['false'] } },
    });
    await expect(executor.run('restart-app')).resolves.toEqual({ ok: true });
    await expect(executor.run('restart-middleware')).resolves.toEqual({
      ok: false,
      reason: 'false: exit code 1',
    });
  });

  it('reboots with `systemctl reboot` unless configured otherwise, with the configured timeout', async () => {
    const seen: unknown[] = [];
    const os = {
      exec: async (command: unknown, options: unknown) => (seen.push([command, options]), { exitCode: 0 }),
    } as unknown as Os;
    const executor = createCommandStageExecutor({
      os,
      timeoutMs: 7_000,
      commands: { 'restart-app': { argv: ['true'] }, 'restart-middleware': { argv: ['true'] } },
    });
    await executor.run('reboot');
    expect(seen).toEqual([[DEFAULT_REBOOT_COMMAND, { timeoutMs: 7_000 }]]);
    expect(DEFAULT_REBOOT_COMMAND).toEqual({ argv: ['systemctl', 'reboot'] });
  });
});
