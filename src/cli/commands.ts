import type { Command } from './command.ts';
import { benchCommand } from './commands/bench.ts';
import { demoCommand } from './commands/demo.ts';
import { bareCommand } from './commands/bare.ts';
import { createCommand } from './commands/create.ts';
import { xenstoredCommand } from './commands/xenstored.ts';
import { hostCommand } from './commands/host.ts';
import { DOMAIN_COMMANDS } from './commands/xl_domain.ts';
import { CPU_MEM_COMMANDS } from './commands/xl_cpu_mem.ts';
import { HOST_INFO_COMMANDS } from './commands/xl_host_info.ts';
import { DEVICE_COMMANDS } from './commands/xl_devices.ts';
import { SAVE_RESTORE_COMMANDS } from './commands/xl_saverestore.ts';
import { consoleCommand } from './commands/xl_console.ts';
import { netTraceCommand } from './commands/net_trace.ts';

/** The xl commands, in the order `tsxen --help` lists them. */
export const XL_COMMANDS: readonly Command[] = [
  createCommand, ...DOMAIN_COMMANDS, consoleCommand, ...SAVE_RESTORE_COMMANDS, ...CPU_MEM_COMMANDS, ...DEVICE_COMMANDS,
  ...HOST_INFO_COMMANDS,
];

/** tsxen's own commands. */
export const TSXEN_COMMANDS: readonly Command[] = [demoCommand, hostCommand, netTraceCommand, benchCommand, bareCommand, xenstoredCommand];

/** Every command of the tsxen CLI. */
export const COMMANDS: readonly Command[] = [...TSXEN_COMMANDS, ...XL_COMMANDS];
