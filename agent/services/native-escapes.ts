/**
 * A native service file writes a regular expression once, as a user types it (README, Publish a
 * program): a backslash that starts no escape keeps its backslash, so `\d` and `\\d` both mean
 * `\d`, in the file and inside its JSON values alike.
 */

// Java .properties escapes (java.util.Properties#load): \t \n \r \f \uXXXX, and \ before \ = : # ! space or a line end.
const PROPERTIES_ESCAPE = /\\(u[0-9A-Fa-f]{4}|[tnrf\\=:#! \r\n])|\\(?=.)/gs;
const JSON_STRING = /"(?:[^"\\]|\\.)*"/gs;
// JSON escapes (RFC 8259 §7) but \b and \f: a regex means a word boundary by `\b`, and no service file wants a backspace.
const JSON_ESCAPE = /\\(u[0-9A-Fa-f]{4}|["\\/nrt])|\\/g;

/** Doubles each backslash that starts no .properties escape, so a .properties parser keeps it. */
export function keepUnknownPropertiesEscapes(text: string): string {
  return text.replace(PROPERTIES_ESCAPE, (match, known: string | undefined) => (known === undefined ? '\\\\' : match));
}

/** Doubles each backslash inside a JSON string that starts no JSON escape (or starts `\b`, `\f`), so JSON.parse keeps it. */
export function keepUnknownJsonEscapes(text: string): string {
  return text.replace(JSON_STRING, (string) => string.replace(JSON_ESCAPE, (match, known: string | undefined) => (known === undefined ? '\\\\' : match)));
}
