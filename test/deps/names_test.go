package deps

import (
	"strconv"
	"testing"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/lookup"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The daemons may not import the API types, nor the API types the
// daemons' packages (the rules above), so each side defines the ports it
// needs; this is where they are held to one value.
func TestPortsAgree(t *testing.T) {
	t.Parallel()
	q, l := queued.NewOptions(), lookup.NewOptions()
	for _, c := range []struct {
		what       string
		addr, want string
	}{
		{"queued --tcp-address", q.TCPAddress, addr(v1alpha1.QueueTCPPort)},
		{"queued --http-address", q.HTTPAddress, addr(v1alpha1.QueueHTTPPort)},
		{"lookupd --tcp-address", l.TCPAddress, addr(v1alpha1.LookupTCPPort)},
		{"lookupd --http-address", l.HTTPAddress, addr(v1alpha1.LookupHTTPPort)},
	} {
		if c.addr != c.want {
			t.Errorf("%s defaults to %s; api/v1alpha1 says %s", c.what, c.addr, c.want)
		}
	}
}

func addr(port int) string { return "0.0.0.0:" + strconv.Itoa(port) }
