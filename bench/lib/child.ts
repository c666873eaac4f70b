/**
 * Child processes for the benchmarks. Every measured part runs in a process of its own so its CPU
 * time and peak RSS are its own; it prints one line `RESULT <json>` on stdout, which the parent
 * reads. Everything else a child prints on stderr goes to the parent's stderr when `verbose` is on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT_DIR = path.dirname(BENCH_DIR);

/** Debian's interpreter, with the OpenStack packages; never the `python3` on the PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** A clean environment for the system Python (no pyenv shims, no PYTHONPATH/PYTHONHOME). */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

export interface ChildSpec {
  /** A `.ts` file under bench/ (run with tsx), a `.mjs` file (plain node) or a `.py` file (the system Python). */
  script: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  verbose?: boolean;
  /** Open an IPC channel (long-lived children): `call()` sends a message and awaits the reply. */
  ipc?: boolean;
}

/** The command line of a bench child. */
export function commandFor(spec: ChildSpec): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const file = path.isAbsolute(spec.script) ? spec.script : path.join(BENCH_DIR, spec.script);
  if (file.endsWith('.py'))
    return {
      cmd: SYSTEM_PYTHON,
      args: ['-u', file, ...(spec.args ?? [])],
      env: pythonEnv(spec.env as Record<string, string>),
    };
  if (file.endsWith('.mjs'))
    return {
      cmd: process.execPath,
      args: [file, ...(spec.args ?? [])],
      env: { ...process.env, ...spec.env },
    };
  return {
    cmd: process.execPath,
    args: ['--import', 'tsx', file, ...(spec.args ?? [])],
    env: { ...process.env, ...spec.env },
  };
}

/** Runs a child to completion and returns the JSON of its `RESULT` line. */
export function runChild<T>(spec: ChildSpec): Promise<T> {
  const { cmd, args, env } = commandFor(spec);
  return new Promise<T>((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT_DIR });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.length > 200_000) err = err.slice(-100_000);
      if (spec.verbose) process.stderr.write(d);
    });
    const timer = spec.timeoutMs
      ? setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${spec.script} timed out after ${spec.timeoutMs} ms\n${tail(err)}`));
        }, spec.timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) {
        reject(
          new Error(
            `${spec.script} ${(spec.args ?? []).join(' ')} exited ${code ?? signal}\n${tail(err)}${tail(out)}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

/**
 * Starts a long-lived child (a server) that prints `READY <json>` once it listens, and returns that
 * JSON with the process; `stop()` ends it with SIGTERM.
 */
export interface StartedChild<T> {
  info: T;
  child: ChildProcess;
  /** Sends `message` over IPC and resolves with the child's next message. */
  call: <R>(message: unknown) => Promise<R>;
  stop: () => Promise<void>;
}

export function startChild<T>(spec: ChildSpec): Promise<StartedChild<T>> {
  const { cmd, args, env } = commandFor(spec);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env,
      stdio: spec.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      cwd: ROOT_DIR,
    });
    let queue: Promise<unknown> = Promise.resolve();
    const call = <R>(message: unknown): Promise<R> => {
      const next = queue.then(
        () =>
          new Promise<R>((res, rej) => {
            if (!child.send) return rej(new Error('no IPC channel'));
            child.once('message', (m) => res(m as R));
            child.send(message as never);
          }),
      );
      queue = next.catch(() => undefined);
      return next;
    };
    let out = '';
    let err = '';
    let ready = false;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.length > 200_000) err = err.slice(-100_000);
      if (spec.verbose) process.stderr.write(d);
    });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (ready) return;
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (!line) return;
      ready = true;
      const closed = new Promise<void>((r) => child.once('close', () => r()));
      resolve({
        info: JSON.parse(line.slice('READY '.length)) as T,
        child,
        call,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await closed;
        },
      });
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!ready) reject(new Error(`${spec.script} exited ${code} before it was ready\n${tail(err)}`));
    });
  });
}

function tail(text: string): string {
  const t = text.trim();
  return t ? `${t.split('\n').slice(-30).join('\n')}\n` : '';
}

/** What a child prints as its result. */
export function emitResult(value: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(value)}\n`);
}

/** Peak resident set size of this process, MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
