import type { Context } from 'koa';
import { OutpostError } from '../errors.js';
import { describeInputs, type InputDescription } from '../jobs/input-schema.js';
import type { OutputSpec, ProcessSpec } from '../../protocol/index.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { absoluteUrl, htmlLink, JSON_TYPE, processPath, REL, type Link } from './links.js';

/** Every process runs either way and can be dismissed (OGC 18-062r2 §7.10, `jobControlOptions`). */
export const JOB_CONTROL_OPTIONS = ['sync-execute', 'async-execute', 'dismiss'] as const;
export const OUTPUT_TRANSMISSION = ['value', 'reference'] as const;

type FileSchema = { type: 'string'; contentMediaType: string; contentEncoding: 'binary' };
export type OutputSchema = { type?: 'string' } | FileSchema | { oneOf: FileSchema[] };

export interface ProcessSummary {
  id: string;
  title?: string;
  description?: string;
  keywords: string[];
  version: string;
  jobControlOptions: readonly string[];
  outputTransmission: readonly string[];
  links: Link[];
}

export interface ProcessDescription extends ProcessSummary {
  inputs: Record<string, InputDescription>;
  outputs: Record<string, { title: string; description?: string; schema: OutputSchema }>;
}

export function findProcess(registry: AgentRegistry, processId: string): ProcessSpec {
  const offered = registry.process(processId);
  if (!offered) throw new OutpostError('no-such-process', 404, `process '${processId}' is not offered by any agent`);
  return offered.spec;
}

const fileSchema = (mediaType: string): FileSchema => ({ type: 'string', contentMediaType: mediaType, contentEncoding: 'binary' });

/** A file is described by its media type, one schema per format when it has several (OGC 18-062r2 §7.10.2). */
export function outputSchema(output: OutputSpec): OutputSchema {
  switch (output.type) {
    case 'string':
      return { type: 'string' };
    case 'json':
      return {};
    case 'file':
      if (output.formats && output.formats.length > 1) return { oneOf: output.formats.map(fileSchema) };
      return fileSchema(output.mediaType ?? 'application/octet-stream');
  }
}

export function processSummary(ctx: Context, spec: ProcessSpec): ProcessSummary {
  const path = processPath(spec.id);
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    keywords: spec.keywords,
    version: spec.version,
    jobControlOptions: JOB_CONTROL_OPTIONS,
    outputTransmission: OUTPUT_TRANSMISSION,
    links: [
      { href: absoluteUrl(ctx, path), rel: 'self', type: JSON_TYPE, title: 'process description' },
      htmlLink(ctx, path, 'process description as HTML, with a form that runs it'),
      { href: absoluteUrl(ctx, `${path}/execution`), rel: REL.execute, type: JSON_TYPE, title: 'execute the process' },
    ],
  };
}

export function processDescription(ctx: Context, spec: ProcessSpec): ProcessDescription {
  const outputs = Object.entries(spec.outputs).map(([id, output]) => [
    id,
    { title: output.title ?? id, description: output.description, schema: outputSchema(output) },
  ]);
  return { ...processSummary(ctx, spec), inputs: describeInputs(spec.inputs), outputs: Object.fromEntries(outputs) };
}
