package queued

import (
	"net/http"
	"time"

	"github.com/sidequeue/sidequeue/internal/httpapi"
)

// The HTTP API is nsqd v1.3.0's: the same routes, status codes, bodies and
// headers, so nsqadmin, to_nsq and client libraries cannot tell the
// difference. GET /metrics (Prometheus) is sidequeue's own.

// apiFunc and apiErr are the shared V1 convention's (internal/httpapi),
// named shortly for the many handlers here.
type apiFunc = httpapi.Func

func apiErr(code int, text string) error { return httpapi.Err(code, text) }

func (s *httpServer) httpHandler() http.Handler {
	rt := httpapi.NewRouter(s.requestLog(true), s.d.log.Logf)
	rt.Handle("GET", "/ping", s.plainText(s.doPing, true))
	rt.Handle("GET", "/info", s.v1(s.doInfo, true))
	rt.Handle("POST", "/pub", s.v1(s.doPUB, false))
	rt.Handle("POST", "/mpub", s.v1(s.doMPUB, false))
	rt.Handle("GET", "/stats", s.v1(s.doStats, true))
	rt.Handle("POST", "/topic/create", s.v1(s.doCreateTopic, true))
	rt.Handle("POST", "/topic/delete", s.v1(s.doDeleteTopic, true))
	rt.Handle("POST", "/topic/empty", s.v1(s.doEmptyTopic, true))
	rt.Handle("POST", "/topic/pause", s.v1(s.doPauseTopic, true))
	rt.Handle("POST", "/topic/unpause", s.v1(s.doPauseTopic, true))
	rt.Handle("POST", "/channel/create", s.v1(s.doCreateChannel, true))
	rt.Handle("POST", "/channel/delete", s.v1(s.doDeleteChannel, true))
	rt.Handle("POST", "/channel/empty", s.v1(s.doEmptyChannel, true))
	rt.Handle("POST", "/channel/pause", s.v1(s.doPauseChannel, true))
	rt.Handle("POST", "/channel/unpause", s.v1(s.doPauseChannel, true))
	// A static route such as PUT /config/drain takes precedence over this.
	rt.Handle("PUT", "/config/drain", s.v1(s.doDrain, true))
	rt.Handle("GET", "/config/:opt", s.v1(s.doConfig, true))
	rt.Handle("PUT", "/config/:opt", s.v1(s.doConfig, true))
	rt.Handle("GET", "/metrics", http.HandlerFunc(s.serveMetrics))
	s.debugRoutes(rt)
	return rt
}

// v1 answers as nsqd's V1 API does; logged requests are logged as nsqd
// logs them (nsqd does not log /pub and /mpub).
func (s *httpServer) v1(f apiFunc, logged bool) http.Handler {
	return httpapi.V1(f, s.requestLog(logged))
}

// plainText answers the body as is, errors included (nsqd's /ping).
func (s *httpServer) plainText(f apiFunc, logged bool) http.Handler {
	return httpapi.PlainText(f, s.requestLog(logged))
}

func (s *httpServer) requestLog(logged bool) httpapi.LogFunc {
	if !logged {
		return nil
	}
	return func(r *http.Request, code int, start time.Time) {
		s.d.log.Logf("INFO", "%d %s %s (%s) %s", code, r.Method, r.URL.RequestURI(), r.RemoteAddr, time.Since(start))
	}
}
