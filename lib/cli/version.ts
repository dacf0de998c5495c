/** The version `memray -V` prints and captures record in their `tool` metadata. */
export const VERSION = "0.1.0";

/** The `tool` metadata value of captures written by this build. */
export const TOOL_NAME = `memray-deno ${VERSION}`;
