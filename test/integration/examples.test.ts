/** Every example in examples/ runs end to end against the cloud named by OS_CLOUD. */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const examples = readdirSync('examples').filter((f) => f.endsWith('.ts'));

describe('examples', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples)('%s exits 0', (file) => {
    // jest's --experimental-vm-modules must not reach tsx in the child.
    const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
    const run = spawnSync('npx', ['tsx', `examples/${file}`], { encoding: 'utf8', timeout: 300_000, env });
    if (run.status !== 0) console.error(run.stdout, run.stderr);
    expect(run.status).toBe(0);
  });
});
