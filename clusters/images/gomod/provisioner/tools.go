//go:build tools

// Package tools pins external-provisioner, the sidecar that turns claims into CreateVolume calls.
// v6.3.0 uses client-go 0.36 APIs, so unlike gomod/csi it cannot share the cluster's 0.34.10
// staging modules: this module replaces them with v0.36.1, exactly as the release's own go.mod
// does (a replace in a dependency is ignored, hence this wrapper). The sidecar talks to the API
// server over stable APIs only (v1 PVC/PV/StorageClass/CSINode), which a 1.34 cluster serves.
// Older releases cannot be built here: v5.2.0/v5.3.0's sig-storage-lib-external-provisioner/v11
// has no checksum-database entry.
package tools

import _ "github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner"
