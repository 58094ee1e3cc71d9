package server

import (
	"net"
	"testing"
	"time"
)

// Connections queued before StopAccepting are still accepted; the socket
// is closed after them, and Accept then waits for Close.
func TestGracefulListenerDrainsTheQueue(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewGracefulListener(inner)
	var clients []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	time.Sleep(20 * time.Millisecond) // the handshakes complete into the queue
	ln.StopAccepting()
	for i := 0; i < 5; i++ {
		c, err := ln.Accept()
		if err != nil {
			t.Fatalf("queued connection %d: %v", i, err)
		}
		c.Close()
	}
	done := make(chan error)
	go func() { _, err := ln.Accept(); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("Accept returned %v before Close", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := net.Dial("tcp", inner.Addr().String()); err == nil {
		t.Fatal("the socket still accepts after the queue was drained")
	}
	ln.Close()
	if err := <-done; err != net.ErrClosed {
		t.Fatalf("Accept after Close: %v", err)
	}
	for _, c := range clients {
		c.Close()
	}
}
