import type { Dispatcher } from "undici";
import { afterAll } from "vitest";
import { createOutboundDispatcher } from "../../src/net/dispatcher.js";

/**
 * The product's outbound dispatcher, for a test file that calls an HTTP client in-process (the product never
 * falls back to undici's global dispatcher, so every caller passes one). Call it at the top of the file: it is
 * closed after the file's tests.
 */
export function testDispatcher(): Dispatcher {
  const dispatcher = createOutboundDispatcher();
  afterAll(() => dispatcher.close());
  return dispatcher;
}
