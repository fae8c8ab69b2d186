/** One root certificate known by the SHA-256 of its DER (lowercase hex). */
export interface RootPin {
  /** Short name used in reports and messages, e.g. `v10`. */
  readonly name: string;
  readonly sha256: string;
}

/**
 * The roots a trust bundle may be built from. The source (the ITI zip, the Directory's `roots.jwks`)
 * only supplies candidates; these pins are the anchor set.
 */
export interface PinSet {
  /** Roots that may anchor a bundle. */
  readonly pinned: readonly RootPin[];
  /** Roots recognised so they can be reported as retired; never trusted. */
  readonly retired: readonly RootPin[];
  /** Names (from `pinned`) of the roots whose subtree is the mTLS transport store. */
  readonly transportRoots: readonly string[];
}

/**
 * The ICP-Brasil roots ("Autoridade Certificadora Raiz Brasileira vN", published by ITI in its repository of
 * AC Raiz certificates), by the SHA-256 of their DER. A new root means a product release: its fingerprint is
 * checked against the DOU/ITI publication, never against a downloaded bundle alone. Transport is root v10
 * only: the OFB certificate standard requires the client certificate to be issued "através de cadeia V10".
 */
export const ICP_BRASIL_PINS: PinSet = {
  pinned: [
    { name: "v5", sha256: "caa53fc6091c6951887c976e378f6ef89aa6377c55d97b6475422b71ed7e9b17" },
    { name: "v6", sha256: "3bdb9b509352f1d3d71c2bf64d9a38a4e6cebda27809d77f7ac476cbde6e314a" },
    { name: "v7", sha256: "5657e70580eb678983f3ed7dfce091d84cae6549389a47fccda8d0e4dc2cf576" },
    { name: "v10", sha256: "6e0bff069a26994c15de2c4888cc54af84882e5495b7fbf66be9ccffec7489f6" },
    { name: "v11", sha256: "1406710058180fa4081aab3f246f1702429c552a11fa3143b84c88cb3ab8e5e7" },
    { name: "v12", sha256: "d8478e37ce19c690cf657381e68fe600e4e1a042536830f06847e03e554c4b01" },
  ],
  retired: [
    { name: "v1", sha256: "cbd8ed38d4a2d677d453d70dd8890af4f6374cba6299943f1ab3a6936c6fd795" },
    { name: "v2", sha256: "fb47d92a9909fd4fa9bec02737543e1f3514ced747407a8d9cfa397b0915067c" },
    { name: "v4", sha256: "f0c15afd258fb674e7a96e1a50ff873149364b9ec70d4d93c7a9f1eb6060d020" },
    { name: "v13", sha256: "2b07d0bc02c4a6e0478ed22d0d99e8f97e1827b269097696a7feb6aad30c3ac8" },
  ],
  transportRoots: ["v10"],
};

/** Every ICP-Brasil root's commonName is "Autoridade Certificadora Raiz Brasileira vN"; N names its pin. */
const ROOT_COMMON_NAME = /^Autoridade Certificadora Raiz Brasileira (v\d{1,3})$/;

/** The pin (pinned or retired) of the ICP-Brasil root a commonName names, e.g. `v5`; null for any other name. */
export function icpBrasilRootNamed(commonName: string): RootPin | null {
  const name = ROOT_COMMON_NAME.exec(commonName)?.[1];
  if (name === undefined) return null;
  return [...ICP_BRASIL_PINS.pinned, ...ICP_BRASIL_PINS.retired].find((p) => p.name === name) ?? null;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks a pin set once, before anything is fetched: lowercase 64-hex fingerprints, unique names and
 * fingerprints, no root both pinned and retired, and transport roots that are pinned.
 * @throws Error naming the first offending pin.
 */
export function checkPinSet(pins: PinSet): void {
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const pin of [...pins.pinned, ...pins.retired]) {
    if (!SHA256_HEX.test(pin.sha256)) throw new Error(`pin ${pin.name}: SHA-256 must be 64 lowercase hex digits`);
    if (names.has(pin.name)) throw new Error(`pin ${pin.name}: name used twice`);
    if (hashes.has(pin.sha256)) throw new Error(`pin ${pin.name}: fingerprint listed twice`);
    names.add(pin.name);
    hashes.add(pin.sha256);
  }
  if (pins.transportRoots.length === 0) throw new Error("pin set names no transport root");
  for (const name of pins.transportRoots) {
    if (!pins.pinned.some((p) => p.name === name)) throw new Error(`transport root ${name} is not a pinned root`);
  }
}
