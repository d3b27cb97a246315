#!/usr/bin/env node
// Launcher: runs the TypeScript sources directly through tsx, so `npx tsxen` works on a fresh
// clone without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
