import "reflect-metadata";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { generateTestPki } from "../../src/pki/test-pki/index.js";
import { startRedisServer, type RedisServer } from "../helpers/redis.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory of the test PKI generated once for the whole run (see src/pki/test-pki). */
    pkiDir: string;
    /** The Redis every test shares (with its own key prefix): `REDIS_URL`, or a local `redis-server` started here. */
    redisUrl: string;
  }
}

/**
 * Generates the shared test PKI once per run (tests that need special certificates mint their own), and starts
 * a local `redis-server` without persistence unless `REDIS_URL` names one.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-test-pki-"));
  let redis: RedisServer | undefined;
  try {
    await generateTestPki({ out: dir });
    project.provide("pkiDir", dir);
    const url = process.env.REDIS_URL || (redis = await startRedisServer()).url;
    project.provide("redisUrl", url);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return async () => {
    await redis?.kill();
    await rm(dir, { recursive: true, force: true });
  };
}
