import type { LocalOutputSpec } from '../services/service-definition.js';

export type ChosenFormats =
  | { ok: true; outputs: Record<string, LocalOutputSpec>; args: string[] }
  | { ok: false; message: string };

/**
 * Settles each output's format: the one `execute` chose, else the default. Outputs then read
 * from that format's source, and its `args` go at the end of the command line, in output order.
 */
export function chooseFormats(outputs: Record<string, LocalOutputSpec>, chosen: Record<string, string> = {}): ChosenFormats {
  const unknown = Object.keys(chosen).find((name) => !Object.hasOwn(outputs, name));
  if (unknown !== undefined) return { ok: false, message: `a format was chosen for output '${unknown}', which this process does not have` };
  const settled: Record<string, LocalOutputSpec> = {};
  const args: string[] = [];
  for (const [name, spec] of Object.entries(outputs)) {
    const mediaType = chosen[name] ?? spec.mediaType;
    const format = spec.formats && mediaType !== undefined ? spec.formats[mediaType] : undefined;
    if (format) {
      settled[name] = { ...spec, mediaType: mediaType!, from: format.from };
      args.push(...format.args);
    } else if (mediaType === spec.mediaType) {
      settled[name] = spec;
    } else {
      const offered = spec.formats ? Object.keys(spec.formats) : [spec.mediaType ?? 'its own'];
      return { ok: false, message: `output '${name}' is not produced as '${mediaType}'; its formats are: ${offered.join(', ')}` };
    }
  }
  return { ok: true, outputs: settled, args };
}
