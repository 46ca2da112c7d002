import { readFile } from 'node:fs/promises';

/**
 * A private server's config made from its template: `{{name}}` takes the value given for it, with
 * `"` and `\` escaped (the values sit in double-quoted Lua or YAML strings).
 */
export async function fillTemplate(templateFile: string, values: Record<string, string>): Promise<string> {
  const template = await readFile(templateFile, 'utf8');
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${templateFile} uses unknown value '${key}'`);
    return value.replace(/["\\]/g, '\\$&');
  });
}
