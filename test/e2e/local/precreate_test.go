package local

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A topic new to a daemon first creates the channels lookupd knows for it,
// as nsqd does, so a consumer group registered elsewhere misses nothing
// published here before it connects.
func TestNewTopicCreatesChannelsLookupdKnows(t *testing.T) {
	t.Parallel()
	l := startLookupd(t)
	for _, path := range []string{"/topic/create?topic=orders", "/channel/create?topic=orders&channel=billing"} {
		resp, err := http.Post("http://"+l.HTTPAddr().String()+path, "", nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s on lookupd: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	d := startQueued(t, nil, l.TCPAddr().String())
	// Wait until queued is connected, so the new topic can ask lookupd.
	post(t, d, "/topic/create?topic=warmup")
	waitFor(t, "queued to register", 5*time.Second, func() bool { return finds(l, d, "warmup") })

	resp, err := http.Post("http://"+d.HTTPAddr().String()+"/pub?topic=orders", "", strings.NewReader("first"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish: %v %v", resp, err)
	}
	resp.Body.Close()
	tp, err := d.GetExistingTopic("orders")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tp.GetExistingChannel("billing")
	if err != nil {
		t.Fatalf("the channel lookupd knows was not created with the topic: %v", err)
	}
	waitFor(t, "the first message in the pre-created channel", 5*time.Second, func() bool { return ch.Depth() == 1 })
}

// PUT /config/nsqlookupd_tcp_addresses registers with the new lookupd at
// once, as nsqd does, without a restart.
func TestPutLookupdAddressesRegistersAtOnce(t *testing.T) {
	t.Parallel()
	l := startLookupd(t)
	d := startQueued(t, nil)
	post(t, d, "/topic/create?topic=moved")
	req, _ := http.NewRequest(http.MethodPut, "http://"+d.HTTPAddr().String()+"/config/nsqlookupd_tcp_addresses",
		strings.NewReader(`["`+l.TCPAddr().String()+`"]`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(t, "the new lookupd to list queued's topic", 5*time.Second, func() bool { return finds(l, d, "moved") })
}
