package queued

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTTPTopicAdmin(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	tp, err := d.GetExistingTopic("t")
	if err != nil {
		t.Fatal(err)
	}
	httpPost(t, d, "/topic/pause?topic=t", nil).expect(t, 200, "")
	if !tp.IsPaused() {
		t.Fatal("not paused")
	}
	httpPost(t, d, "/topic/unpause?topic=t", nil).expect(t, 200, "")
	if tp.IsPaused() {
		t.Fatal("still paused")
	}
	httpPost(t, d, "/pub?topic=t", []byte("x")).expect(t, 200, "OK")
	httpPost(t, d, "/topic/empty?topic=t", nil).expect(t, 200, "")
	if n := tp.Depth(); n != 0 {
		t.Fatalf("depth %d after empty", n)
	}
	httpPost(t, d, "/topic/delete?topic=t", nil).expect(t, 200, "")
	if _, err := d.GetExistingTopic("t"); err == nil {
		t.Fatal("topic still there")
	}
	for _, c := range []struct {
		path string
		code int
		msg  string
	}{
		{"/topic/create", 400, "MISSING_ARG_TOPIC"},
		{"/topic/create?topic=a*", 400, "INVALID_TOPIC"},
		{"/topic/create?topic=%zz", 400, "INVALID_REQUEST"},
		{"/topic/delete", 400, "MISSING_ARG_TOPIC"},
		{"/topic/delete?topic=t", 404, "TOPIC_NOT_FOUND"},
		{"/topic/empty", 400, "MISSING_ARG_TOPIC"},
		{"/topic/empty?topic=a*", 400, "INVALID_TOPIC"},
		{"/topic/empty?topic=t", 404, "TOPIC_NOT_FOUND"},
		{"/topic/pause", 400, "MISSING_ARG_TOPIC"},
		{"/topic/pause?topic=t", 404, "TOPIC_NOT_FOUND"},
		{"/topic/unpause?topic=t", 404, "TOPIC_NOT_FOUND"},
	} {
		httpPost(t, d, c.path, nil).expectErr(t, c.code, c.msg)
	}
	httpGet(t, d, "/topic/create?topic=t").expectErr(t, 405, "METHOD_NOT_ALLOWED")
}

func TestHTTPChannelAdmin(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	httpPost(t, d, "/channel/create?topic=t&channel=c", nil).expect(t, 200, "")
	ch := mustChannel(t, d, "t", "c")
	httpPost(t, d, "/channel/pause?topic=t&channel=c", nil).expect(t, 200, "")
	if !ch.IsPaused() {
		t.Fatal("not paused")
	}
	httpPost(t, d, "/channel/unpause?topic=t&channel=c", nil).expect(t, 200, "")
	if ch.IsPaused() {
		t.Fatal("still paused")
	}
	httpPost(t, d, "/pub?topic=t", []byte("x")).expect(t, 200, "OK")
	waitFor(t, "the message in the channel", func() bool { return ch.Depth() == 1 })
	httpPost(t, d, "/channel/empty?topic=t&channel=c", nil).expect(t, 200, "")
	if n := ch.Depth(); n != 0 {
		t.Fatalf("depth %d after empty", n)
	}
	httpPost(t, d, "/channel/delete?topic=t&channel=c", nil).expect(t, 200, "")
	tp, _ := d.GetExistingTopic("t")
	if _, err := tp.GetExistingChannel("c"); err == nil {
		t.Fatal("channel still there")
	}
	for _, op := range []string{"create", "delete", "empty", "pause", "unpause"} {
		for _, c := range []struct {
			query string
			code  int
			msg   string
		}{
			{"", 400, "MISSING_ARG_TOPIC"},
			{"?topic=a*&channel=c", 400, "INVALID_ARG_TOPIC"},
			{"?topic=t", 400, "MISSING_ARG_CHANNEL"},
			{"?topic=t&channel=a*", 400, "INVALID_ARG_CHANNEL"},
			{"?topic=nope&channel=c", 404, "TOPIC_NOT_FOUND"},
		} {
			httpPost(t, d, "/channel/"+op+c.query, nil).expectErr(t, c.code, c.msg)
		}
		if op != "create" {
			httpPost(t, d, "/channel/"+op+"?topic=t&channel=c", nil).expectErr(t, 404, "CHANNEL_NOT_FOUND")
		}
	}
}

func TestHTTPConfig(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.LookupdTCPAddresses = nil })
	for path, want := range map[string]string{
		"/config/nsqlookupd_tcp_addresses": `[]`,
		"/config/log_level":                `5`,
		"/config/max_msg_size":             `1048576`,
		"/config/msg_timeout":              `60000000000`,
		"/config/snappy":                   `true`,
		"/config/tcp_address":              `127.0.0.1:0`, // strings are not quoted, as nsqd's
	} {
		httpGet(t, d, path).expect(t, 200, want)
	}
	put := func(opt, body string) httpResp {
		return httpDo(t, d, "PUT", "/config/"+opt, strings.NewReader(body))
	}
	put("nsqlookupd_tcp_addresses", `["127.0.0.1:4160","lookupd:4160"]`).expect(t, 200, `["127.0.0.1:4160","lookupd:4160"]`)
	if got := d.opts().LookupdTCPAddresses; len(got) != 2 || got[1] != "lookupd:4160" {
		t.Fatalf("options now %v", got)
	}
	put("log_level", "ERROR").expect(t, 200, "4")
	if d.opts().LogLevel != "error" {
		t.Fatalf("log level %q", d.opts().LogLevel)
	}
	put("nsqlookupd_tcp_addresses", `"x"`).expectErr(t, 400, "INVALID_VALUE")
	put("log_level", "loud").expectErr(t, 400, "INVALID_VALUE")
	put("log_level", "").expectErr(t, 413, "INVALID_VALUE")
	put("max_msg_size", "5").expectErr(t, 400, "INVALID_OPTION")
	httpGet(t, d, "/config/log_prefix").expect(t, 200, "[queued] ")
	httpGet(t, d, "/config/nope").expectErr(t, 400, "INVALID_OPTION")
}

// A delete that fails is a failure, 500 with its reason, not a 404 that an
// operator would take for "already deleted"; the topic and channel stay.
func TestHTTPDeleteFailureIsNotNotFound(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	httpPost(t, d, "/channel/create?topic=t&channel=c", nil).expect(t, 200, "")
	// The metadata cannot be saved: its temporary file's name is taken by
	// a directory (which stops root too).
	tmp := filepath.Join(d.opts().DataPath, metadataFile+".tmp")
	if err := os.MkdirAll(filepath.Join(tmp, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/channel/delete?topic=t&channel=c", "/topic/delete?topic=t"} {
		r := httpPost(t, d, path, nil)
		if r.code != 500 || !strings.Contains(r.body, "INTERNAL_ERROR: ") || !strings.Contains(r.body, metadataFile) {
			t.Errorf("%s with the metadata unsaveable: %d %s, want 500 with the reason", path, r.code, r.body)
		}
	}
	if _, err := d.GetExistingTopic("t"); err != nil {
		t.Fatalf("the topic went although its deletion failed: %v", err)
	}
	os.RemoveAll(tmp)
	httpPost(t, d, "/channel/delete?topic=t&channel=c", nil).expect(t, 200, "")
	httpPost(t, d, "/channel/delete?topic=t&channel=c", nil).expectErr(t, 404, "CHANNEL_NOT_FOUND")
	httpPost(t, d, "/topic/delete?topic=t", nil).expect(t, 200, "")
}
