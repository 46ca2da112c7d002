import { MAX_BODY_BYTES, type AgentMessage, type FileNote, type InvalidFile, type ProcessSpec } from '../../protocol/index.js';

type CatalogMessage = Extract<AgentMessage, { type: 'catalog' }>;

/** Room for process descriptions in one body, leaving space for the envelope and invalid files. */
const PART_BUDGET = MAX_BODY_BYTES - 8 * 1024;
/** The most notes a catalog carries (docs/protocol.md, `catalog`). */
const MAX_NOTES = 1000;

/**
 * Splits a catalog into as few `catalog` bodies as keep each under the body limit. A process
 * whose description alone would break the limit is listed as invalid instead.
 */
export function catalogMessages(hash: string, processes: ProcessSpec[], invalid: InvalidFile[], notes: FileNote[] = []): CatalogMessage[] {
  const refused = [...invalid];
  const groups: ProcessSpec[][] = [[]];
  let size = 0;
  for (const process of processes) {
    const bytes = Buffer.byteLength(JSON.stringify(process)) + 1;
    if (bytes > PART_BUDGET) {
      refused.push({ file: process.file, reason: `the description of '${process.id}' takes ${bytes} bytes; at most ${PART_BUDGET} fit in a message` });
      continue;
    }
    const current = groups[groups.length - 1]!;
    if (current.length > 0 && size + bytes > PART_BUDGET) {
      groups.push([process]);
      size = bytes;
    } else {
      current.push(process);
      size += bytes;
    }
  }
  const messages = groups.map((group, i): CatalogMessage => ({ v: 1, type: 'catalog', hash, part: i + 1, parts: groups.length, processes: group, invalid: [] }));
  // Reasons are short, but a folder of thousands of broken files must not break the limit either.
  messages[0]!.invalid = fitting(refused, MAX_BODY_BYTES - 1024 - Buffer.byteLength(JSON.stringify(messages[0])));
  // Notes come last: they only inform, so they take what room is left.
  const kept = fitting(notes.slice(0, MAX_NOTES), MAX_BODY_BYTES - 1024 - Buffer.byteLength(JSON.stringify(messages[0])));
  if (kept.length > 0) messages[0]!.notes = kept;
  return messages;
}

function fitting<T>(items: T[], budget: number): T[] {
  const kept: T[] = [];
  let size = 0;
  for (const file of items) {
    size += Buffer.byteLength(JSON.stringify(file)) + 1;
    if (size > budget) break;
    kept.push(file);
  }
  return kept;
}
