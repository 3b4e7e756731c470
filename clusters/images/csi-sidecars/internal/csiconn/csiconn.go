// Package csiconn connects the sidecars to the CSI driver's unix socket, the way
// kubernetes-csi/csi-lib-utils does for upstream sidecars: --csi-address is a path or a
// unix:// URL, and a sidecar started before its driver waits for the socket to answer.
package csiconn

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// SocketPath turns a --csi-address (/csi/csi.sock, unix:///csi/csi.sock, unix:/csi/csi.sock)
// into the socket's path. Other schemes are refused: a CSI driver listens on a unix socket.
func SocketPath(address string) (string, error) {
	path := address
	switch {
	case strings.HasPrefix(address, "unix://"):
		path = strings.TrimPrefix(address, "unix://")
	case strings.HasPrefix(address, "unix:"):
		path = strings.TrimPrefix(address, "unix:")
	case strings.Contains(address, "://"):
		return "", fmt.Errorf("--csi-address %q: only unix sockets are supported (a path or unix:///path)", address)
	}
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("--csi-address %q: expected an absolute socket path", address)
	}
	return path, nil
}

// Dial returns a connection to the socket at path. No I/O happens until it is used; the
// reconnect backoff is capped at a second so a restarted driver is found again at once.
func Dial(path string) (*grpc.ClientConn, error) {
	params := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: time.Second}
	params.Backoff.MaxDelay = time.Second
	return grpc.NewClient("unix://"+path,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(params),
	)
}

// WaitReady blocks until conn is connected or ctx ends, saying every logEvery what it waits for.
func WaitReady(ctx context.Context, conn *grpc.ClientConn, path string, logEvery time.Duration) error {
	conn.Connect()
	started := time.Now()
	next := started.Add(logEvery)
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if time.Now().After(next) {
			log.Printf("still waiting for the CSI driver at %s after %s (connection %s)", path, time.Since(started).Round(time.Second), s)
			next = time.Now().Add(logEvery)
		}
		wait, cancel := context.WithTimeout(ctx, logEvery)
		conn.WaitForStateChange(wait, s)
		cancel()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("the CSI driver at %s did not answer within %s (connection %s)", path, time.Since(started).Round(time.Second), conn.GetState())
		}
	}
}

// DriverName asks the driver its name (GetPluginInfo), within timeout.
func DriverName(ctx context.Context, conn *grpc.ClientConn, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	info, err := csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{})
	if err != nil {
		return "", fmt.Errorf("GetPluginInfo: %w", err)
	}
	if info.GetName() == "" {
		return "", fmt.Errorf("GetPluginInfo returned an empty driver name")
	}
	return info.GetName(), nil
}
