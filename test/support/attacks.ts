/** Hostile request bodies shared by the security tests and the attack suite. */

/** `{"jobId":"x","a":[[[…]]]}`: `depth` levels of arrays, about 2 bytes a level. */
export function nestedJson(depth: number): string {
  return `{"jobId":"x","a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}
