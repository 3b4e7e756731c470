package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"volcert.local/csi-sidecars/internal/compat"
	"volcert.local/csi-sidecars/internal/csiconn"
)

// selfCheckKey marks /healthz's own GetInfo calls, so the log shows only the kubelet's.
const selfCheckKey = "x-volcert-healthz"

// supportedVersions are the CSI versions the kubelet is told the driver speaks (upstream: 1.0.0).
var supportedVersions = []string{"1.0.0"}

type config struct {
	csiAddress      string
	kubeletPath     string
	registrationDir string
	probeFile       string
	httpAddr        string
	timeout         time.Duration
	waitLogInterval time.Duration
	// started, if set, learns the registration socket and the /healthz handler once served (tests).
	started func(socket string, healthz http.Handler)
}

// registrar answers the kubelet's plugin watcher. The kubelet finds <driver>-reg.sock in its
// plugins_registry directory, calls GetInfo, validates the answer and reports the outcome with
// NotifyRegistrationStatus; on success it adds the driver to the node's CSINode object.
type registrar struct {
	registerapi.UnimplementedRegistrationServer
	driver     string
	endpoint   string
	probeFile  string
	registered atomic.Bool
	failed     chan error
}

func (r *registrar) GetInfo(ctx context.Context, _ *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	if md, _ := metadata.FromIncomingContext(ctx); len(md.Get(selfCheckKey)) == 0 {
		compat.Logf(2, "GetInfo from the kubelet: driver %s, endpoint %s", r.driver, r.endpoint)
	}
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              r.driver,
		Endpoint:          r.endpoint,
		SupportedVersions: supportedVersions,
	}, nil
}

func (r *registrar) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if !s.PluginRegistered {
		err := fmt.Errorf("the kubelet refused to register driver %s: %s", r.driver, s.Error)
		select {
		case r.failed <- err:
		default:
		}
		return &registerapi.RegistrationStatusResponse{}, nil
	}
	if !r.registered.Swap(true) {
		log.Printf("registered driver %s with the kubelet (endpoint %s)", r.driver, r.endpoint)
	}
	// Next to --kubelet-registration-path inside this container, where nothing is mounted as a rule.
	err := os.MkdirAll(filepath.Dir(r.probeFile), 0o755)
	if err == nil {
		err = os.WriteFile(r.probeFile, nil, 0o644)
	}
	if err != nil {
		log.Printf("cannot write the registration probe file %s: %v", r.probeFile, err)
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

// run serves the registration socket until ctx ends (nil after cleanup) or the registration
// fails (its error).
func run(ctx context.Context, cfg config) error {
	csiSocket, err := csiconn.SocketPath(cfg.csiAddress)
	if err != nil {
		return err
	}
	driver, err := driverName(ctx, csiSocket, cfg)
	if err != nil {
		return err
	}
	log.Printf("CSI driver %s at %s", driver, csiSocket)
	// A probe file from an earlier run (a host directory mounted at that path) must not pass the probe.
	if err := os.Remove(cfg.probeFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Printf("cannot remove the old registration probe file %s: %v", cfg.probeFile, err)
	}

	socket := filepath.Join(cfg.registrationDir, driver+"-reg.sock")
	listener, err := listen(socket)
	if err != nil {
		return err
	}
	defer func() {
		if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Printf("cannot remove %s: %v", socket, err)
		}
	}()
	reg := &registrar{driver: driver, endpoint: cfg.kubeletPath, probeFile: cfg.probeFile, failed: make(chan error, 1)}
	server := grpc.NewServer()
	registerapi.RegisterRegistrationServer(server, reg)
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	// Gracefully, so the kubelet gets its answer to a NotifyRegistrationStatus that ends the run.
	defer stopWithin(server, 2*time.Second)
	log.Printf("serving the kubelet registration API on %s", socket)

	health := reg.healthz(socket, cfg.timeout)
	httpErr := make(chan error, 1)
	if cfg.httpAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/healthz", health)
		httpServer := &http.Server{Addr: cfg.httpAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { httpErr <- httpServer.ListenAndServe() }()
		defer httpServer.Close()
		log.Printf("serving /healthz on %s", cfg.httpAddr)
	}
	if cfg.started != nil {
		cfg.started(socket, health)
	}

	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-reg.failed:
		return err
	case err := <-serveErr:
		return fmt.Errorf("registration server on %s stopped: %w", socket, err)
	case err := <-httpErr:
		return fmt.Errorf("HTTP server on %s: %w", cfg.httpAddr, err)
	}
}

func stopWithin(server *grpc.Server, limit time.Duration) {
	stopped := make(chan struct{})
	go func() {
		server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(limit):
		server.Stop()
	}
}

// driverName waits (for ever, like upstream) for the driver's socket to answer, then asks its name.
func driverName(ctx context.Context, socket string, cfg config) (string, error) {
	conn, err := csiconn.Dial(socket)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := csiconn.WaitReady(ctx, conn, socket, cfg.waitLogInterval); err != nil {
		return "", err
	}
	return csiconn.DriverName(ctx, conn, cfg.timeout)
}

// listen replaces a stale socket (left by a killed registrar) and listens, readable by root only.
func listen(socket string) (net.Listener, error) {
	if fi, err := os.Lstat(socket); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket: not removing it", socket)
		}
		if err := os.Remove(socket); err != nil {
			return nil, fmt.Errorf("removing the stale socket %s: %w", socket, err)
		}
		log.Printf("removed the stale socket %s", socket)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", socket, err)
	}
	return l, nil
}

// healthz answers 200 once the kubelet accepted the registration and the socket still answers
// GetInfo with this driver's name; 404 without the socket, 503 before the registration, 500 when
// the socket does not answer.
func (r *registrar) healthz(socket string, timeout time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if fi, err := os.Stat(socket); err != nil || fi.Mode()&os.ModeSocket == 0 {
			http.Error(w, fmt.Sprintf("registration socket %s does not exist", socket), http.StatusNotFound)
			return
		}
		if err := checkSocket(req.Context(), socket, r.driver, timeout); err != nil {
			log.Printf("health check failed: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if !r.registered.Load() {
			http.Error(w, fmt.Sprintf("driver %s is not registered with the kubelet yet (serving %s)", r.driver, socket), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
}

func checkSocket(ctx context.Context, socket, driver string, timeout time.Duration) error {
	conn, err := csiconn.Dial(socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, selfCheckKey, "1"), timeout)
	defer cancel()
	info, err := registerapi.NewRegistrationClient(conn).GetInfo(ctx, &registerapi.InfoRequest{})
	if err != nil {
		return fmt.Errorf("registration socket %s does not answer GetInfo: %w", socket, err)
	}
	if info.Name != driver {
		return fmt.Errorf("registration socket %s answers for driver %q, not %q", socket, info.Name, driver)
	}
	return nil
}
