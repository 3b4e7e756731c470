// Command livenessprobe is volcert's stand-in for kubernetes-csi/livenessprobe, whose releases the
// Go module proxy does not serve. Same flags as upstream where manifests rely on them, same
// behaviour: it waits (up to 5 minutes) for the CSI driver's socket, learns the driver's name, and
// serves /healthz, which calls the driver's Probe on every request: 200 "ok" when the driver is
// ready, 500 with the reason when it is not or does not answer within --probe-timeout.
// Prometheus metrics (--metrics-address, /metrics) are not served.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"

	"volcert.local/csi-sidecars/internal/compat"
	"volcert.local/csi-sidecars/internal/csiconn"
)

var version = "dev"

const defaultHealthPort = "9808"

// connectTimeout is upstream's: long enough for a crashing driver to restart, short enough to end.
const connectTimeout = 5 * time.Minute

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	fs := flag.CommandLine
	var (
		csiAddress   = fs.String("csi-address", "/run/csi/socket", "path (or unix:// URL) of the CSI driver's socket")
		healthPort   = fs.String("health-port", defaultHealthPort, "(deprecated) TCP port of /healthz; not together with --http-endpoint")
		httpEndpoint = fs.String("http-endpoint", "", "address of the HTTP server for /healthz (example :9808); overrides --health-port")
		probeTimeout = fs.Duration("probe-timeout", time.Second, "timeout of each Probe call")
		metricsAddr  = fs.String("metrics-address", "", "accepted for compatibility; metrics are not served")
		showVersion  = fs.Bool("version", false, "print the version and exit")
	)
	fs.String("metrics-path", "/metrics", "accepted for compatibility; metrics are not served")
	compat.Deprecated(fs, "connection-timeout", "0s")
	compat.RegisterLogFlags(fs)
	flag.Parse()
	if *showVersion {
		fmt.Println(os.Args[0], version, "(volcert, compatible with kubernetes-csi/livenessprobe v2)")
		return
	}
	compat.WarnIgnored()
	healthPortSet := false
	fs.Visit(func(f *flag.Flag) { healthPortSet = healthPortSet || f.Name == "health-port" })
	if healthPortSet && *httpEndpoint != "" {
		compat.Fatalf("only one of --health-port and --http-endpoint can be set")
	}
	if *metricsAddr != "" && *httpEndpoint != "" {
		compat.Fatalf("only one of --metrics-address and --http-endpoint can be set")
	}
	if *metricsAddr != "" {
		log.Printf("--metrics-address %s: metrics are not served by volcert's livenessprobe", *metricsAddr)
	}
	addr := *httpEndpoint
	if addr == "" {
		addr = net.JoinHostPort("0.0.0.0", *healthPort)
	}
	socket, err := csiconn.SocketPath(*csiAddress)
	if err != nil {
		compat.Fatalf("%v", err)
	}

	log.Printf("livenessprobe %s (volcert)", version)
	driver, err := driverName(socket, *probeTimeout)
	if err != nil {
		compat.Fatalf("%v", err)
	}
	log.Printf("CSI driver %s at %s; serving /healthz on %s", driver, socket, addr)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", healthz(socket, driver, *probeTimeout))
	server := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	compat.Fatalf("HTTP server on %s: %v", addr, server.ListenAndServe())
}

func driverName(socket string, timeout time.Duration) (string, error) {
	conn, err := csiconn.Dial(socket)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := csiconn.WaitReady(ctx, conn, socket, 10*time.Second); err != nil {
		return "", err
	}
	return csiconn.DriverName(ctx, conn, max(timeout, 10*time.Second))
}

// healthz probes the driver on a fresh connection each time, like upstream: a driver that
// restarted and recreated its socket is probed, not a connection to the old one.
func healthz(socket, driver string, timeout time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if err := probe(req.Context(), socket, timeout); err != nil {
			log.Printf("health check of %s failed: %v", driver, err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		compat.Logf(5, "health check of %s succeeded", driver)
		_, _ = w.Write([]byte("ok"))
	}
}

func probe(ctx context.Context, socket string, timeout time.Duration) error {
	conn, err := csiconn.Dial(socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := csi.NewIdentityClient(conn).Probe(ctx, &csi.ProbeRequest{})
	if err != nil {
		return fmt.Errorf("Probe on %s: %w", socket, err)
	}
	// An absent "ready" means ready (CSI spec).
	if resp.GetReady() != nil && !resp.GetReady().GetValue() {
		return fmt.Errorf("driver responded but is not ready")
	}
	return nil
}
