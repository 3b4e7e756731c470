package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"volcert.local/csi-sidecars/internal/fakecsi"
)

func get(h http.Handler) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return rec.Code, rec.Body.String()
}

func TestHealthzFollowsProbe(t *testing.T) {
	d, socket := fakecsi.Serve(t, "vendor.csi.example.com")
	name, err := driverName(socket, time.Second)
	if err != nil || name != "vendor.csi.example.com" {
		t.Fatalf("driverName = %q, %v", name, err)
	}
	h := healthz(socket, name, time.Second)
	if code, body := get(h); code != http.StatusOK || body != "ok" {
		t.Fatalf("ready driver: %d %q", code, body)
	}
	d.Ready.Store(false)
	if code, body := get(h); code != http.StatusInternalServerError || !strings.Contains(body, "not ready") {
		t.Fatalf("driver not ready: %d %q", code, body)
	}
}

func TestHealthzWithoutADriver(t *testing.T) {
	h := healthz(filepath.Join(t.TempDir(), "csi.sock"), "gone", 200*time.Millisecond)
	if code, body := get(h); code != http.StatusInternalServerError || !strings.Contains(body, "Probe") {
		t.Fatalf("no driver: %d %q", code, body)
	}
}
