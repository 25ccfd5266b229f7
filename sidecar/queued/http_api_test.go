package queued

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/version"
)

// httpResp is a response read whole.
type httpResp struct {
	code   int
	body   string
	header http.Header
}

var noRedirects = &http.Client{
	Timeout:       20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// httpDo sends a request to the daemon's HTTP API. A body of type
// io.Reader other than *bytes.Reader is sent chunked (no Content-Length).
func httpDo(t testing.TB, d *Daemon, method, path string, body io.Reader) httpResp {
	t.Helper()
	r, err := tryRequest(noRedirects, method, "http://"+d.HTTPAddr().String()+path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// tryRequest sends a request with client and reads the answer whole.
func tryRequest(client *http.Client, method, url string, body io.Reader) (httpResp, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return httpResp{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return httpResp{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpResp{}, fmt.Errorf("reading body: %w", err)
	}
	return httpResp{resp.StatusCode, string(b), resp.Header}, nil
}

func httpGet(t testing.TB, d *Daemon, path string) httpResp {
	t.Helper()
	return httpDo(t, d, "GET", path, nil)
}

func httpPost(t testing.TB, d *Daemon, path string, body []byte) httpResp {
	t.Helper()
	return httpDo(t, d, "POST", path, bytes.NewReader(body))
}

// expect checks a response's code and body, and the V1 header.
func (r httpResp) expect(t testing.TB, code int, body string) {
	t.Helper()
	if r.code != code || r.body != body {
		t.Fatalf("got %d %q, want %d %q", r.code, r.body, code, body)
	}
	if r.header.Get("X-NSQ-Content-Type") != "nsq; version=1.0" {
		t.Fatalf("X-NSQ-Content-Type %q", r.header.Get("X-NSQ-Content-Type"))
	}
}

// expectErr checks a V1 error: its code and {"message":"..."} body.
func (r httpResp) expectErr(t testing.TB, code int, message string) {
	t.Helper()
	r.expect(t, code, `{"message":"`+message+`"}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("error Content-Type %q", ct)
	}
}

func TestHTTPPing(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	r := httpGet(t, d, "/ping")
	if r.code != 200 || r.body != "OK" || r.header.Get("X-NSQ-Content-Type") != "" {
		t.Fatalf("/ping: %d %q %v", r.code, r.body, r.header)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("/ping Content-Type %q", ct)
	}
}

func TestHTTPRouting(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	httpGet(t, d, "/nope").expectErr(t, 404, "NOT_FOUND")
	httpGet(t, d, "/config/a/b").expectErr(t, 404, "NOT_FOUND")

	r := httpPost(t, d, "/ping", nil)
	r.expectErr(t, 405, "METHOD_NOT_ALLOWED")
	if a := r.header.Get("Allow"); a != "GET, OPTIONS" {
		t.Fatalf("Allow %q", a)
	}
	if r := httpDo(t, d, "HEAD", "/ping", nil); r.code != 405 {
		t.Fatalf("HEAD /ping: %d, want 405 as nsqd", r.code)
	}
	if r := httpDo(t, d, "DELETE", "/config/log_level", nil); r.header.Get("Allow") != "GET, OPTIONS, PUT" {
		t.Fatalf("DELETE /config/x: %d Allow %q", r.code, r.header.Get("Allow"))
	}
	r = httpDo(t, d, "OPTIONS", "/topic/create", nil)
	if r.code != 200 || r.header.Get("Allow") != "OPTIONS, POST" {
		t.Fatalf("OPTIONS: %d Allow %q", r.code, r.header.Get("Allow"))
	}

	for _, c := range []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/ping/", 301, "/ping"},
		{"GET", "/PING", 301, "/ping"},
		{"GET", "/stats/?format=json", 301, "/stats?format=json"},
		{"POST", "/pub/?topic=t", 307, "/pub?topic=t"},
		{"GET", "/debug/pprof", 301, "/debug/pprof/"},
		{"GET", "/config/log_level/", 301, "/config/log_level"},
	} {
		r := httpDo(t, d, c.method, c.path, nil)
		if r.code != c.code || r.header.Get("Location") != c.location {
			t.Errorf("%s %s: %d Location %q, want %d %q", c.method, c.path, r.code, r.header.Get("Location"), c.code, c.location)
		}
	}
}

func TestHTTPInfo(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.BroadcastAddress = "node-a" })
	r := httpGet(t, d, "/info")
	if r.code != 200 || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("/info: %d %v", r.code, r.header)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(r.body), &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version":                   "1.3.0",
		"broadcast_address":         "node-a",
		"tcp_port":                  float64(d.TCPAddr().Port),
		"http_port":                 float64(d.HTTPAddr().Port),
		"start_time":                float64(d.startTime.Unix()),
		"max_heartbeat_interval":    float64(60 * time.Second),
		"max_output_buffer_size":    float64(64 * 1024),
		"max_output_buffer_timeout": float64(30 * time.Second),
		"max_deflate_level":         float64(6),
		"sidequeue_version":         version.String(), // nsqd's stays in "version"
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("%s = %v, want %v", k, info[k], v)
		}
	}
	if h, _ := info["hostname"].(string); h == "" || len(info) != 11 {
		t.Errorf("hostname %q, %d fields: %s", h, len(info), r.body)
	}
}

func TestHTTPDebug(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	if r := httpGet(t, d, "/debug/pprof/"); r.code != 200 || !strings.Contains(r.body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d", r.code)
	}
	if r := httpGet(t, d, "/debug/pprof/goroutine?debug=1"); r.code != 200 {
		t.Fatalf("goroutine profile: %d", r.code)
	}
	if r := httpDo(t, d, "PUT", "/debug/setblockrate?rate=x", nil); r.code != 400 || !strings.HasPrefix(r.body, "invalid block rate") {
		t.Fatalf("setblockrate: %d %q", r.code, r.body)
	}
}
