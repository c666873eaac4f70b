/**
 * The demo: the whole design walked on the embedded emulator (or a real cloud) — the management
 * device, a recovery agent in a simulated guest, daily backups, a fault that climbs the ladder to the
 * data replacement restart, and the older whole-VM approach side by side.
 */
export { runDemo, type DemoOptions } from './walk.js';
export type { ApproachFacts, DemoSummary, IncidentFacts, SwapFacts } from './summary.js';
export type { StageRun } from './journal.js';
export type { ResourceCount } from './target.js';
export { DEMO_USAGE, parseDemoArgs, type DemoArgs } from './args.js';
