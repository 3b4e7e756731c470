//go:build tools

// Package tools pins the Kubernetes commands volcert builds. The replace block in go.mod maps every
// staging module k8s.io/kubernetes refers to by path onto its published tag, which is what lets
// `go build` work outside the kubernetes repository.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
