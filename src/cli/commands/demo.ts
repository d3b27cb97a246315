import type { Command } from '../command.ts';

/**
 * `tsxen demo` (what `npm start` runs). Until the hypervisor can boot guests this says
 * honestly what exists; later issues replace it with the two-domU demo host.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'boot the default demo host',
  usage: 'usage: tsxen demo\n\nBoots the default demo: a host with dom0 and guest domains, showing their consoles.',
  async run() {
    process.stdout.write(
      [
        'tsxen demo',
        '',
        'What exists so far:',
        '  - the project skeleton: layered sources (src/abi, hw, devices, xen, dom0, host, cli),',
        '    a guest toolchain (guests/, gcc -m32 freestanding) and the test suite (npm test).',
        '',
        'Not yet: the emulated CPU, the hypervisor and dom0. Once they land this command boots',
        'a host with dom0 and two guest domains and shows their consoles.',
        '',
      ].join('\n'),
    );
    return 0;
  },
};
