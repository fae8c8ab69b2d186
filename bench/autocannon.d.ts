/** The part of autocannon 9's API the benchmark uses (the package ships no types). */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";
  import type { ConnectionOptions } from "node:tls";

  export interface Options {
    readonly url: string;
    readonly connections?: number;
    /** Seconds. */
    readonly duration?: number;
    readonly method?: string;
    readonly headers?: Readonly<Record<string, string>>;
    /** Passed to `tls.connect` (autocannon always adds `rejectUnauthorized: false`). */
    readonly tlsOptions?: ConnectionOptions;
    /** Responses whose body differs are counted in `mismatches`. */
    readonly expectBody?: string;
    /** Seconds without a response before a request counts as a timeout. */
    readonly timeout?: number;
    /** Requests sent in turn; `setupRequest` is called before each one is written (e.g. to set a fresh body). */
    readonly requests?: readonly RequestSpec[];
    /** Called with each connection's client object when it is created, before it connects. */
    readonly setupClient?: (client: Client) => void;
  }

  export interface RequestSpec {
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string | Buffer;
    readonly setupRequest?: (request: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }) => object;
  }

  /** autocannon's per-connection client; `_doRequest` is internal (see bench/load.ts for why it is touched). */
  export interface Client extends EventEmitter {
    _doRequest?: (...args: unknown[]) => unknown;
  }

  /** hdr-histogram percentiles; latency values are milliseconds. */
  export interface Histogram {
    readonly average: number;
    readonly mean: number;
    readonly stddev: number;
    readonly min: number;
    readonly max: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly total: number;
  }

  export interface Result {
    /** Seconds, measured by autocannon. */
    readonly duration: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly mismatches: number;
    readonly non2xx: number;
    readonly resets: number;
    readonly "2xx": number;
    readonly latency: Histogram;
    readonly requests: Histogram & { readonly sent: number };
    readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
  }

  export default function autocannon(options: Options, callback: (err: Error | null, result: Result) => void): EventEmitter;
}
