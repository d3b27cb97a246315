/**
 * Stages PV test kernels for /work/shared/refxen/boot.sh: one file per kernel named
 * pv-<name> (the xl domain name), plus pv-<name>.cfg when the kernel asks for extra xl.cfg
 * lines (its pvtest note's cfg=).
 *   npx tsx tests/pv_refxen/stage.ts BUILD_DIR STAGE_DIR [name-substring...]
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPvTestInfoFile } from './pvtest_manifest.ts';

const [buildDir, stageDir, ...filters] = process.argv.slice(2);
if (!buildDir || !stageDir) {
  console.error('usage: stage.ts BUILD_DIR STAGE_DIR [name-substring...]');
  process.exit(2);
}
rmSync(stageDir, { recursive: true, force: true });
mkdirSync(stageDir, { recursive: true });
let n = 0;
for (const f of readdirSync(buildDir).sort()) {
  const m = /^pv-(.+)\.elf$/.exec(f);
  if (!m) continue;
  const file = join(buildDir, f);
  const info = readPvTestInfoFile(file);
  if (!info) throw new Error(`${file} has no pvtest note`);
  if (filters.length && !filters.some((s) => info.name.includes(s))) continue;
  const dom = `pv-${info.name}`;
  copyFileSync(file, join(stageDir, dom));
  if (info.cfg.length) writeFileSync(join(stageDir, `${dom}.cfg`), info.cfg.join('\n') + '\n');
  n++;
}
console.log(`staged ${n} kernels in ${stageDir}`);
