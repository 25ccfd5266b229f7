package queued

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

func TestHTTPPub(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	httpPost(t, d, "/pub?topic=t", []byte("hello")).expect(t, 200, "OK")
	sub.cmd("RDY 1")
	if m := sub.message(); m.body != "hello" || m.attempts != 1 {
		t.Fatalf("got %+v", m)
	}
	tp, _ := d.GetExistingTopic("t")
	if tp.messageCount.Load() != 1 || tp.messageBytes.Load() != 5 {
		t.Fatalf("topic counts %d %d", tp.messageCount.Load(), tp.messageBytes.Load())
	}
}

// chunked hides a body's length, so it is sent without Content-Length.
type chunked struct{ r *bytes.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestHTTPPubErrors(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MaxMsgSize = 10; o.MaxReqTimeout = time.Second })
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/pub", "x", 400, "MISSING_ARG_TOPIC"},
		{"/pub?topic=a/b", "x", 400, "INVALID_TOPIC"},
		{"/pub?topic=t", "", 400, "MSG_EMPTY"},
		{"/pub?topic=t", "01234567890", 413, "MSG_TOO_BIG"},
		{"/pub?topic=t&defer=x", "x", 400, "INVALID_DEFER"},
		{"/pub?topic=t&defer=-1", "x", 400, "INVALID_DEFER"},
		{"/pub?topic=t&defer=1001", "x", 400, "INVALID_DEFER"},
		{"/pub?topic=t&x=%zz", "x", 400, "INVALID_REQUEST"},
	} {
		httpPost(t, d, c.path, []byte(c.body)).expectErr(t, c.code, c.msg)
	}
	r := httpDo(t, d, "POST", "/pub?topic=t", chunked{bytes.NewReader([]byte("0123456789abc"))})
	r.expectErr(t, 413, "MSG_TOO_BIG")
	httpDo(t, d, "POST", "/pub?topic=t", chunked{bytes.NewReader([]byte("0123456789"))}).expect(t, 200, "OK")
	if tp, _ := d.GetExistingTopic("t"); tp.messageCount.Load() != 1 {
		t.Fatalf("message count %d, want 1", tp.messageCount.Load())
	}
}

func TestHTTPPubDefer(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	sub.cmd("RDY 1")
	start := time.Now()
	httpPost(t, d, "/pub?topic=t&defer=300", []byte("later")).expect(t, 200, "OK")
	ch := mustChannel(t, d, "t", "c")
	waitFor(t, "the message deferred", func() bool { return ch.deferredCount() == 1 })
	m := sub.message()
	if elapsed := time.Since(start); m.body != "later" || elapsed < 300*time.Millisecond {
		t.Fatalf("got %q after %v, want it after 300ms", m.body, elapsed)
	}
}

func TestHTTPPubWhileDraining(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	d.drain.mode.Store(true)
	httpPost(t, d, "/pub?topic=t", []byte("x")).expectErr(t, 503, "EXITING")
	httpPost(t, d, "/mpub?topic=t", []byte("x\ny")).expectErr(t, 503, "EXITING")
	httpPost(t, d, "/mpub?topic=t&binary=true", mpubBody("x")).expectErr(t, 503, "EXITING")
	if _, err := d.GetExistingTopic("t"); err == nil {
		t.Fatal("a draining daemon created the topic")
	}
}

func TestHTTPMpubText(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	httpPost(t, d, "/mpub?topic=t", []byte("a\nb\n\nc")).expect(t, 200, "OK")
	httpPost(t, d, "/mpub?topic=t&binary=false", []byte("d\n")).expect(t, 200, "OK")
	sub.cmd("RDY 10")
	var got []string
	for range 4 {
		got = append(got, sub.message().body)
	}
	if strings.Join(got, ",") != "a,b,c,d" {
		t.Fatalf("got %v", got)
	}
}

func TestHTTPMpubTextErrors(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MaxMsgSize = 4; o.MaxBodySize = 12 })
	httpPost(t, d, "/mpub?topic=t", []byte("a\n12345\nb")).expectErr(t, 413, "MSG_TOO_BIG")
	httpPost(t, d, "/mpub?topic=t", []byte("1234\n1234\n1234")).expectErr(t, 413, "BODY_TOO_BIG")
	r := httpDo(t, d, "POST", "/mpub?topic=t", chunked{bytes.NewReader([]byte("1234\n1234\n1234"))})
	r.expectErr(t, 413, "BODY_TOO_BIG")
	httpPost(t, d, "/mpub", []byte("a")).expectErr(t, 400, "MISSING_ARG_TOPIC")
	httpPost(t, d, "/mpub?topic=", []byte("a")).expectErr(t, 400, "INVALID_TOPIC")
	if tp, _ := d.GetExistingTopic("t"); tp.messageCount.Load() != 0 {
		t.Fatalf("a refused batch published %d messages", tp.messageCount.Load())
	}
}

// mpubBody frames messages as binary /mpub takes them.
func mpubBody(msgs ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(msgs)))
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(m)))
		b = append(b, m...)
	}
	return b
}

func TestHTTPMpubBinary(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MaxMsgSize = 8 })
	sub := subscribe(t, d, "t", "c")
	httpPost(t, d, "/mpub?topic=t&binary=true", []byte{}).expectErr(t, 413, "BAD_BODY")
	httpPost(t, d, "/mpub?topic=t&binary=1", mpubBody("x\ny", "z")).expect(t, 200, "OK")
	httpPost(t, d, "/mpub?topic=t&binary=yes", mpubBody("w")).expect(t, 200, "OK") // nsqd: unknown means true
	sub.cmd("RDY 10")
	for _, want := range []string{"x\ny", "z", "w"} {
		if m := sub.message(); m.body != want {
			t.Fatalf("got %q, want %q", m.body, want)
		}
	}
	for _, c := range []struct {
		body []byte
		msg  string
	}{
		{[]byte{0, 0, 0, 0}, "BAD_BODY"},
		{mpubBody("a", ""), "BAD_MESSAGE"},
		{mpubBody("123456789"), "BAD_MESSAGE"},
		{mpubBody("abc")[:6], "BAD_MESSAGE"},
		{append([]byte{0, 0, 0, 2}, mpubBody("abc")[4:]...), "BAD_MESSAGE"},
	} {
		httpPost(t, d, "/mpub?topic=t&binary=true", c.body).expectErr(t, 413, c.msg)
	}
}
