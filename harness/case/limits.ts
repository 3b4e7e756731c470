/**
 * The suites' bounds that are not the driver's: how long waits on the cluster itself may take
 * (they blame infrastructure), and how long "must stay so" windows last. Waits on something the
 * driver must do use `driverTimeout(c.driver, key)` instead; hold windows are passed through
 * `holdWindow(c.driver, HOLD.x)` so a slow driver's timeoutMultiplier stretches them too. Suites
 * name these; they hold no literal timeout of their own.
 */

/** Waits on the cluster (nodes, kubelet, control-plane controllers, scheduler, DNS). */
export const CLUSTER_LIMITS = {
  /** Kubelet (re)started or node resumed until the node reports Ready, with margin for a loaded kind host. */
  nodeReady: 3 * 60_000,
  /** Node-monitor grace period (40 s; 50 s since 1.32) plus the node lifecycle controller's pass, with margin. */
  nodeNotReady: 3 * 60_000,
  /** A restarted kubelet resyncs its pods before it serves exec for them again. */
  kubeletServes: 2 * 60_000,
  /** The node lifecycle controller taints an unreachable node and evicts once tolerationSeconds (20 s in NF-05) pass. */
  eviction: 3 * 60_000,
  /** Pod GC force-deletes the pods of a node tainted out-of-service on its next pass (every 20 s). */
  outOfServiceForceDelete: 3 * 60_000,
  /** The scheduler picks a node or reports Unschedulable within a few scheduling cycles (it retries every few s). */
  schedulerDecision: 60_000,
  /** The DaemonSet controller deletes a pod its node no longer matches and the kubelet stops it (30 s grace by default). */
  daemonSetPodGone: 2 * 60_000,
  /** CoreDNS Ready on a fresh cluster: it is scheduled once a node is Ready, and its image is preloaded. */
  coreDnsReady: 3 * 60_000,
  /** A pod resolves a cluster name once CoreDNS serves (resolver retries plus CoreDNS's cache). */
  dnsResolves: 60_000,
  /** One exec into a running pod (an API round trip through the kubelet). */
  podExec: 30_000,
  /** One short command in a node through the node shell (stat, a FlexVolume `init`). */
  nodeCommand: 30_000,
} as const;

/** "Must stay so" windows (pass them through holdWindow(c.driver, ...)). */
export const HOLD = {
  /** One PV controller sync period (15 s): long enough for a claim that should wait to bind by mistake. */
  pendingClaim: 15_000,
  /** Several PV controller passes (sync period 15 s, plus its event-driven passes) for a wrong binding to show. */
  unboundClaim: 20_000,
  /** Long enough for the node to miss status updates and for anything frozen mid-I/O to show on resume. */
  nodeFrozen: 20_000,
  /** Several kubelet volume-manager retries: a mount that does not need the node plugin would have happened. */
  withoutPlugin: 20_000,
  /** Several scheduling cycles: a replacement the volume does not pin would have been placed by then. */
  replacementUnscheduled: 20_000,
  /** Several kubelet sync loops: a pod the kubelet wrongly admits would be Ready by then. */
  refusedPod: 20_000,
  /** Several attach/detach controller and external-attacher retries: a second attachment would have happened. */
  attachRefused: 20_000,
} as const;
