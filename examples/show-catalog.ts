/**
 * Authenticates against the cloud named by OS_CLOUD (or the OS_* variables) and prints the
 * endpoints the library will use and the negotiated microversions.
 *
 *   OS_CLOUD=devstack npx tsx examples/show-catalog.ts
 */
import { connect, formatMicroversion } from '../src/index.js';

const cloud = await connect();
const token = await cloud.session.tokenInfo();

console.log(`cloud: ${cloud.info.name ?? '(OS_* variables)'} from ${cloud.info.source}`);
console.log(`project: ${cloud.projectId ?? '(unscoped)'}; token expires ${token.expiresAt.toISOString()}`);
console.log('catalog:');
for (const entry of token.catalog) {
  for (const ep of entry.endpoints) {
    console.log(`  ${entry.type.padEnd(16)} ${ep.interface.padEnd(8)} ${(ep.region_id ?? ep.region ?? '-').padEnd(10)} ${ep.url}`);
  }
}
console.log('used by dataswap:');
for (const [type, url] of Object.entries(cloud.endpoints)) console.log(`  ${type.padEnd(16)} ${url}`);
console.log(`microversions: compute ${formatMicroversion(cloud.microversions.compute)}, volume ${formatMicroversion(cloud.microversions.volume)}`);
