import { fail } from './validation.js';

/**
 * Splits a WPS Remote command line into words at whitespace, as WPS Remote itself does before it
 * starts the program: quotes and backslashes are ordinary characters (`--path=D:\user\` is one
 * word), and nothing is ever given to a shell.
 */
export function splitWords(key: string, text: string): string[] {
  if (text.includes('\0')) fail(`'${key}' must not contain a NUL character`);
  return text.split(/\s+/).filter(Boolean);
}
