package queued

import (
	"bufio"
	"compress/flate"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

// upgrade switches a test connection's reading and writing to a new stream.
func (c *conn) upgrade(r io.Reader, w io.Writer, flush func() error) {
	c.r = bufio.NewReader(r)
	c.Conn = &rewired{Conn: c.Conn, w: w, flush: flush}
}

type rewired struct {
	net.Conn
	w     io.Writer
	flush func() error
}

func (r *rewired) Write(b []byte) (int, error) {
	n, err := r.w.Write(b)
	if err == nil && r.flush != nil {
		err = r.flush()
	}
	return n, err
}

func TestTLSThenSnappyOrDeflate(t *testing.T) {
	t.Parallel()
	cert, key := selfSignedCert(t)
	d := startDaemon(t, func(o *Options) { o.TLSCert, o.TLSKey = cert, key })
	for _, compression := range []string{"snappy", "deflate"} {
		c := dial(t, d)
		resp := c.identify(map[string]any{"feature_negotiation": true, "tls_v1": true, compression: true})
		var got identifyResponse
		json.Unmarshal(resp, &got)
		if !got.TLSv1 || got.Snappy != (compression == "snappy") || got.Deflate != (compression == "deflate") {
			t.Fatalf("IDENTIFY answered %s", resp)
		}
		tc := tls.Client(c.Conn, &tls.Config{InsecureSkipVerify: true})
		c.upgrade(tc, tc, nil)
		c.expectOK()
		if compression == "snappy" {
			sw := snappy.NewBufferedWriter(tc)
			c.upgrade(snappy.NewReader(tc), sw, sw.Flush)
		} else {
			fw, _ := flate.NewWriter(tc, 6)
			c.upgrade(flate.NewReader(tc), fw, fw.Flush)
		}
		c.expectOK()
		c.cmd("PUB t", []byte("secret"))
		c.expectOK()
	}
}

func TestTLSRequiredRefusesPlainCommands(t *testing.T) {
	t.Parallel()
	cert, key := selfSignedCert(t)
	d := startDaemon(t, func(o *Options) { o.TLSCert, o.TLSKey, o.TLSRequired = cert, key, TLSRequired })
	c := dial(t, d)
	c.cmd("PUB t", []byte("x"))
	c.expectError("E_INVALID cannot PUB in current state (TLS required)")
	c.expectClosed()
}

func TestAuth(t *testing.T) {
	t.Parallel()
	authd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/auth" || r.URL.Query().Get("secret") != "open-sesame" {
			w.Write([]byte(`{"ttl":60,"authorizations":[]}`))
			return
		}
		w.Write([]byte(`{"ttl":60,"identity":"alice","authorizations":[{"topic":"^t$","channels":[".*"],"permissions":["publish","subscribe"]}]}`))
	}))
	t.Cleanup(authd.Close)
	d := startDaemon(t, func(o *Options) { o.AuthHTTPAddresses = []string{strings.TrimPrefix(authd.URL, "http://")} })

	early := dial(t, d)
	early.cmd("PUB t", []byte("x"))
	early.expectError("E_AUTH_FIRST AUTH required before PUB")
	early.expectClosed()

	denied := dial(t, d)
	denied.cmd("AUTH", []byte("wrong"))
	denied.expectError("E_UNAUTHORIZED AUTH no authorizations found")

	c := dial(t, d)
	if resp := c.identify(map[string]any{"feature_negotiation": true}); !strings.Contains(string(resp), `"auth_required":true`) {
		t.Fatalf("IDENTIFY answered %s", resp)
	}
	c.cmd("AUTH", []byte("open-sesame"))
	if resp := c.expect(0); string(resp) != `{"identity":"alice","identity_url":"","permission_count":1}` {
		t.Fatalf("AUTH answered %s", resp)
	}
	c.cmd("PUB t", []byte("x"))
	c.expectOK()
	c.cmd("PUB other", []byte("x"))
	c.expectError(`E_UNAUTHORIZED AUTH failed for PUB on "other" ""`)
}
