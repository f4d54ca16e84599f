/**
 * JSON nesting bounded before it is parsed. `JSON.parse` of 4 MiB of `[[[[…` blocks the event loop
 * for seconds (every heartbeat on the process waits), and connect-node parses a request body whole,
 * with no depth limit. These guards read the bytes as they arrive and throw once a value nests
 * deeper than any request of ours can (the deepest is a few levels), so such a body is refused
 * after one linear pass instead of parsed.
 */
import { Code, ConnectError } from '@connectrpc/connect';

/** Far above the deepest request message (about 6 levels), far below what costs anything to parse. */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Tracks the depth of one JSON text fed in pieces; brackets inside strings do not count. */
export class JsonDepthGuard {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxDepth: number = MAX_JSON_DEPTH) {}

  /** Throws `invalid_argument` when the text so far nests deeper than the bound. */
  feed(bytes: Uint8Array, start = 0, end = bytes.length): void {
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
      } else if (b === QUOTE) {
        this.inString = true;
      } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        if (++this.depth > this.maxDepth) throw new ConnectError(`the request's JSON nests deeper than ${this.maxDepth} levels`, Code.InvalidArgument);
      } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        this.depth--;
      }
    }
  }
}

/**
 * The same over enveloped messages (Connect streaming, gRPC-Web): each message is a 5-byte prefix
 * (flags, big-endian length) and a JSON text; the prefix's bytes are skipped, each text is guarded.
 */
export class EnvelopedJsonDepthGuard {
  private readonly prefix = new Uint8Array(5);
  private prefixRead = 0;
  private payloadLeft = 0;
  private guard: JsonDepthGuard | null = null;

  constructor(private readonly maxDepth: number = MAX_JSON_DEPTH) {}

  feed(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.payloadLeft === 0) {
        this.prefix[this.prefixRead++] = bytes[i++]!;
        if (this.prefixRead === 5) {
          this.prefixRead = 0;
          this.payloadLeft = new DataView(this.prefix.buffer).getUint32(1);
          this.guard = new JsonDepthGuard(this.maxDepth);
        }
        continue;
      }
      const end = Math.min(bytes.length, i + this.payloadLeft);
      this.guard!.feed(bytes, i, end);
      this.payloadLeft -= end - i;
      i = end;
    }
  }
}

/** The guard for a request of this content type, or null when its body is not JSON. */
export function jsonDepthGuardFor(contentType: string): { feed(bytes: Uint8Array): void } | null {
  if (contentType === 'application/json') return new JsonDepthGuard();
  if (contentType === 'application/connect+json' || contentType === 'application/grpc-web+json') return new EnvelopedJsonDepthGuard();
  return null;
}
