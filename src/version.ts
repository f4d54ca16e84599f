/**
 * The version of this release, for the coordinator and the agent alike (they ship together). Kept
 * equal to package.json's "version" (test/agent/package.test.ts checks it); read from here rather
 * than from package.json so the bundled agent carries it without a file beside it.
 */
export const VERSION = '0.1.0';
