/**
 * Part 2, the whole flow on the loopback stack: dataswap, openstacksdk with its default waiters, and
 * openstacksdk polling every 0.1 s (the floor), alternating, each run in its own process.
 */
import { runChild } from '../lib/child.js';
import { ensureOpenstacksdk } from '../lib/python.js';
import type { PartOptions, PartReport, Target } from '../lib/report.js';
import { STACK_CLOUD, STACK_CLOUDS_YAML, STACK_FLAVOR } from '../lib/stack.js';
import { median, spread } from '../lib/stats.js';
import { ms, num, ratio, table } from '../lib/table.js';

interface FlowResult {
  variant: string;
  steps: Array<{ name: string; ms: number; requests: number }>;
  total: { ms: number; requests: number };
}

const VARIANTS = [
  { id: 'dataswap', label: 'dataswap (default waiters)' },
  { id: 'sdk-default', label: 'openstacksdk, default waiters' },
  { id: 'sdk-floor', label: 'floor: openstacksdk, 0.1 s polls' },
] as const;

function runVariant(id: (typeof VARIANTS)[number]['id'], opts: PartOptions): Promise<FlowResult> {
  if (id === 'dataswap') {
    return runChild<FlowResult>({
      script: 'whole-flow/flow-dataswap.ts',
      args: [STACK_CLOUD, STACK_FLAVOR],
      timeoutMs: 600_000,
      verbose: opts.verbose,
    });
  }
  return runChild<FlowResult>({
    script: 'whole-flow/flow_sdk.py',
    args: [id === 'sdk-default' ? 'default' : 'floor', STACK_CLOUD, STACK_FLAVOR],
    env: { OS_CLIENT_CONFIG_FILE: STACK_CLOUDS_YAML },
    timeoutMs: 600_000,
    verbose: opts.verbose,
  });
}

export async function runWholeFlow(opts: PartOptions): Promise<PartReport> {
  const sdkVersion = ensureOpenstacksdk(opts.log);
  const rounds = opts.quick ? 1 : 3;
  const results = new Map<string, FlowResult[]>();
  for (let round = 0; round < rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
    for (const v of order) {
      opts.log(`whole flow: round ${round + 1}/${rounds}, ${v.id}`);
      results.set(v.id, [...(results.get(v.id) ?? []), await runVariant(v.id, opts)]);
    }
  }
  const of = (id: string): FlowResult[] => results.get(id) ?? [];
  const totalMs = (id: string): number => median(of(id).map((r) => r.total.ms));
  const totalReq = (id: string): number => median(of(id).map((r) => r.total.requests));
  const floorMs = totalMs('sdk-floor');

  const summary = VARIANTS.map((v) => [
    v.id === 'dataswap' ? v.label : `${v.label} (${sdkVersion})`,
    ms(totalMs(v.id)),
    ratio(totalMs(v.id) / floorMs),
    spread(
      of(v.id).map((r) => r.total.ms / floorMs),
      (n) => n.toFixed(2),
    ),
    num(totalReq(v.id)),
    of(v.id)
      .map((r) => r.total.requests)
      .join(' / '),
  ]);

  const stepNames = of('dataswap')[0]?.steps.map((s) => s.name) ?? [];
  const stepRows = stepNames.map((name) => {
    const cells = VARIANTS.flatMap((v) => {
      const xs = of(v.id).map((r) => r.steps.find((s) => s.name === name));
      return [
        ms(median(xs.map((s) => s?.ms ?? Number.NaN))),
        num(median(xs.map((s) => s?.requests ?? Number.NaN))),
      ];
    });
    return [name, ...cells];
  });

  const ds = totalMs('dataswap');
  const r = ds / floorMs;
  const targets: Target[] = [
    {
      name: "whole flow: dataswap within 1.15x of the 0.1 s floor's time",
      met: r <= 1.15,
      measured: ratio(r),
      ...(r <= 1.15 ? {} : { why: stepWhy(of('dataswap'), of('sdk-floor')) }),
    },
    {
      name: "whole flow: dataswap makes no more requests than openstacksdk's default",
      met: totalReq('dataswap') <= totalReq('sdk-default'),
      measured: `${num(totalReq('dataswap'))} vs ${num(totalReq('sdk-default'))}`,
    },
  ];

  const body = [
    'Image upload (1 MiB) → 1 GiB data volume → boot from volume (image → 1 GiB boot volume) with the data volume → forced snapshot of the in-use ' +
      'data volume → volume from the snapshot → detach the old → attach the new → delete everything, each wait to completion ' +
      '(volume `available` / `in-use`, server `ACTIVE`, deletions until 404). Each run in a fresh process (connect and discovery included), ' +
      `${rounds} run${rounds > 1 ? 's' : ''} per variant, alternating; medians. "vs floor" is the run's time over the floor's median in the same run. ` +
      "Requests: dataswap counts at its transport, openstacksdk at keystoneauth's `Session._send_request` (each on the wire).",
    '',
    table(['variant', 'time', 'vs floor', 'spread', 'HTTP requests', 'per run'], summary),
    '',
    'Per step (median time, requests):',
    '',
    table(['step', ...VARIANTS.flatMap((v) => [`${v.id} time`, 'req'])], stepRows),
    '',
    "openstacksdk's `wait_for_status` first looks at the object it is handed; after the detach the local copy still says `available`, so the SDK " +
      'variants re-read the volume (`get_volume`) before waiting — otherwise that wait returns at once without the detach having finished.',
  ].join('\n');
  return {
    id: 'whole-flow',
    title: '2. Whole flow on the loopback stack vs openstacksdk',
    body,
    targets,
    raw: Object.fromEntries(results),
  };
}

/** The steps where dataswap lost most time against the floor. */
function stepWhy(ds: FlowResult[], floor: FlowResult[]): string {
  const names = ds[0]?.steps.map((s) => s.name) ?? [];
  const diffs = names
    .map((name) => {
      const a = median(ds.map((r) => r.steps.find((s) => s.name === name)?.ms ?? 0));
      const b = median(floor.map((r) => r.steps.find((s) => s.name === name)?.ms ?? 0));
      return { name, diff: a - b };
    })
    .sort((x, y) => y.diff - x.diff)
    .slice(0, 3);
  return `slowest against the floor: ${diffs.map((d) => `${d.name} +${ms(d.diff)}`).join(', ')}`;
}
