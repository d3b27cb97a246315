import type { Command } from './command.ts';
import { benchCommand } from './commands/bench.ts';
import { demoCommand } from './commands/demo.ts';
import { bareCommand } from './commands/bare.ts';
import { createCommand } from './commands/create.ts';
import { xenstoredCommand } from './commands/xenstored.ts';

/** Every command of the tsxen CLI, in the order `tsxen --help` lists them. */
export const COMMANDS: readonly Command[] = [demoCommand, benchCommand, bareCommand, createCommand, xenstoredCommand];
