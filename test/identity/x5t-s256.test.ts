import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex, x5tS256 } from "../../src/pki/thumbprint.js";
import { OID, generateKeys, issueLeaf, nameDer } from "./certificates.js";

describe("x5tS256 (RFC 8705 §3.1)", () => {
  it("is the unpadded base64url SHA-256 of the certificate DER", async () => {
    const der = await issueLeaf(await generateKeys(), { subject: nameDer([[OID.CN, "client.example.com.br"]]) });
    const independent = createHash("sha256")
      .update(der)
      .digest("base64")
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const thumbprint = x5tS256(der);
    expect(thumbprint).toBe(independent);
    expect(thumbprint).toHaveLength(43);
    expect(thumbprint).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(thumbprint, "base64url").toString("hex")).toBe(sha256Hex(der));
  });

  it("matches a known vector: SHA-256 of the empty input", () => {
    expect(x5tS256(new Uint8Array())).toBe("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
  });
});
