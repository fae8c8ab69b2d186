import "reflect-metadata";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { generateTestPki } from "../../src/pki/test-pki/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory of the test PKI generated once for the whole run (see src/pki/test-pki). */
    pkiDir: string;
  }
}

/** Generates the shared test PKI once per run; tests that need special certificates mint their own. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-test-pki-"));
  await generateTestPki({ out: dir });
  project.provide("pkiDir", dir);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
