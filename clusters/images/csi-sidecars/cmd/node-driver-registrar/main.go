// Command csi-node-driver-registrar is volcert's stand-in for kubernetes-csi/node-driver-registrar,
// whose releases the Go module proxy does not serve. It takes the upstream flags a manifest
// relies on and behaves the same way: it asks the CSI driver its name (GetPluginInfo), serves the
// kubelet's plugin registration API on <plugin-registration-path>/<driver>-reg.sock, and exits
// non-zero when the kubelet reports that the registration failed, so the container restarts.
//
// --mode=kubelet-registration-probe is upstream's exec liveness probe: it exits 0 once the
// registration succeeded (a file "registration" next to --kubelet-registration-path, inside the
// container), 1 before.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"volcert.local/csi-sidecars/internal/compat"
)

var version = "dev"

const (
	modeRegistration = "registration"
	modeProbe        = "kubelet-registration-probe"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	fs := flag.CommandLine
	var (
		csiAddress      = fs.String("csi-address", "/run/csi/socket", "path (or unix:// URL) of the CSI driver's socket")
		kubeletPath     = fs.String("kubelet-registration-path", "", "the CSI driver's socket as the kubelet sees it, on the host (required)")
		pluginRegPath   = fs.String("plugin-registration-path", "/registration", "the kubelet's plugin registration directory (/var/lib/kubelet/plugins_registry on the host)")
		healthPort      = fs.Int("health-port", 0, "(deprecated) TCP port of /healthz; 0 disables it; not together with --http-endpoint")
		httpEndpoint    = fs.String("http-endpoint", "", "address of the HTTP server for /healthz (example :9809); empty disables it")
		timeout         = fs.Duration("timeout", time.Second, "timeout of each call to the CSI driver and of the /healthz self-check")
		mode            = fs.String("mode", modeRegistration, `"registration" (run) or "kubelet-registration-probe" (exit 0 once registered)`)
		enableProfiling = fs.Bool("enable-pprof", false, "accepted for compatibility; profiling is not served")
		showVersion     = fs.Bool("version", false, "print the version and exit")
	)
	compat.Deprecated(fs, "connection-timeout", "0s")
	compat.RegisterLogFlags(fs)
	flag.Parse()
	if *showVersion {
		fmt.Println(os.Args[0], version, "(volcert, compatible with kubernetes-csi/node-driver-registrar v2)")
		return
	}
	compat.WarnIgnored()
	if *enableProfiling {
		log.Print("--enable-pprof: profiling is not served by volcert's node-driver-registrar")
	}
	if *kubeletPath == "" {
		compat.Fatalf("--kubelet-registration-path is required")
	}
	probeFile := filepath.Join(filepath.Dir(*kubeletPath), "registration")
	switch *mode {
	case modeProbe:
		if _, err := os.Stat(probeFile); err != nil {
			compat.Fatalf("kubelet plugin registration has not succeeded yet: %v", err)
		}
		log.Print("kubelet plugin registration succeeded")
		return
	case modeRegistration:
	default:
		compat.Fatalf("--mode %q: expected %q or %q", *mode, modeRegistration, modeProbe)
	}
	if *healthPort > 0 && *httpEndpoint != "" {
		compat.Fatalf("only one of --health-port and --http-endpoint can be set")
	}
	httpAddr := *httpEndpoint
	if *healthPort > 0 {
		httpAddr = ":" + strconv.Itoa(*healthPort)
	}

	log.Printf("csi-node-driver-registrar %s (volcert), mode %s", version, *mode)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := run(ctx, config{
		csiAddress:      *csiAddress,
		kubeletPath:     *kubeletPath,
		registrationDir: *pluginRegPath,
		probeFile:       probeFile,
		httpAddr:        httpAddr,
		timeout:         *timeout,
		waitLogInterval: 10 * time.Second,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		compat.Fatalf("%v", err)
	}
	log.Print("stopped")
}
