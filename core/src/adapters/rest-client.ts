import type { AdapterOperation } from './adapter-error';
import { authorizedAttempt, type Credentials } from './bearer-token';
import { httpAttempt, type HTTPAnswer, type HTTPAttemptContext } from './http-attempt';
import type { RateLimiter } from './rate-limit';
import { withRetry, type RetryPolicy } from './retry';

/** What a call adds to its method and path: a JSON body, query parameters, the non-2xx statuses that are answers. */
export interface RESTCallExtra {
  readonly data?: unknown;
  readonly params?: Readonly<Record<string, string | number>>;
  /** Non-2xx statuses that are answers, not failures (404 on get, 409 on create...). */
  readonly accept?: readonly number[];
}

/** One attempt as the vendor's HTTP client is asked for it: an axios instance's `request` takes it as it is. */
export interface HTTPRequestConfig {
  readonly method: string;
  readonly url: string;
  readonly data?: unknown;
  readonly params?: Readonly<Record<string, string | number>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly timeout: number;
}

export interface RESTClientOptions {
  readonly vendor: string;
  readonly policy: RetryPolicy;
  readonly limiter: RateLimiter;
  /** Sends one attempt; any status is an answer (axios: `validateStatus: () => true`), never thrown. */
  readonly request: (config: HTTPRequestConfig) => Promise<HTTPAnswer>;
  /** Where the `Authorization` header comes from (one refresh on a 401); none: the client sets its own. */
  readonly credentials?: Credentials;
  /** The vendor's error text in an error body (default: a string `message` field). */
  readonly messageOf?: (data: unknown) => string | undefined;
}

/**
 * A REST adapter's calls to its network server's API: each attempt rate-limited, authorized
 * when credentials are given, its outcome read by httpAttempt (2xx or an accepted status is
 * the answer; 408/429/5xx and no answer are retryable AdapterErrors, with Retry-After; 401,
 * 403, 404... are not), retried by the policy, abandoned after the policy's timeout.
 */
export class RESTClient {
  constructor(private readonly o: RESTClientOptions) {}

  /** `method url`, retried by the policy. */
  call(operation: AdapterOperation, method: string, url: string, extra: RESTCallExtra = {}): Promise<HTTPAnswer> {
    return this.retried(operation, (signal) => this.attempt(operation, method, url, extra, signal));
  }

  /** Runs `attempts` (each given its own timeout's signal) under the policy: for a call that does more than one request per attempt. */
  retried<T>(operation: AdapterOperation, attempts: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetry(this.o.policy, { vendor: this.o.vendor, operation }, attempts);
  }

  /** One attempt, rate-limited, not retried. */
  attempt(operation: AdapterOperation, method: string, url: string, extra: RESTCallExtra, signal: AbortSignal): Promise<HTTPAnswer> {
    const what: HTTPAttemptContext = {
      vendor: this.o.vendor,
      operation,
      ...(extra.accept ? { accept: extra.accept } : {}),
      ...(this.o.messageOf ? { messageOf: this.o.messageOf } : {}),
    };
    const config = (authorization: string | null): HTTPRequestConfig => ({
      method,
      url,
      ...(extra.data !== undefined ? { data: extra.data } : {}),
      ...(extra.params ? { params: extra.params } : {}),
      ...(authorization !== null ? { headers: { Authorization: authorization } } : {}),
      signal,
      timeout: this.o.policy.timeoutMs,
    });
    const credentials = this.o.credentials;
    return this.o.limiter.schedule(() => (credentials ? authorizedAttempt(what, credentials, signal, (authorization) => this.o.request(config(authorization))) : httpAttempt(what, () => this.o.request(config(null)))));
  }
}
