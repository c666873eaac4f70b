// Exits 0 when the cloud named by OS_CLOUD authenticates; prints the microversions it offers.
import { connect, formatMicroversion } from '../../src/index.js';

try {
  const cloud = await connect({ timeoutMs: 10_000, retry: { retries: 1 } });
  console.log(
    `cloud ${cloud.info.name ?? ''}: compute ${formatMicroversion(cloud.microversions.compute)}, volume ${formatMicroversion(cloud.microversions.volume)}`,
  );
} catch (err) {
  console.error(`probe failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
