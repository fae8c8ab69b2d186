import type { IncomingMessage, ServerResponse } from "node:http";

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

interface ConnectionState {
  readonly socket: IncomingMessage["socket"];
  /** Responses Node created for this connection and not yet closed (queued pipelined ones included). */
  open: number;
  /** The connection's latest request and its response. */
  last: Exchange;
  /** Pipelined requests waiting for the responses before them. */
  readonly queue: { readonly req: IncomingMessage; readonly serve: () => void }[];
  /** Runs once `open` is down to `allowed`. */
  waiter: { readonly allowed: number; readonly fn: () => void } | undefined;
}

/** Which responses a connection still owes its client, and the order its requests are served in. */
export interface InFlight {
  /**
   * Serves a request (`serve`) at once when its connection owes no earlier response; a pipelined one only once the
   * responses before it are delivered, and not at all when one of them closed the connection (RFC 9112 §9.6: after
   * a response with `close`, later requests are not processed) or the connection failed.
   */
  admit(req: IncomingMessage, res: ServerResponse, serve: () => void): void;
  /** The connection's latest request and response while any response on it is unfinished; undefined when it owes none. */
  owed(socket: object): Exchange | undefined;
  /**
   * Runs `fn` once at most `allowed` responses are unfinished on the connection (0: all delivered), or once it
   * closes; at once when that is already so. One waiter per connection.
   */
  whenOwing(socket: object, allowed: number, fn: () => void): void;
  /** Never serves this request if it is still waiting its turn (its body failed: the HTTP layer answers it). */
  withhold(req: IncomingMessage): void;
}

/**
 * Keeps a connection's requests in order (RFC 9112 §9.3). Node parses pipelined requests as they arrive and hands
 * each to the server at once; served concurrently, a later request could reach the backend although an earlier
 * response closes the connection — the backend acts, the client never learns it. So a pipelined request is served
 * only after the responses before it, and an error about later bytes (a parse error, a time-out) is answered only
 * once the connection owes nothing before it. Node emits `close` on each response once it is done; counting those
 * needs no timer and no guess.
 */
export function createInFlight(): InFlight {
  const states = new WeakMap<object, ConnectionState>();
  const withheld = new WeakSet<IncomingMessage>();
  const usable = (s: ConnectionState) => !s.socket.destroyed && s.socket.writable;
  const settle = (s: ConnectionState) => {
    const w = s.waiter;
    if (!w || s.open > w.allowed) return;
    s.waiter = undefined;
    w.fn();
  };
  return {
    admit(req, res, serve) {
      const socket = req.socket;
      let state = states.get(socket);
      const earlier = state?.open ?? 0;
      if (state) {
        state.open++;
        state.last = { req, res };
      } else {
        state = { socket, open: 1, last: { req, res }, queue: [], waiter: undefined };
        states.set(socket, state);
      }
      const s = state;
      res.once("close", () => {
        s.open--;
        const next = s.queue.shift();
        if (next && !usable(s)) s.queue.length = 0;
        else if (next && !withheld.has(next.req)) next.serve();
        settle(s);
      });
      if (earlier === 0) serve();
      else s.queue.push({ req, serve });
    },
    owed(socket) {
      const state = states.get(socket);
      return state && state.open > 0 ? state.last : undefined;
    },
    whenOwing(socket, allowed, fn) {
      const state = states.get(socket);
      if (!state || state.open <= allowed) return fn();
      state.waiter = { allowed, fn };
      // A queued response is never started when the connection dies first: nothing is owed to a closed connection.
      state.socket.once("close", () => {
        if (state.waiter?.fn !== fn) return;
        state.waiter = undefined;
        fn();
      });
    },
    withhold(req) {
      withheld.add(req);
    },
  };
}
