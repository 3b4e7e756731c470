//go:build tools

// Package tools pins the kubernetes-csi sidecars and controllers volcert builds. Their go.mod files
// carry replace directives (external-snapshotter also a directory replace for ./client), so
// `go install` refuses them; requiring the published modules from here, with the k8s.io staging
// modules replaced by the cluster's patch (v0.34.10), works.
//
// Module versions and the upstream release each one is:
//   - external-attacher/v4 v4.12.0 = release v4.12.0 (its go.mod: go 1.26.0, k8s 0.36; compiles
//     against 0.34.10). v4.9.0-v4.10.0 have no /v4 module path and the proxy serves neither their
//     pseudo-versions nor the v4.11.0 zip. This is what raises this module's go line to 1.26.0.
//   - external-resizer v1.14.0 = release v1.14.0 (k8s 0.33).
//   - external-snapshotter/v8 v8.3.0 = release v8.3.0 (k8s 0.33); its ./client directory replace
//     is ignored in a dependency, so client/v8 v8.2.0 is required instead (v8.4.0 has no
//     checksum-database entry here).
//
// Not built from this module (see the build notes): external-provisioner (v5.2.0 and v5.3.0's
// sig-storage-lib-external-provisioner/v11 have no checksum-database entry; v6.3.0 needs
// client-go 0.36 APIs), and csi-driver-host-path, node-driver-registrar and livenessprobe (the
// proxy serves none of their versions).
package tools

import (
	_ "github.com/kubernetes-csi/external-attacher/v4/cmd/csi-attacher"
	_ "github.com/kubernetes-csi/external-resizer/cmd/csi-resizer"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
)
