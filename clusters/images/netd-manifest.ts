/**
 * The pod network manifest baked into the node image as /kind/manifests/default-cni.yaml. kind
 * applies it during `kind create cluster`: it renders `{{ .PodSubnet }}` because the file contains
 * the phrase "would you kindly template this file", and adds CONTROL_PLANE_ENDPOINT to the first
 * container's env because it contains "would you kindly patch this file".
 */
import { stringify } from "yaml";

export function netdManifest(image: string): string {
  const name = "volcert-netd";
  const labels = { app: name };
  const docs: unknown[] = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "kube-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: "kube-system" }],
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name, namespace: "kube-system", labels },
      spec: {
        selector: { matchLabels: labels },
        updateStrategy: { type: "RollingUpdate" },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            serviceAccountName: name,
            priorityClassName: "system-node-critical",
            tolerations: [{ operator: "Exists" }],
            containers: [
              {
                name: "netd",
                image,
                imagePullPolicy: "IfNotPresent",
                env: [
                  { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                  { name: "POD_SUBNET", value: "{{ .PodSubnet }}" },
                ],
                securityContext: { privileged: true },
                resources: { requests: { cpu: "10m", memory: "20Mi" } },
                volumeMounts: [
                  { name: "cni-conf", mountPath: "/etc/cni/net.d" },
                  { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                ],
              },
            ],
            volumes: [
              { name: "cni-conf", hostPath: { path: "/etc/cni/net.d", type: "DirectoryOrCreate" } },
              { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
            ],
          },
        },
      },
    },
  ];
  const header = [
    "# volcert pod network (clusters/images/netd), applied by kind at cluster creation.",
    "# kind: would you kindly template this file",
    "# kind: would you kindly patch this file",
  ].join("\n");
  return `${header}\n${docs.map((d) => stringify(d)).join("---\n")}`;
}
