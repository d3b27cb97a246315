// One lint tool for the whole tree. Besides the recommended rules it enforces the
// architecture's layering (shared/design/ARCHITECTURE.md) and keeps the core deterministic:
// no wall clock, timers or Math.random below the dom0 line (take a Clock or Rng instead).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CORE = ['src/abi/**/*.ts', 'src/hw/**/*.ts', 'src/devices/**/*.ts', 'src/xen/**/*.ts'];

const nondeterminism = [
  { object: 'Date', property: 'now', message: 'take a Clock: the core runs on virtual time in tests' },
  { object: 'performance', property: 'now', message: 'take a Clock: the core runs on virtual time in tests' },
  { object: 'Math', property: 'random', message: 'take a seeded Rng so runs are replayable' },
];

const layer = (forbidden, why) => ({
  'no-restricted-imports': ['error', {
    patterns: forbidden.map((f) => ({ group: [`**/${f}/**`, `**/${f}`], message: why })),
  }],
});

export default tseslint.config(
  { ignores: ['build/**', 'guests/build/**', 'node_modules/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // Hot-path code uses labelled loops and fallthrough in decoders on purpose.
      'no-fallthrough': ['error', { commentPattern: 'falls? ?through' }],
    },
  },
  {
    files: CORE,
    rules: {
      'no-restricted-properties': ['error', ...nondeterminism],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'schedule on the Clock' },
        { name: 'setInterval', message: 'schedule on the Clock' },
        { name: 'setImmediate', message: 'schedule on the Clock' },
        { name: 'process', message: 'the core is host-independent' },
      ],
    },
  },
  { files: ['src/abi/**/*.ts'], rules: layer(['hw', 'devices', 'xen', 'dom0', 'host', 'cli'], 'src/abi imports nothing') },
  { files: ['src/hw/**/*.ts', 'src/devices/**/*.ts'], rules: layer(['abi', 'xen', 'dom0', 'host', 'cli'], 'hardware knows nothing of Xen') },
  { files: ['src/xen/**/*.ts'], rules: layer(['dom0', 'host', 'cli'], 'the hypervisor never imports dom0: use a hypercall') },
  { files: ['src/dom0/**/*.ts'], rules: layer(['xen', 'host', 'cli'], 'dom0 reaches the hypervisor only through hypercalls') },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-globals': 'off', 'no-restricted-imports': 'off' },
  },
);
