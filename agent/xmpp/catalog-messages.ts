import { MAX_BODY_BYTES, type AgentMessage, type InvalidFile, type ProcessSpec } from '../../src/protocol/index.js';

type CatalogMessage = Extract<AgentMessage, { type: 'catalog' }>;

/** Room left in a body for the envelope and the invalid-file list. */
const PART_BUDGET = MAX_BODY_BYTES - 8 * 1024;

/** Splits a catalog into as few `catalog` bodies as keep each under the body limit. */
export function catalogMessages(hash: string, processes: ProcessSpec[], invalid: InvalidFile[]): CatalogMessage[] {
  const groups: ProcessSpec[][] = [[]];
  let size = Buffer.byteLength(JSON.stringify(invalid));
  for (const process of processes) {
    const bytes = Buffer.byteLength(JSON.stringify(process)) + 1;
    const current = groups[groups.length - 1]!;
    if (current.length > 0 && size + bytes > PART_BUDGET) {
      groups.push([process]);
      size = bytes;
    } else {
      current.push(process);
      size += bytes;
    }
  }
  return groups.map((group, i) => ({
    v: 1,
    type: 'catalog',
    hash,
    part: i + 1,
    parts: groups.length,
    processes: group,
    invalid: i === 0 ? invalid : [],
  }));
}
