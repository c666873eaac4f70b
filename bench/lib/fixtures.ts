import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from './child.js';

/** A response recorded from the loopback stack by `bench/record-fixtures.ts`. */
export interface Fixture {
  recorded: string;
  request: { method: string; url: string };
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const FIXTURE_DIR = path.join(BENCH_DIR, 'fixtures');

/** Every fixture by file name, with the `{{service}}` placeholders replaced by `base/<service>`. */
export function loadFixtures(base: string): Map<string, Fixture> {
  const out = new Map<string, Fixture>();
  for (const name of readdirSync(FIXTURE_DIR)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const text = readFileSync(path.join(FIXTURE_DIR, name), 'utf8').replace(
      /\{\{(\w+)\}\}/g,
      (_, svc: string) => `${base}/${svc}`,
    );
    out.set(name, JSON.parse(text) as Fixture);
  }
  return out;
}

/** The ids the client-overhead benchmark reads: the recorded volume and server. */
export function recordedIds(fixtures: Map<string, Fixture>): {
  volumeId: string;
  serverId: string;
  projectId: string;
} {
  const volume = fixtures.get('volume-get.json')?.body as { volume?: { id?: string } } | undefined;
  const server = fixtures.get('server-get.json')?.body as { server?: { id?: string } } | undefined;
  const token = fixtures.get('identity-token.json')?.body as
    { token?: { project?: { id?: string } } } | undefined;
  const volumeId = volume?.volume?.id;
  const serverId = server?.server?.id;
  const projectId = token?.token?.project?.id;
  if (!volumeId || !serverId || !projectId)
    throw new Error('fixtures are missing: run `npx tsx bench/record-fixtures.ts` with the stack up');
  return { volumeId, serverId, projectId };
}
