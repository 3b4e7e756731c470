//go:build tools

// Package tools pins the etcd commands volcert builds. etcd's own go.mod uses directory replaces,
// so `go install` refuses it; requiring the published modules from here works.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
