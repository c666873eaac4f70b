#!/usr/bin/env node
// Runs the integration suite against the cloud named by OS_CLOUD (default: the loopback stack's
// member cloud). When no cloud answers, says so and skips, except in CI where that is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const stackDir = process.env.DATASWAP_STACK_DIR ?? '/var/tmp/dataswap-stack';
const env = { ...process.env };
if (!env.OS_CLOUD) {
  env.OS_CLOUD = 'dataswap-local';
  env.OS_CLIENT_CONFIG_FILE ??= `${stackDir}/clouds.yaml`;
}
const ci = env.CI === 'true';

function unavailable(why) {
  const msg = `integration suite skipped: ${why}. Start the loopback stack with \`npm run stack:up\`, or set OS_CLOUD to a cloud in clouds.yaml.`;
  if (ci) {
    console.error(`${msg} (CI=true: failing)`);
    process.exit(1);
  }
  console.warn(msg);
  process.exit(0);
}

if (env.OS_CLOUD === 'dataswap-local' && env.OS_CLIENT_CONFIG_FILE && !existsSync(env.OS_CLIENT_CONFIG_FILE)) {
  unavailable(`${env.OS_CLIENT_CONFIG_FILE} does not exist`);
}
const probe = spawnSync('npx', ['tsx', 'test/integration/probe.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
if (probe.status !== 0) unavailable(`cloud "${env.OS_CLOUD}" does not answer`);

const args = ['jest', '-c', 'jest.integration.config.js', ...process.argv.slice(2)];
const run = spawnSync('npx', args, {
  env: { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() },
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
