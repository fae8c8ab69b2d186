import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigMap, Service, ServiceAccount } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

/**
 * The Kubernetes manifests of `deploy/kubernetes/`, as `kubectl apply -k` reads them (the resources its
 * kustomization.yaml lists), and two checks against the Kubernetes API's own description: the OpenAPI schemas
 * (kubernetes-models' `validate()`: types, required fields, formats) and unknown fields (a misspelt key the API
 * server would drop with a warning), found by type-checking each manifest against kubernetes-models' interfaces,
 * whose excess-property check applies at every level.
 */

const ROOT = resolve(import.meta.dirname, "../..");
export const KUBERNETES_DIR = join(ROOT, "deploy/kubernetes");

/** The kinds the manifests use: apiVersion/kind → model class and the interface (module, name) it implements. */
const KINDS = {
  "v1/ConfigMap": { model: ConfigMap, module: "kubernetes-models/v1/ConfigMap", type: "IConfigMap" },
  "v1/Service": { model: Service, module: "kubernetes-models/v1/Service", type: "IService" },
  "v1/ServiceAccount": { model: ServiceAccount, module: "kubernetes-models/v1/ServiceAccount", type: "IServiceAccount" },
  "apps/v1/Deployment": { model: Deployment, module: "kubernetes-models/apps/v1/Deployment", type: "IDeployment" },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, module: "kubernetes-models/policy/v1/PodDisruptionBudget", type: "IPodDisruptionBudget" },
} as const;

export interface Manifest {
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  readonly doc: Record<string, unknown>;
}

/** The kustomization and every resource it lists, one entry per YAML document. */
export function readManifests(): { kustomization: Record<string, unknown>; manifests: Manifest[] } {
  const kustomization = parseAllDocuments(readFileSync(join(KUBERNETES_DIR, "kustomization.yaml"), "utf8"))[0]!.toJS() as { resources: string[] };
  const manifests = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(KUBERNETES_DIR, file), "utf8")).map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      const doc = d.toJS() as Record<string, unknown> & { kind: string; metadata: { name: string } };
      return { file, kind: doc.kind, name: doc.metadata.name, doc };
    }),
  );
  return { kustomization, manifests };
}

/** Validates a manifest against its kind's OpenAPI schema; throws naming the field. */
export function validateSchema(m: Manifest): void {
  const kind = KINDS[`${m.doc.apiVersion as string}/${m.kind}` as keyof typeof KINDS];
  if (!kind) throw new Error(`${m.file}: no model for ${String(m.doc.apiVersion)}/${m.kind}`);
  new kind.model(m.doc as never).validate();
}

/** Fields no kind knows, per manifest: `file: message` lines, empty when every key is one the API defines. */
export function unknownFields(manifests: readonly Manifest[]): string[] {
  const file = join(KUBERNETES_DIR, "__manifests__.ts");
  const source = manifests
    .map((m, i) => {
      const kind = KINDS[`${m.doc.apiVersion as string}/${m.kind}` as keyof typeof KINDS];
      return `import type { ${kind.type} as T${i} } from "${kind.module}";\nexport const m${i}: T${i} = ${JSON.stringify(m.doc, null, 1)};\n`;
    })
    .join("");
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) => (name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const index = d.file && d.start !== undefined ? Number(/^export const m(\d+)/m.exec(source.slice(source.lastIndexOf("export const m", d.start)))?.[1]) : NaN;
    const where = Number.isNaN(index) ? "" : `${manifests[index]!.file}: `;
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
  });
}
