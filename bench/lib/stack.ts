import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from './child.js';

/** The loopback stack of test/openstack/stack.sh (never started or stopped by the benchmarks). */
export const STACK_DIR = process.env.DATASWAP_STACK_DIR ?? '/var/tmp/dataswap-stack';
export const STACK_CLOUDS_YAML = path.join(STACK_DIR, 'clouds.yaml');
export const STACK_CLOUD = 'dataswap-local';
export const STACK_ADMIN_CLOUD = 'dataswap-local-admin';
export const STACK_FLAVOR = 'ds.small';

/** The environment `connect({ cloud, env })` reads clouds.yaml from. */
export function stackEnv(): NodeJS.ProcessEnv {
  return { OS_CLIENT_CONFIG_FILE: STACK_CLOUDS_YAML };
}

/** Whether `stack.sh status` says every service is up (exit 0). */
export function stackIsUp(): { up: boolean; detail: string } {
  if (!existsSync(STACK_CLOUDS_YAML)) return { up: false, detail: `${STACK_CLOUDS_YAML} is missing` };
  const r = spawnSync('bash', [path.join(ROOT_DIR, 'test/openstack/stack.sh'), 'status'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const down = (r.stdout ?? '')
    .split('\n')
    .filter((l) => /\bdown\b/.test(l) && !l.startsWith('some services'))
    .map((l) => l.split(/\s+/)[0])
    .join(', ');
  return { up: r.status === 0, detail: r.status === 0 ? 'up' : `down: ${down || (r.stderr ?? '').trim()}` };
}
