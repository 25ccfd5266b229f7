package queued

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startHTTPS runs a daemon serving HTTPS with a certificate that ca signed.
func startHTTPS(t *testing.T, ca *testCA, mutate func(*Options)) *Daemon {
	t.Helper()
	cert, key := ca.issue(t, "queued")
	return startDaemon(t, func(o *Options) {
		o.TLSCert, o.TLSKey = cert, key
		if mutate != nil {
			mutate(o)
		}
	})
}

// httpsClient verifies the daemon's certificate against ca, as a real
// client does, and presents cert, if given, whichever CAs the daemon says
// it accepts (Go's client would send none that it does not name).
func httpsClient(t *testing.T, ca *testCA, cert ...tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: ca.pool()}
	if len(cert) > 0 {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert[0], nil }
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func httpsURL(d *Daemon, path string) string { return "https://" + d.HTTPSAddr().String() + path }

func httpsGet(t *testing.T, c *http.Client, d *Daemon, path string) httpResp {
	t.Helper()
	r, err := tryRequest(c, "GET", httpsURL(d, path), nil)
	if err != nil {
		t.Fatalf("GET %s over HTTPS: %v", path, err)
	}
	return r
}

func TestHTTPSServesTheHTTPAPI(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "queued-test-ca")
	d := startHTTPS(t, ca, nil)
	c := httpsClient(t, ca)
	httpsGet(t, c, d, "/ping").expectPing(t)
	r, err := tryRequest(c, "POST", httpsURL(d, "/pub?topic=t"), strings.NewReader("secret"))
	if err != nil {
		t.Fatal(err)
	}
	r.expect(t, 200, "OK")
	waitFor(t, "the message published over HTTPS in topic t", func() bool {
		topic, err := d.GetExistingTopic("t")
		return err == nil && topic.Depth() == 1
	})
	httpsGet(t, c, d, "/config/https_address").expect(t, 200, "127.0.0.1:0")
	// The same handlers on both listeners; without --tls-required plain HTTP serves too.
	if plain, secure := httpGet(t, d, "/info"), httpsGet(t, c, d, "/info"); plain.code != 200 || plain.body != secure.body {
		t.Fatalf("GET /info: HTTP %d %s, HTTPS %d %s", plain.code, plain.body, secure.code, secure.body)
	}
}

// As nsqd: HTTPS is served only with a certificate and key, and an address
// it cannot bind is a start-up error that names the flag.
func TestHTTPSListensOnlyWithCertAndKey(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if d := newDaemon(t, func(o *Options) { o.HTTPSAddress = taken.Addr().String() }); d.HTTPSAddr() != nil {
		t.Fatalf("HTTPS served on %s without a certificate", d.HTTPSAddr())
	}
	cert, key := selfSignedCert(t)
	o := testOptions(t, func(o *Options) { o.TLSCert, o.TLSKey, o.HTTPSAddress = cert, key, taken.Addr().String() })
	d, err := New(o)
	if err == nil {
		d.Exit()
		t.Fatal("New bound an HTTPS address already taken")
	}
	if want := "listen on --https-address " + taken.Addr().String(); !strings.Contains(err.Error(), want) {
		t.Fatalf("New: %v; want it to say %q", err, want)
	}
	// Nothing is left held: the data path can be claimed again.
	o.HTTPSAddress = "127.0.0.1:0"
	d, err = New(o)
	if err != nil {
		t.Fatalf("New after a failed start: %v", err)
	}
	d.Exit()
}

// Client certificates on HTTPS are what --tls-client-auth-policy says, as
// on TCP: require takes any, require-verify only one --tls-root-ca-file signed.
func TestHTTPSClientCertificatePolicies(t *testing.T) {
	t.Parallel()
	ca, stranger := newTestCA(t, "queued-test-ca"), newTestCA(t, "stranger-ca")
	clientCert, clientKey := ca.issue(t, "client")
	clients := map[string][]tls.Certificate{
		"no client certificate":                   nil,
		"another CA's certificate":                {stranger.keyPair(t)},
		"a certificate --tls-root-ca-file signed": {loadKeyPair(t, clientCert, clientKey)},
	}
	for policy, accepts := range map[string]map[string]bool{
		// No policy: nsqd asks for no certificate, so none is checked.
		"":               {"no client certificate": true, "another CA's certificate": true, "a certificate --tls-root-ca-file signed": true},
		"require":        {"no client certificate": false, "another CA's certificate": true, "a certificate --tls-root-ca-file signed": true},
		"require-verify": {"no client certificate": false, "another CA's certificate": false, "a certificate --tls-root-ca-file signed": true},
	} {
		t.Run("policy="+policy, func(t *testing.T) {
			t.Parallel()
			d := startHTTPS(t, ca, func(o *Options) { o.TLSClientAuthPolicy, o.TLSRootCAFile = policy, ca.certFile })
			for client, accepted := range accepts {
				expectPing(t, d, httpsClient(t, ca, clients[client]...), client, accepted)
			}
		})
	}
}

// expectPing checks that GET /ping over HTTPS is answered OK, or that the
// TLS handshake refuses the client.
func expectPing(t *testing.T, d *Daemon, c *http.Client, client string, accepted bool) {
	t.Helper()
	r, err := tryRequest(c, "GET", httpsURL(d, "/ping"), nil)
	switch {
	case accepted && err != nil:
		t.Errorf("%s refused: %v", client, err)
	case accepted:
		r.expectPing(t)
	case !accepted && err == nil:
		t.Errorf("%s accepted: GET /ping answered %d %q", client, r.code, r.body)
	}
}

// --tls-required=true: the plain HTTP listener answers everything 403
// TLS_REQUIRED with the HTTPS port, as nsqd, and HTTPS serves.
func TestTLSRequiredRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "queued-test-ca")
	d := startHTTPS(t, ca, func(o *Options) { o.TLSRequired = TLSRequired })
	want := fmt.Sprintf(`{"message": "TLS_REQUIRED", "https_port": %d}`, d.HTTPSAddr().Port)
	for _, r := range []httpResp{httpGet(t, d, "/ping"), httpPost(t, d, "/pub?topic=t", []byte("x")), httpGet(t, d, "/no/such/path")} {
		r.expect(t, 403, want)
		if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
	}
	httpsGet(t, httpsClient(t, ca), d, "/ping").expectPing(t)
	if _, err := d.GetExistingTopic("t"); err == nil {
		t.Fatal("a refused plain HTTP publish created its topic")
	}
}

// Without an HTTPS listener the refusal names port 0, as nsqd's does.
func TestTLSRequiredWithoutHTTPSNamesPortZero(t *testing.T) {
	t.Parallel()
	cert, key := selfSignedCert(t)
	d := startDaemon(t, func(o *Options) { o.TLSCert, o.TLSKey, o.TLSRequired, o.HTTPSAddress = cert, key, TLSRequired, "" })
	if d.HTTPSAddr() != nil {
		t.Fatalf("HTTPS served on %s with --https-address empty", d.HTTPSAddr())
	}
	httpGet(t, d, "/ping").expect(t, 403, `{"message": "TLS_REQUIRED", "https_port": 0}`)
}

// --tls-required=tcp-https: TCP clients must use TLS; plain HTTP serves.
func TestTLSRequiredTCPHTTPSServesPlainHTTP(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "queued-test-ca")
	d := startHTTPS(t, ca, func(o *Options) { o.TLSRequired = TLSRequiredExceptHTTP })
	httpPost(t, d, "/pub?topic=t", []byte("x")).expect(t, 200, "OK")
	httpsGet(t, httpsClient(t, ca), d, "/ping").expectPing(t)
	c := dial(t, d)
	c.cmd("PUB t", []byte("x"))
	c.expectError("E_INVALID cannot PUB in current state (TLS required)")
}

// The exit closes the HTTPS listener with the others, and Main returns.
func TestHTTPSClosedOnExit(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "queued-test-ca")
	cert, key := ca.issue(t, "queued")
	d := newDaemon(t, func(o *Options) { o.TLSCert, o.TLSKey = cert, key })
	done := make(chan error, 1)
	go func() { done <- d.Main() }()
	httpsGet(t, httpsClient(t, ca), d, "/ping").expectPing(t)
	d.Exit()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return within 10s of Exit")
	}
	if c, err := net.DialTimeout("tcp", d.HTTPSAddr().String(), 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("HTTPS address %s still accepts after Exit", d.HTTPSAddr())
	}
}

// expectPing checks nsqd's answer to a healthy GET /ping: 200, plain "OK".
func (r httpResp) expectPing(t testing.TB) {
	t.Helper()
	if r.code != 200 || r.body != "OK" {
		t.Fatalf("GET /ping answered %d %q, want 200 OK", r.code, r.body)
	}
}

// As nsqd: a client certificate policy makes TLS required, on TCP and plain
// HTTP alike; and requiring TLS without a certificate and key is refused at
// start, naming both ways out.
func TestTLSRequirementFollowsNSQD(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "queued-test-ca")
	d := startHTTPS(t, ca, func(o *Options) { o.TLSClientAuthPolicy = "require" })
	httpGet(t, d, "/ping").expect(t, 403, fmt.Sprintf(`{"message": "TLS_REQUIRED", "https_port": %d}`, d.HTTPSAddr().Port))

	for _, mutate := range []func(*Options){
		func(o *Options) { o.TLSRequired = TLSRequiredExceptHTTP },
		func(o *Options) { o.TLSClientAuthPolicy = "require-verify" },
	} {
		_, err := New(testOptions(t, mutate))
		if err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key") {
			t.Fatalf("TLS required without a certificate: %v, want an error naming --tls-cert and --tls-key", err)
		}
	}
}
