package tcpserver

import (
	"net"
	"sync/atomic"
	"testing"
)

func TestCloseAllEndsHandlersAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var running atomic.Int32
	started := make(chan struct{}, 1)
	s := New(func(c net.Conn) {
		running.Add(1)
		defer running.Add(-1)
		started <- struct{}{}
		c.Read(make([]byte, 1)) // until closed
	})
	go s.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-started
	s.CloseAll()
	ln.Close()
	if n := running.Load(); n != 0 {
		t.Fatalf("%d handlers still running after CloseAll", n)
	}
	server, client := net.Pipe()
	defer client.Close()
	s.Handle(server) // after CloseAll: closed at once, handler not run
	if _, err := client.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection handed over after CloseAll was served")
	}
}
