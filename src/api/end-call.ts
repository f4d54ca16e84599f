/**
 * How a streaming handler ends its call at once, ahead of whatever the transport still buffers
 * for a peer that stopped reading: ending its answer would wait behind those messages for ever.
 * The native listener's adapter provides it (grpc-native.ts); where no transport does, the handler
 * ends its answer as usual.
 */
import { createContextKey } from '@connectrpc/connect';

export const endCallKey = createContextKey<((error: unknown) => void) | null>(null, { description: 'ends the call now with this error' });
