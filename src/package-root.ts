import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's root folder: src/ (tests) and dist/src/ (built) sit at different depths, so walk up to package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("ofb-edge: cannot find the package root (package.json)");
    dir = up;
  }
  return dir;
}

/** The package's name and version (reports, `ofb-edge version`). */
export function packageInfo(): { readonly name: string; readonly version: string } {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}
