//go:build tools

// Package tools pins the Helm CLI that installs drivers described by a chart (spec.helm). A wrapper
// module rather than `go install helm.sh/helm/v3/cmd/helm@version`: its committed go.sum pins every
// dependency's hash, and the build reads k8s.io/client-go's version from this go.mod for the
// release's own -X flags (the Kubernetes version `helm template` assumes).
//
// v3.22.0 is the newest v3 the proxy serves; its go.mod says go 1.26.0 and needs no replace.
// Helm 4 (helm.sh/helm/v4, also served) is a new major version; the installer
// (harness/drivers/helm.ts) is written and tested against v3's CLI.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
