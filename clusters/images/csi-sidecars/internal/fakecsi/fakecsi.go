// Package fakecsi is a CSI identity service on a unix socket, for the sidecars' tests.
package fakecsi

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Driver answers GetPluginInfo with Name and Probe with Ready.
type Driver struct {
	csi.UnimplementedIdentityServer
	Name  string
	Ready atomic.Bool
}

func (d *Driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.Name, VendorVersion: "test"}, nil
}

func (d *Driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{Ready: wrapperspb.Bool(d.Ready.Load())}, nil
}

// Serve starts a ready driver on <t.TempDir()>/csi.sock, stopped when the test ends.
func Serve(t *testing.T, name string) (*Driver, string) {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "csi.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	d := &Driver{Name: name}
	d.Ready.Store(true)
	s := grpc.NewServer()
	csi.RegisterIdentityServer(s, d)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return d, socket
}
