import { setFlagsFromString } from 'node:v8';

/*
 * Imported by the agent's command before anything else loads. V8 grows the young generation to
 * 16 MiB while modules load and keeps it; an agent's jobs allocate little, so it stays at its
 * first size, which keeps the idle agent near 60 MiB (docs/decisions.md, Performance).
 */
setFlagsFromString('--semi-space-growth-factor=1');
