/**
 * The one place a Cosmos DB client is built (job store and control container alike), with the
 * throttling policy stated rather than inherited, and the reading of what throttling cost a request.
 *
 * How @azure/cosmos 4.9.3 handles a 429 (retry/resourceThrottleRetryPolicy.js): every request that
 * is answered 429 is sent again after the server's `x-ms-retry-after-ms` (unless a fixed interval
 * is set), up to `maxRetryAttemptCount` retries and while the waits so far add up to less than
 * `maxWaitTimeInSeconds`; then the 429 is thrown. It writes what it did into the headers of the
 * final response or error: `x-ms-throttle-retry-count` and `x-ms-throttle-retry-wait-time-ms`.
 */
import { CosmosClient, type ErrorResponse, type RetryOptions } from '@azure/cosmos';
import { StoreThrottled } from '../store-errors.js';

export interface CosmosClientOptions {
  endpoint: string;
  key: string;
  /** Follow the account's regional endpoints; on for https, off for plain http (emulator, test server). */
  endpointDiscovery?: boolean;
}

/**
 * Honour the server's retry-after (no fixed interval: the server knows when its budget refills),
 * and retry more often than the SDK's 9 because under a shared budget a burst of small requests
 * gets short retry-afters and 9 of them can be spent in well under a second; the 30 s total wait
 * is what bounds a call, about the time a caller (a submit, a lease renewal) can wait before
 * its own deadline matters more.
 */
export const THROTTLE_RETRY: Required<RetryOptions> = { maxRetryAttemptCount: 30, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 30 };

export function createCosmosClient(options: CosmosClientOptions): CosmosClient {
  return new CosmosClient({
    endpoint: options.endpoint,
    key: options.key,
    connectionPolicy: {
      enableEndpointDiscovery: options.endpointDiscovery ?? options.endpoint.startsWith('https:'),
      retryOptions: THROTTLE_RETRY,
    },
  });
}

/** What one call cost: the request charge and the 429s it met on the way, with the time waited on them. */
export interface CallCost {
  requestCharge: number;
  throttled: number;
  throttleWaitMs: number;
}

/**
 * Runs one SDK call and hands `record` what it cost, also when it fails (a 409 or 412 is charged
 * too). A call that failed with 429 met one more 429 than it retried, and is thrown as StoreThrottled
 * (the SDK's retries are spent), so callers and the API see one store error for it.
 */
export async function measured<T extends { requestCharge?: number }>(request: () => Promise<T>, record: (cost: CallCost) => void): Promise<T> {
  try {
    const res = await request();
    record(costOf(headersOf(res), Number(res.requestCharge ?? 0), false));
    return res;
  } catch (err) {
    const headers = (err as ErrorResponse).headers;
    const throttled = (err as { code?: unknown } | null)?.code === 429;
    record(costOf(headers, Number(headers?.['x-ms-request-charge'] ?? 0), throttled));
    if (throttled) throw new StoreThrottled(Number((err as ErrorResponse).retryAfterInMs ?? 0) || 0, { cause: err });
    throw err;
  }
}

/**
 * An item response's headers, or a query page's: FeedResponse declares its headers private but
 * carries them (with the SDK's throttle headers) like every other response, and its diagnostics
 * list no failed attempts at the default level, so the headers are the one place to read it.
 */
function headersOf(res: object): Record<string, unknown> | undefined {
  return (res as { headers?: Record<string, unknown> }).headers;
}

function costOf(headers: Record<string, unknown> | undefined, requestCharge: number, failedWith429: boolean): CallCost {
  const retries = Number(headers?.['x-ms-throttle-retry-count'] ?? 0) || 0;
  const throttleWaitMs = Number(headers?.['x-ms-throttle-retry-wait-time-ms'] ?? 0) || 0;
  return { requestCharge: requestCharge || 0, throttled: retries + (failedWith429 ? 1 : 0), throttleWaitMs };
}
