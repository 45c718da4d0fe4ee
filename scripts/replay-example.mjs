// Backtest a strategy setting on a capture with the library API (docs/replay.md).
//   node scripts/replay-example.mjs [capture dir] [min net profit, wei]
// Replays the capture twice, once as recorded and once with a higher profit floor and no EVM
// verification, and prints what each would have found and how often it would have been first.
import { replay } from 'orion-mev';

const capture = process.argv[2] ?? new URL('../samples/devnet-capture', import.meta.url).pathname;
const floor = process.argv[3] ?? '5000000000000000';

async function run(label, config) {
  const r = replay(capture, { config });
  let best = null;
  for await (const out of r) {
    if (out.type !== 'opportunity' || out.opportunity.verification === 'rejected') continue;
    if (best === null || out.opportunity.profit.netWei > best.profit.netWei) best = out.opportunity;
  }
  const report = await r.report;
  const b = report.backtest;
  console.log(`${label}: ${JSON.stringify(report.opportunities)}; predicted ${report.predictedNetProfitWei.total} wei; best ${best?.kind ?? '-'} ${best?.profit.netWei ?? 0n} wei`);
  if (b) console.log(`  first on ${b.wouldHaveBeenFirst} of ${b.considered} (hit rate ${(b.hitRate * 100).toFixed(1)}%), missed ${b.missedValueWei} wei; digest ${report.digest}`);
  return report;
}

await run('as recorded', undefined);
await run(`floor ${floor} wei, no verification`, { scorer: { minNetProfitWei: floor, verify: false } });
