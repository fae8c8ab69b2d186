import { readdirSync, readFileSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IService } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { terminatesTls, type Config } from "../../src/config/schema.js";
import { KUBERNETES_DIR, readManifests, unknownFields, validateSchema, type Manifest } from "../helpers/kubernetes.js";
import { readDockerfile } from "../helpers/dockerfile.js";

/**
 * deploy/kubernetes: every resource valid against the Kubernetes OpenAPI schemas with no field the API does not define,
 * and what the schemas cannot say — the probes ask the admin listener the edge's configuration opens; the drain fits
 * the grace period (preStop, then drainTimeoutMs, then the exit grace) and readiness notices the shutdown within
 * drainDelayMs; the pod runs as the image's non-root user on a read-only root filesystem, every file the edge reads
 * being mounted (the TLS key from a Secret only its group reads); the PodDisruptionBudget, the Service and the topology
 * spread select exactly the Deployment's pods.
 */

const ROOT = resolve(import.meta.dirname, "../..");
/** After drainTimeoutMs, what the process may still take to exit (src/cluster.ts EXIT_GRACE_MS). */
const EXIT_GRACE_S = 5;

const { kustomization, manifests } = readManifests();
const one = <T>(kind: string): T => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found.map((m) => m.name), kind).toHaveLength(1);
  return found[0]!.doc as T;
};
const deployment = one<IDeployment>("Deployment");
const pod = deployment.spec!.template.spec!;
const container = pod.containers.find((c) => c.name === "edge")!;
const configMap = manifests.find((m) => m.kind === "ConfigMap" && m.name === "ofb-edge-config")!.doc as unknown as IConfigMap;
/** The edge's configuration as the pod starts it: the ConfigMap's file, REDIS_URL from its Secret. */
const config: Config = parseConfig(JSON.parse(configMap.data!["edge.json"]!), { file: "edge.json (ConfigMap ofb-edge-config)", baseDir: "/etc/ofb-edge/config", env: { REDIS_URL: "rediss://redis.example:6379" } });
const portNamed = (name: string | number) => container.ports!.find((p) => p.name === name)?.containerPort;

describe("deploy/kubernetes", () => {
  it("lists every manifest of the folder in its kustomization", () => {
    const files = readdirSync(KUBERNETES_DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...(kustomization.resources as string[])].sort()).toEqual(files.sort());
    expect(manifests.map((m) => m.kind).sort()).toEqual(["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]);
  });

  it.each(manifests.map((m) => [`${m.file} (${m.kind} ${m.name})`, m] as const))("%s is valid against the Kubernetes OpenAPI schema", (_name, m: Manifest) => {
    expect(() => validateSchema(m)).not.toThrow();
  });

  it("no manifest has a field the Kubernetes API does not define", () => {
    expect(unknownFields(manifests)).toEqual([]);
  });

  it("the schema check is not a formality: a wrong type and an unknown field are both caught", () => {
    const changed = (change: (c: Record<string, unknown>) => void): Manifest => {
      const doc = structuredClone(deployment) as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      change(doc.spec.template.spec.containers[0]!);
      return { file: "deployment.yaml", kind: "Deployment", name: "x", doc: doc as never };
    };
    expect(() => validateSchema(changed((c) => (c.ports = [{ containerPort: "8443" }])))).toThrow(/containerPort must be integer/);
    expect(unknownFields([changed((c) => (c.readinessProb = {}))])).toEqual([`deployment.yaml: Object literal may only specify known properties, and '"readinessProb"' does not exist in type 'IContainer'.`]);
  });

  it("the probes ask the admin listener on the port the configuration opens, on every interface (the kubelet probes the pod's address)", () => {
    expect(config.admin).toBeDefined();
    expect(config.admin!.host).toBe("0.0.0.0");
    expect(portNamed("admin")).toBe(config.admin!.port);
    const probe = (p: typeof container.readinessProbe) => [p?.httpGet?.path, p?.httpGet?.port];
    expect(probe(container.readinessProbe)).toEqual(["/readyz", "admin"]);
    // /healthz stays 200 while the edge drains; /readyz does not, and must not restart it.
    expect(probe(container.livenessProbe)).toEqual(["/healthz", "admin"]);
    expect(probe(container.startupProbe)).toEqual(["/healthz", "admin"]);
    const listener = config.listeners.find(terminatesTls)!;
    expect([listener.host, portNamed("https")]).toEqual(["0.0.0.0", listener.port]);
  });

  it("the drain fits the grace period: preStop, then drainTimeoutMs (drainDelayMs included), then the exit grace", () => {
    const preStop = container.lifecycle!.preStop!.sleep!.seconds;
    expect(preStop).toBeGreaterThan(0);
    expect(config.drainDelayMs).toBeGreaterThan(0);
    expect(config.drainDelayMs).toBeLessThan(config.drainTimeoutMs);
    const needed = preStop + config.drainTimeoutMs / 1000 + EXIT_GRACE_S;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);
    expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(needed + 15);
    // The kubelet sees the 503 before the edge stops accepting: failureThreshold checks fit in drainDelayMs.
    const readiness = container.readinessProbe!;
    expect((readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3) * 1000).toBeLessThanOrEqual(config.drainDelayMs);
    // A rollout never lowers capacity: a new pod is ready before an old one drains.
    expect(deployment.spec!.strategy!.rollingUpdate!.maxUnavailable).toBe(0);
  });

  it("runs as the image's non-root user, without privileges, on a read-only root filesystem", () => {
    const user = readDockerfile(join(ROOT, "Dockerfile")).at(-1)!.instructions.find((i) => i.keyword === "USER")!.args;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user.split(":")[0]), runAsGroup: Number(user.split(":")[1]), seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("every file the edge reads is mounted read-only; nothing needs a writable folder", () => {
    const mounts = container.volumeMounts!;
    expect(mounts.every((m) => m.readOnly === true)).toBe(true);
    expect(pod.volumes!.filter((v) => v.emptyDir !== undefined || v.hostPath !== undefined)).toEqual([]);
    const configFile = container.args![container.args!.indexOf("--config") + 1]!;
    const files = [
      configFile,
      ...config.listeners.filter(terminatesTls).flatMap((l) => [l.tls.cert, l.tls.key, ...l.tls.trustAnchors]),
      ...(config.headerProfiles?.files ?? []),
      ...config.revocation.crlFiles,
      ...(config.identityAssertion ? [config.identityAssertion.key] : []),
    ];
    for (const f of files) expect(mounts.some((m) => f.startsWith(`${m.mountPath}/`)), f).toBe(true);
    // The configuration is the ConfigMap, the key a Secret only the owner and the pod's group read, the trust anchors public.
    const volumeAt = (path: string) => pod.volumes!.find((v) => v.name === mounts.find((m) => path.startsWith(`${m.mountPath}/`))!.name)!;
    const listener = config.listeners.find(terminatesTls)!;
    expect(volumeAt(configFile).configMap?.name).toBe("ofb-edge-config");
    expect(posix.basename(configFile) in configMap.data!).toBe(true);
    expect(volumeAt(listener.tls.key).secret).toEqual({ secretName: "ofb-edge-tls", defaultMode: 0o440 });
    expect(pod.securityContext!.fsGroup).toBe(pod.securityContext!.runAsGroup);
    expect(volumeAt(listener.tls.trustAnchors[0]!).configMap?.name).toBe("ofb-edge-trust");
  });

  it("Redis is an external service whose address comes from a Secret; the Directory, the CRLs and the deny list share it", () => {
    expect(container.env).toEqual([{ name: "REDIS_URL", valueFrom: { secretKeyRef: { name: "ofb-edge-redis", key: "url" } } }]);
    expect(config.directory!.store.type).toBe("redis");
    expect(config.revocation.store.type).toBe("redis");
    expect(config.denyList?.url).toBe("rediss://redis.example:6379");
  });

  it("requests a core per worker and memory; limits memory", () => {
    const resources = container.resources!;
    expect(Number(resources.requests!.cpu)).toBe(config.workers);
    expect(resources.requests!.memory).toBeDefined();
    expect(resources.limits!.memory).toBeDefined();
  });

  it("the PodDisruptionBudget, the Service and the topology spread select exactly the Deployment's pods", () => {
    const labels = deployment.spec!.template.metadata!.labels!;
    const selector = deployment.spec!.selector.matchLabels!;
    expect(labels).toMatchObject(selector);
    const pdb = one<IPodDisruptionBudget>("PodDisruptionBudget");
    expect(pdb.spec!.selector!.matchLabels).toEqual(selector);
    expect(Number(pdb.spec!.maxUnavailable)).toBeLessThan(deployment.spec!.replicas!);
    const service = one<IService>("Service");
    expect(service.spec!.selector).toEqual(selector);
    expect(service.spec!.ports!.map((p) => p.targetPort)).toEqual(["https"]);
    expect(service.spec!.externalTrafficPolicy).toBe("Local");
    expect(pod.topologySpreadConstraints!.map((t) => [t.topologyKey, t.labelSelector!.matchLabels])).toEqual([
      ["topology.kubernetes.io/zone", selector],
      ["kubernetes.io/hostname", selector],
    ]);
    expect(pod.serviceAccountName).toBe(one<{ metadata: { name: string } }>("ServiceAccount").metadata.name);
  });

  it("the image it names is the one kustomize sets", () => {
    expect(kustomization.images).toEqual([{ name: container.image, newTag: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version }]);
  });
});
