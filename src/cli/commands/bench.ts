import type { Command } from '../command.ts';

/** `tsxen bench` (what `npm run bench` runs): the benchmark suites in bench/. */
export const benchCommand: Command = {
  name: 'bench',
  summary: 'run the benchmarks (npm run bench)',
  usage: 'usage: tsxen bench [suite...]\n\nRuns the benchmark suites (all, or the ones named) and prints their figures.',
  async run(args) {
    const { runBenchmarks } = await import('../../../bench/index.ts');
    return runBenchmarks(args);
  },
};
