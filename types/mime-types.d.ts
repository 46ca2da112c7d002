// The surface of mime-types (CommonJS, untyped here) that Outpost uses.
declare module 'mime-types' {
  /** The usual file extension of a media type (parameters ignored), without the dot; false when none is known. */
  export function extension(type: string): string | false;
}
