import type { IncomingMessage, ServerResponse } from "node:http";

interface ConnectionState {
  /** Responses Node created for this connection and not yet closed (pipelined ones included). */
  open: number;
  /** The connection's latest request and its response. */
  last: { readonly req: IncomingMessage; readonly res: ServerResponse };
  /** Runs once `open` is down to `allowed`. */
  waiter: { readonly allowed: number; readonly fn: () => void } | undefined;
}

/** Which responses a connection still owes its client. */
export interface InFlight {
  /** Called for every request, before anything answers it. */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** The connection's latest request and response while any response on it is unfinished; undefined when it owes none. */
  owed(socket: object): { readonly req: IncomingMessage; readonly res: ServerResponse } | undefined;
  /**
   * Runs `fn` once at most `allowed` responses are unfinished on the connection (0: all delivered), or once it
   * closes; at once when that is already so. One waiter per connection.
   */
  whenOwing(socket: object, allowed: number, fn: () => void): void;
}

/**
 * Counts the responses each connection owes, so that an error about later bytes on it (a parse error, a time-out)
 * is answered only after the responses to the requests before them: RFC 9112 §9.3, a server answers pipelined
 * requests in order. Node creates each request's response as soon as it has parsed the request, queues it behind
 * the ones in flight, and emits `close` on it once it is done; counting those needs no timer and no guess.
 */
export function createInFlight(): InFlight {
  const states = new WeakMap<object, ConnectionState>();
  const settle = (state: ConnectionState) => {
    const w = state.waiter;
    if (!w || state.open > w.allowed) return;
    state.waiter = undefined;
    w.fn();
  };
  return {
    track(req, res) {
      const socket = req.socket;
      let state = states.get(socket);
      if (state) {
        state.open++;
        state.last = { req, res };
      } else {
        state = { open: 1, last: { req, res }, waiter: undefined };
        states.set(socket, state);
      }
      const s = state;
      res.once("close", () => {
        s.open--;
        settle(s);
      });
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
      (socket as { once(event: "close", l: () => void): void }).once("close", () => {
        if (state.waiter?.fn !== fn) return;
        state.waiter = undefined;
        fn();
      });
    },
  };
}
