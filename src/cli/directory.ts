import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/load.js";
import type { DirectoryConfig } from "../config/schema.js";
import type { RedisConfig } from "../redis/config.js";
import { THUMBPRINT_PREFIX } from "../directory/keystore.js";
import { openDirectoryStore } from "../directory/open.js";
import type { Dispatcher } from "undici";
import { createDirectoryService, type DirectoryService } from "../directory/service.js";
import { createOutboundDispatcher } from "../net/dispatcher.js";
import type { Organisation } from "../directory/types.js";
import { createLogger } from "../log/logger.js";
import { runDirectoryMock } from "./directory-mock.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };
type Env = Readonly<Record<string, string | undefined>>;

export const USAGE = `Usage:
  ofb-edge directory sync --config FILE             fetch /participants once into the configured store
  ofb-edge directory lookup <orgId|CNPJ|x5t#S256> --config FILE
  ofb-edge directory mock [--fixture DIR] [--host H] [--port N]`;

/** `ofb-edge directory …`: one-shot sync, lookups against the configured store, and the mock directory. */
export async function runDirectory(argv: string[], io: Io, env: Env): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "mock") return runDirectoryMock(rest, io);
  if (sub !== "sync" && sub !== "lookup") {
    io.stderr(`ofb-edge directory: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`}\n\n${USAGE}`);
    return 2;
  }
  let values: { config?: string | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } }, allowPositionals: sub === "lookup", strict: true }));
  } catch (err) {
    io.stderr(`ofb-edge directory ${sub}: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (!values.config || (sub === "lookup" && positionals.length !== 1)) {
    io.stderr(`ofb-edge directory ${sub}: ${values.config ? "exactly one thing to look up" : "--config FILE is required"}\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfigFile(values.config, env);
  if (!config.directory) {
    io.stderr(`ofb-edge directory ${sub}: ${values.config} has no \`directory\` section`);
    return 1;
  }
  const dispatcher = createOutboundDispatcher();
  try {
    const directory = await open(config.directory, dispatcher, config.redis);
    try {
      return sub === "sync" ? await sync(directory, config.directory, io) : await lookup(directory, config.directory, positionals[0]!, io);
    } finally {
      await directory.close();
    }
  } finally {
    await dispatcher.close();
  }
}

async function open(config: DirectoryConfig, dispatcher: Dispatcher, redis: RedisConfig | undefined): Promise<DirectoryService> {
  const logger = createLogger({ level: "silent" });
  const now = () => Date.now();
  return createDirectoryService({ config, store: await openDirectoryStore(config, { logger, now, redis }), logger, now, dispatcher });
}

async function sync(directory: DirectoryService, config: DirectoryConfig, io: Io): Promise<number> {
  io.stdout(`fetching ${config.participantsUrl} …`);
  const result = await directory.syncOnce();
  switch (result.status) {
    case "published": {
      const roles = Object.entries(result.activeRoles).sort(([a], [b]) => a.localeCompare(b)).map(([role, n]) => `${role} ${n}`).join(", ");
      io.stdout(`published snapshot ${result.meta.version}: ${result.meta.organisations} organisations; Active role claims: ${roles || "none"}`);
      io.stdout(`${(result.bytes / 1024).toFixed(0)} KiB in ${(result.ms / 1000).toFixed(2)} s into the ${config.store.type} store`);
      return 0;
    }
    case "not-modified":
      io.stdout(`unchanged since snapshot ${result.meta.version} (${result.meta.organisations} organisations); confirmed in ${(result.ms / 1000).toFixed(2)} s`);
      return 0;
    case "skipped":
      io.stderr("another replica holds the sync lock; try again shortly");
      return 1;
    case "failed":
      io.stderr(`sync failed: ${result.reason}`);
      return 1;
  }
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

async function lookup(directory: DirectoryService, config: DirectoryConfig, query: string, io: Io): Promise<number> {
  // A memory store starts empty: fetch a snapshot for this one look-up.
  if ((await directory.store.refreshCurrent()) === null) {
    const result = await directory.syncOnce();
    if (result.status === "failed") {
      io.stderr(`no snapshot in the ${config.store.type} store and the sync failed: ${result.reason}`);
      return 1;
    }
  }
  const meta = directory.store.current()!;
  io.stdout(`snapshot ${meta.version}, fetched ${new Date(meta.fetchedAt).toISOString()} from ${meta.source}`);
  let found: readonly Organisation[];
  if (UUID.test(query)) {
    const org = await directory.store.organisation(query);
    found = org ? [org] : [];
  } else if (THUMBPRINT.test(query)) {
    const seen = await directory.store.cacheGet(`${THUMBPRINT_PREFIX}${query}`);
    if (!seen) {
      io.stdout(`x5t#S256 ${query}: not seen in any transport.jwks the edge has fetched (keys are fetched per software statement, on first use)`);
      return 1;
    }
    const { organisationId, softwareStatementId, status } = JSON.parse(seen) as { organisationId: string; softwareStatementId: string; status: string };
    io.stdout(`x5t#S256 ${query}: ${status} key of software statement ${softwareStatementId}`);
    const org = await directory.store.organisation(organisationId);
    found = org ? [org] : [];
  } else {
    found = await directory.store.organisationsByCnpj(query);
  }
  if (found.length === 0) {
    io.stdout(`${query}: no organisation`);
    return 1;
  }
  for (const org of found) {
    const roles = org.roles.map((r) => `${r.role}(${r.status})`).join(" ") || "none";
    io.stdout(`${org.id}  ${org.status}  ${org.registrationNumber || "-"}  ${org.name}`);
    io.stdout(`  roles: ${roles}`);
  }
  return 0;
}
