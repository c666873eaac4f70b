import { spawnSync } from 'node:child_process';
import { SYSTEM_PYTHON, pythonEnv } from './child.js';

/** openstacksdk's version in Debian's Python, or undefined when it is not importable. */
export function openstacksdkVersion(): string | undefined {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import openstack.version as v; print(v.__version__)'], {
    env: pythonEnv(),
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Makes sure Debian's `python3-openstacksdk` is installed (apt-get, as root), so the comparison
 * runs the SDK an OpenStack user on this system would. Returns its version.
 *
 * @throws when it cannot be installed.
 */
export function ensureOpenstacksdk(log: (line: string) => void): string {
  const have = openstacksdkVersion();
  if (have) return have;
  log('python3-openstacksdk is missing: installing it with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): number | null =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-openstacksdk'], {
      env,
      stdio: 'inherit',
    }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'inherit' });
    if (install() !== 0) throw new Error('apt-get install python3-openstacksdk failed');
  }
  const version = openstacksdkVersion();
  if (!version) throw new Error(`python3-openstacksdk is installed but ${SYSTEM_PYTHON} cannot import it`);
  return version;
}
