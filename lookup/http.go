package lookup

import (
	"net/http"
	"sync"
	"time"

	"github.com/sidequeue/sidequeue/internal/httpapi"
	"github.com/sidequeue/sidequeue/internal/logging"
	"github.com/sidequeue/sidequeue/internal/version"
)

// The HTTP API is nsqlookupd v1.3.0's: the same routes, status codes,
// bodies and headers, so consumers and nsqadmin cannot tell the
// difference. GET /metrics (Prometheus) is sidequeue's own.

func (l *Lookupd) httpHandler() http.Handler {
	log := l.requestLog()
	rt := httpapi.NewRouter(log, l.log.Logf)
	rt.Handle("GET", "/ping", httpapi.PlainText(l.doPing, log))
	rt.Handle("GET", "/info", httpapi.V1(l.doInfo, log))
	rt.Handle("GET", "/debug", httpapi.V1(l.doDebug, log))
	rt.Handle("GET", "/lookup", l.serveLookup(log))
	rt.Handle("GET", "/topics", httpapi.V1(l.doTopics, log))
	rt.Handle("GET", "/channels", httpapi.V1(l.doChannels, log))
	rt.Handle("GET", "/nodes", httpapi.V1(l.doNodes, log))
	rt.Handle("POST", "/topic/create", httpapi.V1(l.doCreateTopic, log))
	rt.Handle("POST", "/topic/delete", httpapi.V1(l.doDeleteTopic, log))
	rt.Handle("POST", "/channel/create", httpapi.V1(l.doCreateChannel, log))
	rt.Handle("POST", "/channel/delete", httpapi.V1(l.doDeleteChannel, log))
	rt.Handle("POST", "/topic/tombstone", httpapi.V1(l.doTombstone, log))
	rt.Handle("GET", "/metrics", http.HandlerFunc(l.serveMetrics))
	httpapi.PprofRoutes(rt, "/debug/pprof") // nsqlookupd's index path, without the slash
	return rt
}

// requestLog logs every request at INFO, as nsqlookupd does; nil when INFO
// is filtered out, so the hot path does not even format the line.
func (l *Lookupd) requestLog() httpapi.LogFunc {
	if !l.log.Enabled(logging.Info) {
		return nil
	}
	return func(r *http.Request, code int, start time.Time) {
		l.log.Logf("INFO", "%d %s %s (%s) %s", code, r.Method, r.URL.RequestURI(), r.RemoteAddr, time.Since(start))
	}
}

func (l *Lookupd) doPing(w http.ResponseWriter, r *http.Request) (any, error) {
	return "OK", nil
}

func (l *Lookupd) doInfo(w http.ResponseWriter, r *http.Request) (any, error) {
	return struct {
		Version string `json:"version"` // nsqlookupd's, which tools read
		// SidequeueVersion is the product's: "sidequeue 1.2.3 (0a1b2c3)".
		SidequeueVersion string `json:"sidequeue_version"`
	}{Version, version.String()}, nil
}

func (l *Lookupd) doDebug(w http.ResponseWriter, r *http.Request) (any, error) {
	return l.db.debug(), nil
}

func (l *Lookupd) doTopics(w http.ResponseWriter, r *http.Request) (any, error) {
	return map[string][]string{"topics": l.db.topicNames()}, nil
}

func (l *Lookupd) doChannels(w http.ResponseWriter, r *http.Request) (any, error) {
	q, err := httpapi.Query(r)
	if err != nil {
		return nil, err
	}
	topic, err := httpapi.Arg(q, "topic", "MISSING_ARG_TOPIC")
	if err != nil {
		return nil, err
	}
	return map[string][]string{"channels": l.db.channelNames(topic)}, nil
}

// lookupBufs recycles /lookup's answer buffers: the answer is built per
// request, and allocating it each time would dominate the hot path.
var lookupBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// serveLookup answers which producers serve a topic. It is a handler of
// its own, not an httpapi.Func, so the pooled buffer goes back to the pool
// only once the answer is written.
func (l *Lookupd) serveLookup(log httpapi.LogFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		bp := lookupBufs.Get().(*[]byte)
		defer lookupBufs.Put(bp)
		code, data := 200, any(nil)
		topic, err := lookupTopic(r)
		if err == nil {
			var found bool
			*bp, found = l.db.appendLookup((*bp)[:0], topic, start.UnixNano(),
				l.opts.InactiveProducerTimeout, l.opts.TombstoneLifetime)
			data = httpapi.JSON(*bp)
			if !found {
				err = httpapi.Err(404, "TOPIC_NOT_FOUND")
			}
		}
		l.lookups.Add(1)
		if e, ok := err.(*httpapi.Error); ok {
			code, data = e.Code, e
		}
		httpapi.RespondV1(w, code, data)
		if log != nil {
			log(r, code, start)
		}
	}
}

// lookupTopic reads /lookup's topic without building url.Values when the
// query is just "topic=<name>", the only form consumers send.
func lookupTopic(r *http.Request) (string, error) {
	raw := r.URL.RawQuery
	if len(raw) > 6 && raw[:6] == "topic=" && plainQueryValue(raw[6:]) {
		return raw[6:], nil
	}
	q, err := httpapi.Query(r)
	if err != nil {
		return "", err
	}
	return httpapi.Arg(q, "topic", "MISSING_ARG_TOPIC")
}

// plainQueryValue reports whether s decodes to itself: no escapes, no
// '+', no further parameters.
func plainQueryValue(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%', '+', '&', ';':
			return false
		}
	}
	return true
}

func (l *Lookupd) doNodes(w http.ResponseWriter, r *http.Request) (any, error) {
	now := time.Now().UnixNano()
	return map[string][]*node{
		"producers": l.db.nodes(now, l.opts.InactiveProducerTimeout, l.opts.TombstoneLifetime),
	}, nil
}
