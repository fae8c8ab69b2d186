import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { JWK } from "jose";
import type { ConfigInput } from "../config/schema.js";
import { testMessageSigner, type TestPkiManifest } from "../pki/test-pki/index.js";
import type { SignedMessages } from "./environment.js";

/** The local stack's route that verifies and signs payment messages, and the base URL the local bank publishes. */
const SIGNED_PATH = "/open-banking/payments/v4/consents";
const LOCAL_PUBLIC_BASE_URL = "https://api.bank.conformance.test";

/**
 * The local stack's signed-message route (verify-and-sign on the payment consents only: the other areas send
 * unsigned bodies to the payments route) and its `messageSigning` section: the test PKI's bank key, the `jti`s in
 * Redis when the stack has it.
 */
export function localMessagesConfig(o: { readonly pki: TestPkiManifest; readonly upstream: string; readonly redis: string | null; readonly keyPrefix: string }) {
  const route = { name: "payment-consents", pathPrefix: SIGNED_PATH, upstream: o.upstream, mtls: "required", interactionId: "require", messageSigning: "verify-and-sign", publicBaseUrl: LOCAL_PUBLIC_BASE_URL } as const;
  const section: NonNullable<ConfigInput["messageSigning"]> = {
    organisationId: o.pki.bank.organisationId,
    signingKey: { file: o.pki.signingKeys.bank!.key, kid: o.pki.signingKeys.bank!.kid },
    replayStore: o.redis ? { type: "redis", url: o.redis, keyPrefix: o.keyPrefix } : { type: "memory" },
  };
  return { route, section };
}

/** What the `messages` scenarios use locally: participant-a's signer and the bank's published keys. */
export async function localMessages(pki: TestPkiManifest): Promise<SignedMessages> {
  const published = JSON.parse(await readFile(join(pki.directory.keystore, pki.bank.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] };
  return {
    path: SIGNED_PATH,
    audience: (path) => `${LOCAL_PUBLIC_BASE_URL}${path}`,
    signer: await testMessageSigner(pki, "participant-a"),
    bank: { organisationId: pki.bank.organisationId, keys: published.keys },
  };
}
