// Command netd is volcert's pod network for kind nodes (a small stand-in for kindnetd, which the
// Go module proxy does not serve). It runs as a host-network DaemonSet on every node and:
//
//   - writes the node's CNI config (ptp + host-local IPAM on the node's podCIDR, portmap),
//   - routes every other node's podCIDR via that node's InternalIP (all kind nodes share one L2
//     Docker network, so a plain next-hop route is enough),
//   - masquerades pod traffic that leaves the pod network.
//
// It talks to the API server directly (CONTROL_PLANE_ENDPOINT, patched in by kind) so it does not
// depend on kube-proxy, and uses only the standard library.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	saDir      = "/var/run/secrets/kubernetes.io/serviceaccount"
	cniConfDir = "/etc/cni/net.d"
	cniConf    = "10-volcert.conflist"
	masqChain  = "VOLCERT-MASQ"
)

var version = "dev"

type nodeList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			PodCIDR  string   `json:"podCIDR"`
			PodCIDRs []string `json:"podCIDRs"`
		} `json:"spec"`
		Status struct {
			Addresses []struct {
				Type    string `json:"type"`
				Address string `json:"address"`
			} `json:"addresses"`
		} `json:"status"`
	} `json:"items"`
}

func main() {
	nodeName := mustEnv("NODE_NAME")
	podSubnet := mustEnv("POD_SUBNET")
	endpoint := os.Getenv("CONTROL_PLANE_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("KUBERNETES_SERVICE_HOST") + ":" + os.Getenv("KUBERNETES_SERVICE_PORT")
	}
	log.Printf("netd %s on node %s, pod subnet %s, API %s", version, nodeName, podSubnet, endpoint)
	client, err := apiClient()
	if err != nil {
		log.Fatalf("building API client: %v", err)
	}
	masqDone := false
	for {
		if !masqDone {
			if err := ensureMasquerade(podSubnet); err != nil {
				log.Printf("masquerade rules: %v", err)
			} else {
				masqDone = true
			}
		}
		if err := reconcile(client, endpoint, nodeName); err != nil {
			log.Printf("reconcile: %v", err)
		}
		time.Sleep(5 * time.Second)
	}
}

func mustEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		log.Fatalf("environment variable %s is required", name)
	}
	return v
}

func apiClient() (*http.Client, error) {
	ca, err := os.ReadFile(filepath.Join(saDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificates in %s/ca.crt", saDir)
	}
	return &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

func listNodes(client *http.Client, endpoint string) (*nodeList, error) {
	token, err := os.ReadFile(filepath.Join(saDir, "token"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+endpoint+"/api/v1/nodes", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/nodes: %s", resp.Status)
	}
	var nodes nodeList
	if err := json.NewDecoder(resp.Body).Decode(&nodes); err != nil {
		return nil, err
	}
	return &nodes, nil
}

func reconcile(client *http.Client, endpoint, self string) error {
	nodes, err := listNodes(client, endpoint)
	if err != nil {
		return err
	}
	for _, n := range nodes.Items {
		cidr := n.Spec.PodCIDR
		if cidr == "" && len(n.Spec.PodCIDRs) > 0 {
			cidr = n.Spec.PodCIDRs[0]
		}
		if cidr == "" {
			continue // controller-manager has not allocated one yet
		}
		if n.Metadata.Name == self {
			if err := writeCNIConfig(cidr); err != nil {
				return err
			}
			continue
		}
		ip := ""
		for _, a := range n.Status.Addresses {
			if a.Type == "InternalIP" && !strings.Contains(a.Address, ":") {
				ip = a.Address
			}
		}
		if ip == "" {
			continue
		}
		if out, err := exec.Command("ip", "route", "replace", cidr, "via", ip).CombinedOutput(); err != nil {
			log.Printf("route %s via %s (%s): %v: %s", cidr, ip, n.Metadata.Name, err, out)
		}
	}
	return nil
}

func writeCNIConfig(podCIDR string) error {
	conf := map[string]any{
		"cniVersion": "0.3.1",
		"name":       "volcert",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": false,
				"mtu":    1500,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": "/run/cni-ipam-state",
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"ranges":  []any{[]any{map[string]any{"subnet": podCIDR}}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(cniConfDir, cniConf)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(cniConfDir, 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	log.Printf("writing CNI config for pod CIDR %s", podCIDR)
	return os.Rename(tmp, path)
}

func ensureMasquerade(podSubnet string) error {
	ipt := func(args ...string) error {
		out, err := exec.Command("iptables", append([]string{"-w", "-t", "nat"}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	check := func(args ...string) bool {
		return exec.Command("iptables", append([]string{"-w", "-t", "nat", "-C"}, args...)...).Run() == nil
	}
	if exec.Command("iptables", "-w", "-t", "nat", "-L", masqChain).Run() != nil {
		if err := ipt("-N", masqChain); err != nil {
			return err
		}
	}
	rules := [][]string{
		{masqChain, "-d", podSubnet, "-j", "RETURN"},
		{masqChain, "-j", "MASQUERADE"},
	}
	for _, r := range rules {
		if !check(r...) {
			if err := ipt(append([]string{"-A"}, r...)...); err != nil {
				return err
			}
		}
	}
	jump := []string{"POSTROUTING", "-s", podSubnet, "-m", "comment", "--comment", "volcert pod egress", "-j", masqChain}
	if !check(jump...) {
		return ipt(append([]string{"-A"}, jump...)...)
	}
	return nil
}
