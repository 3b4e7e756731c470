package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"volcert.local/csi-sidecars/internal/csiconn"
	"volcert.local/csi-sidecars/internal/fakecsi"
)

const driver = "vendor.csi.example.com"

type started struct {
	socket  string
	healthz http.Handler
	done    chan error
	cancel  context.CancelFunc
	cfg     config
}

// start runs the registrar against a fake driver and returns once the registration socket serves.
func start(t *testing.T, prepare func(registrationDir string)) *started {
	t.Helper()
	_, csiSocket := fakecsi.Serve(t, driver)
	dir := t.TempDir()
	if prepare != nil {
		prepare(dir)
	}
	s := &started{done: make(chan error, 1)}
	ready := make(chan struct{})
	s.cfg = config{
		csiAddress:      "unix://" + csiSocket,
		kubeletPath:     "/var/lib/kubelet/plugins/" + driver + "/csi.sock",
		registrationDir: dir,
		probeFile:       filepath.Join(t.TempDir(), "plugins", driver, "registration"),
		timeout:         time.Second,
		waitLogInterval: time.Second,
		started: func(socket string, h http.Handler) {
			s.socket, s.healthz = socket, h
			close(ready)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	t.Cleanup(cancel)
	go func() { s.done <- run(ctx, s.cfg) }()
	select {
	case <-ready:
	case err := <-s.done:
		t.Fatalf("registrar ended before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("registrar did not serve its socket within 10s")
	}
	return s
}

func (s *started) kubelet(t *testing.T) registerapi.RegistrationClient {
	t.Helper()
	conn, err := csiconn.Dial(s.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return registerapi.NewRegistrationClient(conn)
}

func (s *started) health(t *testing.T) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.healthz.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return rec.Code, rec.Body.String()
}

func (s *started) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("registrar did not end within 10s")
		return nil
	}
}

func TestRegistersWithTheKubelet(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	if got := filepath.Base(s.socket); got != driver+"-reg.sock" {
		t.Fatalf("socket %s, want <driver>-reg.sock", got)
	}
	kubelet := s.kubelet(t)
	info, err := kubelet.GetInfo(ctx, &registerapi.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != registerapi.CSIPlugin || info.Name != driver || info.Endpoint != s.cfg.kubeletPath ||
		strings.Join(info.SupportedVersions, ",") != "1.0.0" {
		t.Fatalf("GetInfo = %+v", info)
	}
	if code, body := s.health(t); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz before the kubelet's notification: %d %q, want 503", code, body)
	}
	if _, err := os.Stat(s.cfg.probeFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("probe file before registration: %v", err)
	}
	if _, err := kubelet.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{PluginRegistered: true}); err != nil {
		t.Fatal(err)
	}
	if code, body := s.health(t); code != http.StatusOK || body != "ok" {
		t.Fatalf("healthz after registration: %d %q", code, body)
	}
	if _, err := os.Stat(s.cfg.probeFile); err != nil {
		t.Fatalf("probe file after registration: %v", err)
	}
	s.cancel()
	if err := s.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("run after cancel: %v", err)
	}
	if _, err := os.Stat(s.socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}
}

func TestExitsWhenTheKubeletRefuses(t *testing.T) {
	s := start(t, nil)
	_, err := s.kubelet(t).NotifyRegistrationStatus(context.Background(),
		&registerapi.RegistrationStatus{PluginRegistered: false, Error: "unsupported version"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); err == nil || !strings.Contains(err.Error(), "unsupported version") {
		t.Fatalf("run = %v, want the kubelet's error", err)
	}
}

func TestReplacesAStaleSocket(t *testing.T) {
	s := start(t, func(dir string) {
		l, err := net.Listen("unix", filepath.Join(dir, driver+"-reg.sock"))
		if err != nil {
			t.Fatal(err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
	})
	if _, err := s.kubelet(t).GetInfo(context.Background(), &registerapi.InfoRequest{}); err != nil {
		t.Fatalf("GetInfo on the fresh socket: %v", err)
	}
}

func TestRefusesToRemoveARegularFile(t *testing.T) {
	_, csiSocket := fakecsi.Serve(t, driver)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, driver+"-reg.sock"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), config{
		csiAddress: csiSocket, kubeletPath: "/k/csi.sock", registrationDir: dir,
		probeFile: filepath.Join(dir, "registration"), timeout: time.Second, waitLogInterval: time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Fatalf("run = %v", err)
	}
}

func TestHealthzWithoutTheSocket(t *testing.T) {
	s := start(t, nil)
	if err := os.Remove(s.socket); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.health(t); code != http.StatusNotFound {
		t.Fatalf("healthz without the socket: %d, want 404", code)
	}
}
