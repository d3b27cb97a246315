/** Builds the images the CPU-kernel suites run (only theirs, so others' guests don't matter). */
import { execFileSync } from 'node:child_process';
import { GUESTS_DIR } from './kernels.ts';

export function buildImages(names: readonly string[]): void {
  execFileSync('make', ['-s', '-C', GUESTS_DIR, ...names.map((n) => `build/${n}.elf`)], { stdio: 'inherit' });
}
