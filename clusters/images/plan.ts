/**
 * The image build plan as data: each step names its inputs (from which its cache key is derived),
 * the steps it depends on, the lane it runs in, and what it produces (a directory of binaries or
 * Docker images). build.ts runs the plan; nothing here decides whether a step is cached.
 */
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../harness/core/errors.ts";
import { exec } from "../../harness/core/exec.ts";
import { cachePaths, freshDir, hashPath } from "./cache.ts";
import { buildFromContext, LABEL_KEY, LABEL_MANAGED } from "./docker-images.ts";
import { goBuild, goInstall, kubernetesLdflags } from "./go.ts";
import { checkKubeadmImages, driverPreloads, imageNames, type ImageNames, type Manifest } from "./manifest.ts";
import { assembleNodeImage } from "./node-image.ts";
import { preloadCurrent, preloadNodeImage } from "./node-preload.ts";
import { debootstrap, importRootfs, PACKAGES, trimRootfs } from "./rootfs.ts";
import { extractSnapshotApi, SNAPSHOT_CLIENT_MODULE, SNAPSHOTTER_MODULE } from "./snapshot-api.ts";

export const IMAGES_DIR = fileURLToPath(new URL(".", import.meta.url));
/** Our reference CSI driver's Go module (a fixture driver, built into an image like the others). */
const CSI_HOSTPATH_DIR = fileURLToPath(new URL("../../fixtures/drivers/csi-hostpath/plugin", import.meta.url));
/** The network-storage reference CSI driver (P7): built only for a run that installs it. */
export const CSI_NETSTORE_DIR = fileURLToPath(new URL("../../fixtures/drivers/csi-netstore/plugin", import.meta.url));
/** Our node-driver-registrar and livenessprobe (the Go module proxy serves neither upstream). */
const CSI_SIDECARS_DIR = join(IMAGES_DIR, "csi-sidecars");
const gomod = (name: string) => join(IMAGES_DIR, "gomod", name);

export type Lane = "cpu" | "io" | "docker";

/** The step making the node image variant with the reference drivers' images (driverPreloads). */
export const NODE_DRIVERS_STEP = "image-node-drivers";

export interface StepIO {
  key: string;
  /** Output directory of this step (dir steps) or a scratch directory (image steps). */
  dir: string;
  logFile: string;
  /** Output directory of a dependency. */
  depDir(id: string): string;
}

export interface BuildStep {
  id: string;
  title: string;
  lane: Lane;
  deps: string[];
  inputs: unknown;
  /** Images this step produces; empty for steps that produce a directory of binaries. */
  images: string[];
  /**
   * Built by a run only when a driver needs one of its images, or the step itself (build.ts
   * runTargets): the CSI sidecars cost minutes of compiling on two cores, and only some drivers
   * use them. `volcert images build` with no step names builds them too.
   */
  onDemand?: boolean;
  /**
   * For an image step whose output depends on more than its key (the IDs of the images it
   * copies): whether the image under that key still matches; when not, the step runs again.
   */
  current?(): Promise<boolean>;
  run(io: StepIO): Promise<void>;
}

export function buildPlan(m: Manifest): BuildStep[] {
  const n: ImageNames = imageNames(m);
  const k8sBins = [
    "kubeadm",
    "kubelet",
    "kubectl",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
  ];
  const pathEnv = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const label = (key: string) => `LABEL ${LABEL_MANAGED}=true ${LABEL_KEY}=${key}`;

  const steps: BuildStep[] = [
    {
      id: "go-crictl",
      title: `crictl ${m.crictl}`,
      lane: "cpu",
      deps: [],
      inputs: { crictl: m.crictl, gomod: hashPath(gomod("crictl")) },
      images: [],
      run: async (io) => {
        // sum.golang.org has no entry for this tag: the committed go.sum pins the hash first downloaded.
        await requireModuleVersion(gomod("crictl"), "sigs.k8s.io/cri-tools", m.crictl);
        const src = await copyModule("crictl", io.key);
        await goBuild({
          moduleDir: src,
          packages: { "sigs.k8s.io/cri-tools/cmd/crictl": "crictl" },
          ldflags: `-X sigs.k8s.io/cri-tools/pkg/version.Version=${m.crictl.slice(1)}`,
          outDir: io.dir,
          logFile: io.logFile,
        });
      },
    },
    {
      id: "go-volcert",
      title: "volcert pause and netd",
      lane: "cpu",
      deps: [],
      inputs: {
        pause: hashPath(join(IMAGES_DIR, "pause")),
        netd: hashPath(join(IMAGES_DIR, "netd")),
        netdVersion: m.volcert.netd,
        pauseVersion: m.pause,
      },
      images: [],
      run: async (io) => {
        await goBuild({
          moduleDir: join(IMAGES_DIR, "pause"),
          packages: { ".": "pause" },
          ldflags: `-X main.version=${m.pause}-volcert`,
          outDir: io.dir,
          logFile: io.logFile,
        });
        await goBuild({
          moduleDir: join(IMAGES_DIR, "netd"),
          packages: { ".": "netd" },
          ldflags: `-X main.version=${m.volcert.netd}`,
          outDir: io.dir,
          logFile: io.logFile,
        });
      },
    },
    {
      id: "go-csi-provisioner",
      title: `external-provisioner ${m.csi.provisioner}`,
      lane: "cpu",
      deps: [],
      inputs: { provisioner: m.csi.provisioner, gomod: hashPath(gomod("provisioner")) },
      images: [],
      run: async (io) => {
        await requireModuleVersion(
          gomod("provisioner"),
          "github.com/kubernetes-csi/external-provisioner/v6",
          m.csi.provisioner,
        );
        const src = await copyModule("provisioner", io.key);
        await goBuild({
          moduleDir: src,
          packages: { "github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner": "csi-provisioner" },
          ldflags: `-X main.version=${m.csi.provisioner}`,
          outDir: io.dir,
          logFile: io.logFile,
        });
      },
    },
    {
      id: "go-csi-hostpath",
      title: `volcert csi-hostpath driver ${m.volcert.csiHostpath}`,
      lane: "cpu",
      deps: [],
      inputs: { src: hashPath(CSI_HOSTPATH_DIR), version: m.volcert.csiHostpath },
      images: [],
      run: (io) =>
        goBuild({
          moduleDir: CSI_HOSTPATH_DIR,
          packages: { ".": "csi-hostpath" },
          ldflags: `-X main.version=${m.volcert.csiHostpath}`,
          outDir: io.dir,
          logFile: io.logFile,
        }),
    },
    {
      id: "go-csi-netstore",
      title: `volcert csi-netstore driver ${m.volcert.csiNetstore}`,
      lane: "cpu",
      onDemand: true,
      deps: [],
      inputs: { src: hashPath(CSI_NETSTORE_DIR), version: m.volcert.csiNetstore },
      images: [],
      run: (io) =>
        goBuild({
          moduleDir: CSI_NETSTORE_DIR,
          packages: { ".": "csi-netstore" },
          ldflags: `-X main.version=${m.volcert.csiNetstore}`,
          outDir: io.dir,
          logFile: io.logFile,
        }),
    },
    {
      // The snapshot.storage.k8s.io CRDs and snapshot-controller RBAC of the external-snapshotter
      // release built below, taken from its module zips (snapshot-api.ts): installed into a cluster
      // whose drivers ask for the VolumeSnapshot API. Files only, so the io lane.
      id: "snapshot-api",
      title: `VolumeSnapshot API manifests (external-snapshotter ${m.csi.snapshotter})`,
      lane: "io",
      onDemand: true,
      deps: [],
      inputs: {
        snapshotter: m.csi.snapshotter,
        gomod: hashPath(gomod("csi")),
        extract: hashPath(join(IMAGES_DIR, "snapshot-api.ts")),
      },
      images: [],
      run: async (io) => {
        await requireModuleVersion(gomod("csi"), SNAPSHOTTER_MODULE, m.csi.snapshotter);
        // The CRDs of the client module the controller is compiled against (an indirect requirement).
        const client = requiredVersion(await readFile(join(gomod("csi"), "go.mod"), "utf8"), SNAPSHOT_CLIENT_MODULE);
        if (!client) throw new ConfigError(`${gomod("csi")}/go.mod requires no ${SNAPSHOT_CLIENT_MODULE}`);
        await extractSnapshotApi(
          { [SNAPSHOTTER_MODULE]: m.csi.snapshotter, [SNAPSHOT_CLIENT_MODULE]: client },
          io.dir,
          io.logFile,
        );
      },
    },
    {
      // external-attacher, external-resizer and external-snapshotter from one wrapper module, so
      // their shared Kubernetes libraries are compiled once.
      id: "go-csi-sidecars",
      title: `CSI sidecars (attacher ${m.csi.attacher}, resizer ${m.csi.resizer}, snapshotter ${m.csi.snapshotter})`,
      lane: "cpu",
      onDemand: true,
      deps: [],
      inputs: {
        attacher: m.csi.attacher,
        resizer: m.csi.resizer,
        snapshotter: m.csi.snapshotter,
        gomod: hashPath(gomod("csi")),
      },
      images: [],
      run: async (io) => {
        const builds = [
          {
            module: "github.com/kubernetes-csi/external-attacher/v4",
            version: m.csi.attacher,
            bins: { "cmd/csi-attacher": "csi-attacher" },
          },
          {
            module: "github.com/kubernetes-csi/external-resizer",
            version: m.csi.resizer,
            bins: { "cmd/csi-resizer": "csi-resizer" },
          },
          {
            module: "github.com/kubernetes-csi/external-snapshotter/v8",
            version: m.csi.snapshotter,
            bins: { "cmd/csi-snapshotter": "csi-snapshotter", "cmd/snapshot-controller": "snapshot-controller" },
          },
        ];
        for (const b of builds) await requireModuleVersion(gomod("csi"), b.module, b.version);
        const src = await copyModule("csi", io.key);
        for (const b of builds) {
          await goBuild({
            moduleDir: src,
            packages: Object.fromEntries(Object.entries(b.bins).map(([pkg, bin]) => [`${b.module}/${pkg}`, bin])),
            ldflags: `-X main.version=${b.version}`,
            outDir: io.dir,
            logFile: io.logFile,
          });
        }
      },
    },
    {
      id: "go-volcert-sidecars",
      title: `volcert node-driver-registrar and livenessprobe ${m.volcert.csiSidecars}`,
      lane: "cpu",
      onDemand: true,
      deps: [],
      inputs: { src: hashPath(CSI_SIDECARS_DIR), version: m.volcert.csiSidecars },
      images: [],
      run: (io) =>
        goBuild({
          moduleDir: CSI_SIDECARS_DIR,
          packages: {
            "./cmd/node-driver-registrar": "csi-node-driver-registrar",
            "./cmd/livenessprobe": "livenessprobe",
          },
          ldflags: `-X main.version=${m.volcert.csiSidecars}`,
          outDir: io.dir,
          logFile: io.logFile,
        }),
    },
    {
      id: "go-kind",
      title: `kind CLI ${m.kind}`,
      lane: "cpu",
      deps: [],
      inputs: { kind: m.kind },
      images: [],
      run: (io) => goInstall(`sigs.k8s.io/kind@${m.kind}`, { outDir: io.dir, logFile: io.logFile }),
    },
    {
      id: "go-helm",
      title: `Helm CLI ${m.helm}`,
      lane: "cpu",
      deps: [],
      inputs: { helm: m.helm, gomod: hashPath(gomod("helm")) },
      images: [],
      run: async (io) => {
        await requireModuleVersion(gomod("helm"), "helm.sh/helm/v3", m.helm);
        const src = await copyModule("helm", io.key);
        const clientGo = requiredVersion(await readFile(join(src, "go.mod"), "utf8"), "k8s.io/client-go");
        await goBuild({
          moduleDir: src,
          packages: { "helm.sh/helm/v3/cmd/helm": "helm" },
          ldflags: helmLdflags(m.helm, clientGo),
          outDir: io.dir,
          logFile: io.logFile,
        });
      },
    },
    {
      id: "go-kubernetes",
      title: `Kubernetes ${m.kubernetes.version} binaries`,
      lane: "cpu",
      deps: [],
      inputs: { k8s: m.kubernetes, gomod: hashPath(gomod("kubernetes")) },
      images: [],
      run: async (io) => {
        await requireModuleVersion(gomod("kubernetes"), "k8s.io/kubernetes", m.kubernetes.version);
        const src = await copyModule("kubernetes", io.key);
        await goBuild({
          moduleDir: src,
          packages: Object.fromEntries(k8sBins.map((b) => [`k8s.io/kubernetes/cmd/${b}`, b])),
          ldflags: kubernetesLdflags(m.kubernetes.version, m.kubernetes.gitCommit, m.kubernetes.buildDate),
          tags: ["selinux", "notest", "grpcnotrace"],
          outDir: io.dir,
          logFile: io.logFile,
        });
        const listed = await exec(join(io.dir, "kubeadm"), [
          "config",
          "images",
          "list",
          "--kubernetes-version",
          m.kubernetes.version,
        ]);
        const problems = checkKubeadmImages(m, listed.stdout);
        if (problems.length)
          throw new ConfigError("clusters/images/versions.yaml does not match the built kubeadm", problems);
      },
    },
    {
      id: "go-etcd",
      title: `etcd ${m.etcd}`,
      lane: "cpu",
      deps: [],
      inputs: { etcd: m.etcd, gomod: hashPath(gomod("etcd")) },
      images: [],
      run: async (io) => {
        await requireModuleVersion(gomod("etcd"), "go.etcd.io/etcd/server/v3", m.etcd);
        const src = await copyModule("etcd", io.key);
        await goBuild({
          moduleDir: src,
          packages: { "go.etcd.io/etcd/server/v3": "etcd", "go.etcd.io/etcd/etcdctl/v3": "etcdctl" },
          ldflags: `-X go.etcd.io/etcd/api/v3/version.GitSHA=${m.etcd}`,
          outDir: io.dir,
          logFile: io.logFile,
        });
      },
    },
    {
      id: "go-coredns",
      title: `CoreDNS ${m.coredns}`,
      lane: "cpu",
      deps: [],
      inputs: { coredns: m.coredns },
      images: [],
      run: (io) =>
        goInstall(`github.com/coredns/coredns@${m.coredns}`, {
          outDir: io.dir,
          logFile: io.logFile,
          ldflags: `-X github.com/coredns/coredns/coremain.GitCommit=${m.coredns}`,
        }),
    },
    {
      id: "rootfs-runtime",
      title: `runtime base image (Debian ${m.debian.suite})`,
      lane: "io",
      deps: [],
      inputs: { debian: m.debian, packages: PACKAGES.runtime },
      images: [n.runtimeBase],
      run: async (io) => {
        const dir = join(io.dir, "rootfs");
        await debootstrap({
          suite: m.debian.suite,
          mirror: m.debian.mirror,
          packages: PACKAGES.runtime,
          targetDir: dir,
          logFile: io.logFile,
        });
        await trimRootfs(dir, io.logFile);
        await importRootfs({ dir, image: n.runtimeBase, changes: [pathEnv, label(io.key)], logFile: io.logFile });
      },
    },
    {
      id: "rootfs-workload",
      title: `test workload image ${n.workload}`,
      lane: "io",
      deps: [],
      inputs: { debian: m.debian, packages: PACKAGES.workload, tag: m.volcert.workload },
      images: [n.workload],
      run: async (io) => {
        const dir = join(io.dir, "rootfs");
        await debootstrap({
          suite: m.debian.suite,
          mirror: m.debian.mirror,
          packages: PACKAGES.workload,
          targetDir: dir,
          logFile: io.logFile,
        });
        await trimRootfs(dir, io.logFile);
        await importRootfs({
          dir,
          image: n.workload,
          changes: [pathEnv, 'CMD ["sleep", "infinity"]', label(io.key)],
          logFile: io.logFile,
        });
      },
    },
    {
      id: "rootfs-node",
      title: `node root filesystem (Debian ${m.debian.suite}, systemd, containerd)`,
      lane: "io",
      deps: [],
      inputs: { debian: m.debian, packages: PACKAGES.node },
      images: [n.nodeRootfs],
      run: async (io) => {
        const dir = join(io.dir, "rootfs");
        await debootstrap({
          suite: m.debian.suite,
          mirror: m.debian.mirror,
          packages: PACKAGES.node,
          targetDir: dir,
          logFile: io.logFile,
        });
        await trimRootfs(dir, io.logFile);
        await importRootfs({ dir, image: n.nodeRootfs, changes: [label(io.key)], logFile: io.logFile });
      },
    },
    {
      // Our files and unit setup go on in a cheap second step, so editing them never re-runs debootstrap.
      id: "image-node-base",
      title: "node base image (entrypoint, units, containerd config)",
      lane: "docker",
      deps: ["rootfs-node", "go-crictl"],
      inputs: { files: hashPath(join(IMAGES_DIR, "node")) },
      images: [n.nodeBase],
      run: (io) =>
        buildFromContext({
          image: n.nodeBase,
          key: io.key,
          dockerfile: [
            `FROM ${n.nodeRootfs}`,
            "COPY files/ /",
            "COPY crictl /usr/local/bin/crictl",
            "COPY setup-rootfs.sh /tmp/setup-rootfs.sh",
            "RUN bash /tmp/setup-rootfs.sh && rm /tmp/setup-rootfs.sh",
            "ENV container=docker",
            // systemd halts cleanly on SIGRTMIN+3 (docker stop, kind delete).
            "STOPSIGNAL SIGRTMIN+3",
            'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
          ],
          files: {
            files: join(IMAGES_DIR, "node", "files"),
            crictl: join(io.depDir("go-crictl"), "crictl"),
            "setup-rootfs.sh": join(IMAGES_DIR, "node", "setup-rootfs.sh"),
          },
          contextDir: join(io.dir, "context"),
          logFile: io.logFile,
        }),
    },
    componentStep(
      "image-control-plane",
      "control-plane images",
      ["go-kubernetes", "rootfs-runtime"],
      [
        { image: n.kubeApiserver, bin: "kube-apiserver" },
        { image: n.kubeControllerManager, bin: "kube-controller-manager" },
        { image: n.kubeScheduler, bin: "kube-scheduler" },
        { image: n.kubeProxy, bin: "kube-proxy" },
      ].map(({ image, bin }) => ({
        image,
        from: n.runtimeBase,
        files: { [bin]: ["go-kubernetes", bin] as const },
        lines: [`COPY ${bin} /usr/local/bin/${bin}`],
      })),
    ),
    componentStep(
      "image-etcd",
      `etcd image`,
      ["go-etcd", "rootfs-runtime"],
      [
        {
          image: n.etcd,
          from: n.runtimeBase,
          files: { etcd: ["go-etcd", "etcd"], etcdctl: ["go-etcd", "etcdctl"] },
          lines: ["COPY etcd etcdctl /usr/local/bin/"],
        },
      ],
    ),
    componentStep(
      "image-coredns",
      "CoreDNS image",
      ["go-coredns", "rootfs-runtime"],
      [
        {
          image: n.coredns,
          from: n.runtimeBase,
          files: { coredns: ["go-coredns", "coredns"] },
          // kubeadm drops every capability but NET_BIND_SERVICE and runs it as root.
          lines: ["COPY coredns /coredns", 'ENTRYPOINT ["/coredns"]'],
        },
      ],
    ),
    componentStep(
      "image-pause",
      "pause image",
      ["go-volcert"],
      [
        {
          image: n.pause,
          from: "scratch",
          files: { pause: ["go-volcert", "pause"] },
          lines: ["COPY pause /pause", "USER 65535:65535", 'ENTRYPOINT ["/pause"]'],
        },
      ],
    ),
    componentStep(
      "image-netd",
      "netd image",
      ["go-volcert", "rootfs-runtime"],
      [
        {
          image: n.netd,
          from: n.runtimeBase,
          files: { netd: ["go-volcert", "netd"] },
          lines: ["COPY netd /usr/local/bin/netd", 'ENTRYPOINT ["/usr/local/bin/netd"]'],
        },
      ],
    ),
    // Loaded into a cluster by the CSI installer, not baked into the node image: a driver image is
    // what a vendor swaps, and rebuilding it must not rebuild the node.
    componentStep(
      "image-csi",
      "CSI images (external-provisioner, csi-hostpath)",
      ["go-csi-provisioner", "go-csi-hostpath", "rootfs-runtime"],
      [
        {
          image: n.csiProvisioner,
          from: n.runtimeBase,
          files: { "csi-provisioner": ["go-csi-provisioner", "csi-provisioner"] },
          lines: ["COPY csi-provisioner /csi-provisioner", 'ENTRYPOINT ["/csi-provisioner"]'],
        },
        {
          image: n.csiHostpath,
          from: n.runtimeBase,
          files: { "csi-hostpath": ["go-csi-hostpath", "csi-hostpath"] },
          lines: ["COPY csi-hostpath /usr/local/bin/csi-hostpath", 'ENTRYPOINT ["/usr/local/bin/csi-hostpath"]'],
        },
      ],
    ),
    // csi-netstore's node service formats, attaches and grows volumes: losetup and mount (Debian
    // package mount), blkid (util-linux), mkfs.ext4 and resize2fs (e2fsprogs), mkfs.xfs and
    // xfs_growfs (xfsprogs) are all in the runtime base (rootfs.ts PACKAGES.runtime; netstore.test.ts).
    onDemand(
      componentStep(
        "image-csi-netstore",
        "csi-netstore driver image",
        ["go-csi-netstore", "rootfs-runtime"],
        [
          {
            image: n.csiNetstore,
            from: n.runtimeBase,
            files: { "csi-netstore": ["go-csi-netstore", "csi-netstore"] },
            lines: ["COPY csi-netstore /usr/local/bin/csi-netstore", 'ENTRYPOINT ["/usr/local/bin/csi-netstore"]'],
          },
        ],
      ),
    ),
    // Sidecars a vendor's manifests name under their upstream names (clusters/images/sidecars.ts),
    // at the binary paths of the upstream images, which exec probes and `command:` lines use.
    onDemand(
      componentStep(
        "image-csi-sidecars",
        "CSI sidecar images (external-attacher, external-resizer, external-snapshotter)",
        ["go-csi-sidecars", "rootfs-runtime"],
        [
          { image: n.csiAttacher, bin: "csi-attacher" },
          { image: n.csiResizer, bin: "csi-resizer" },
          { image: n.csiSnapshotter, bin: "csi-snapshotter" },
          { image: n.snapshotController, bin: "snapshot-controller" },
        ].map(({ image, bin }) => binaryImage(image, n.runtimeBase, "go-csi-sidecars", bin)),
      ),
    ),
    onDemand(
      componentStep(
        "image-volcert-sidecars",
        "volcert sidecar images (node-driver-registrar, livenessprobe)",
        ["go-volcert-sidecars", "rootfs-runtime"],
        [
          binaryImage(n.csiNodeDriverRegistrar, n.runtimeBase, "go-volcert-sidecars", "csi-node-driver-registrar"),
          binaryImage(n.livenessprobe, n.runtimeBase, "go-volcert-sidecars", "livenessprobe"),
        ],
      ),
    ),
    {
      id: "image-node",
      title: `node image ${n.node}`,
      lane: "docker",
      deps: [
        "image-node-base",
        "go-kubernetes",
        "image-control-plane",
        "image-etcd",
        "image-coredns",
        "image-pause",
        "image-netd",
        "rootfs-workload",
      ],
      inputs: {
        assemble: [hashPath(join(IMAGES_DIR, "node-image.ts")), hashPath(join(IMAGES_DIR, "node-assembly.ts"))],
        netd: hashPath(join(IMAGES_DIR, "netd-manifest.ts")),
        recycler: m.recyclerImage,
      },
      images: [n.node],
      run: (io) =>
        assembleNodeImage({ manifest: m, key: io.key, binDir: io.depDir("go-kubernetes"), logFile: io.logFile }),
    },
    // Built for a run whose drivers need every one of these images (the main job, `npm test`;
    // environment.ts nodeImageFor): each of its clusters starts with them, where a `kind load` per
    // cluster carried them (and the runtime base under them) into every node again.
    onDemand({
      id: NODE_DRIVERS_STEP,
      title: `node image with the reference drivers' images ${n.nodeDrivers}`,
      lane: "docker",
      deps: ["image-node", "image-csi", "image-csi-netstore", "image-csi-sidecars"],
      inputs: {
        preload: [hashPath(join(IMAGES_DIR, "node-preload.ts")), hashPath(join(IMAGES_DIR, "node-assembly.ts"))],
        images: driverPreloads(m),
      },
      images: [n.nodeDrivers],
      current: () => preloadCurrent(n.nodeDrivers, driverPreloads(m)),
      run: (io) =>
        preloadNodeImage({
          from: n.node,
          image: n.nodeDrivers,
          images: driverPreloads(m),
          key: io.key,
          logFile: io.logFile,
        }),
    }),
  ];
  return steps;
}

interface ComponentImage {
  image: string;
  from: string;
  /** context file name → [step id, file in that step's output]. */
  files: Record<string, readonly [string, string]>;
  lines: string[];
}

function onDemand(step: BuildStep): BuildStep {
  return { ...step, onDemand: true };
}

/** An image holding one binary at /<bin>, its entrypoint. */
function binaryImage(image: string, from: string, step: string, bin: string): ComponentImage {
  return {
    image,
    from,
    files: { [bin]: [step, bin] as const },
    lines: [`COPY ${bin} /${bin}`, `ENTRYPOINT ["/${bin}"]`],
  };
}

function componentStep(id: string, title: string, deps: string[], images: ComponentImage[]): BuildStep {
  return {
    id,
    title,
    lane: "docker",
    deps,
    inputs: images.map((i) => ({ ...i })),
    images: images.map((i) => i.image),
    run: async (io) => {
      for (const img of images) {
        await buildFromContext({
          image: img.image,
          key: io.key,
          dockerfile: [`FROM ${img.from}`, ...img.lines],
          files: Object.fromEntries(
            Object.entries(img.files).map(([name, [step, file]]) => [name, join(io.depDir(step), file)]),
          ),
          contextDir: join(io.dir, "context"),
          logFile: io.logFile,
        });
      }
    },
  };
}

/** Fails when a committed wrapper module pins another version than versions.yaml. */
async function requireModuleVersion(moduleDir: string, modulePath: string, version: string): Promise<void> {
  const gomodText = await readFile(join(moduleDir, "go.mod"), "utf8");
  const pinned = requiredVersion(gomodText, modulePath);
  if (pinned !== version) {
    throw new ConfigError(
      `${moduleDir}/go.mod requires ${modulePath} ${pinned ?? "(nothing)"}, but versions.yaml says ${version}`,
      [],
      {
        fix: `update the wrapper module (go mod edit -require=${modulePath}@${version} && go mod tidy) together with versions.yaml`,
      },
    );
  }
}

export function requiredVersion(gomodText: string, modulePath: string): string | null {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(gomodText);
  return m?.[1] ?? null;
}

/**
 * The -X flags of Helm's own Makefile: its version (else `helm version` says "v3.22" with no
 * patch), and the Kubernetes version `helm template` assumes, which the release derives from the
 * client-go it is built with (v0.37.0 → 1.37).
 */
export function helmLdflags(version: string, clientGo: string | null): string {
  const flags = [`-X helm.sh/helm/v3/internal/version.version=${version}`];
  const [, minor] = /^v0\.(\d+)\./.exec(clientGo ?? "") ?? [];
  if (minor) {
    for (const pkg of ["helm.sh/helm/v3/pkg/lint/rules", "helm.sh/helm/v3/pkg/chartutil"])
      flags.push(`-X ${pkg}.k8sVersionMajor=1`, `-X ${pkg}.k8sVersionMinor=${minor}`);
  }
  return flags.join(" ");
}

/** Copies a committed wrapper module to scratch space: `go build -mod=mod` may rewrite go.mod/go.sum. */
async function copyModule(name: string, key: string): Promise<string> {
  const dir = await freshDir(join(cachePaths.tmp(), `gomod-${name}-${key.slice(0, 12)}`));
  await cp(gomod(name), dir, { recursive: true });
  return dir;
}
