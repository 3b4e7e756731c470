//go:build tools

// Package tools pins crictl (kind's `load` and `export logs` call it inside nodes). A wrapper
// module is used because `go install crictl@version` asks the proxy for the module's version
// list, which this proxy refuses.
package tools

import _ "sigs.k8s.io/cri-tools/cmd/crictl"
