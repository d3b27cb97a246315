/**
 * Stage the devchan scenarios for a refxen run: copy the kernels and write one NAME.scn
 * per scenario for dom0-devchan.sh:
 *
 *   timeout SECONDS
 *   dom NAME KERNEL ROLE PEER|- MEMORY_MIB VCPUS [xl.cfg line;xl.cfg line...]
 *
 *   npx tsx tests/devchan/refxen/stage.ts BUILD_DIR STAGE_DIR [scenario-substring...]
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIOS } from '../scenarios.ts';

function main(): void {
  const [buildDir, stageDir, ...want] = process.argv.slice(2);
  if (!buildDir || !stageDir) {
    console.error('usage: stage.ts BUILD_DIR STAGE_DIR [scenario-substring...]');
    process.exit(2);
  }
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });
  const kernels = new Set<string>();
  let n = 0;
  for (const s of SCENARIOS) {
    if (s.tsxenOnly !== undefined) continue;
    if (want.length > 0 && !want.some((w) => s.name.includes(w))) continue;
    const lines = [`timeout ${s.timeoutS}`];
    for (const d of s.domains) {
      kernels.add(d.kernel);
      const cfg = (d.cfg ?? []).join(';');
      if (/\s/.test(d.name + d.kernel + d.role)) throw new Error(`${s.name}: blanks in a name`);
      lines.push(`dom ${d.name} ${d.kernel} ${d.role} ${d.peer ?? '-'} ${d.memoryMiB ?? 32} ${d.vcpus ?? 1} ${cfg}`.trimEnd());
    }
    writeFileSync(join(stageDir, `${s.name}.scn`), lines.join('\n') + '\n');
    n++;
  }
  for (const k of kernels) copyFileSync(join(buildDir, k), join(stageDir, k));
  console.log(`staged ${n} scenarios, ${kernels.size} kernels in ${stageDir}`);
}

main();
