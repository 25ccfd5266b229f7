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

func (d *Daemon) httpHandler() http.Handler {
	rt := httpapi.NewRouter(d.requestLog(true), d.logf)
	rt.Handle("GET", "/ping", d.plainText(d.doPing, true))
	rt.Handle("GET", "/info", d.v1(d.doInfo, true))
	rt.Handle("POST", "/pub", d.v1(d.doPUB, false))
	rt.Handle("POST", "/mpub", d.v1(d.doMPUB, false))
	rt.Handle("GET", "/stats", d.v1(d.doStats, true))
	rt.Handle("POST", "/topic/create", d.v1(d.doCreateTopic, true))
	rt.Handle("POST", "/topic/delete", d.v1(d.doDeleteTopic, true))
	rt.Handle("POST", "/topic/empty", d.v1(d.doEmptyTopic, true))
	rt.Handle("POST", "/topic/pause", d.v1(d.doPauseTopic, true))
	rt.Handle("POST", "/topic/unpause", d.v1(d.doPauseTopic, true))
	rt.Handle("POST", "/channel/create", d.v1(d.doCreateChannel, true))
	rt.Handle("POST", "/channel/delete", d.v1(d.doDeleteChannel, true))
	rt.Handle("POST", "/channel/empty", d.v1(d.doEmptyChannel, true))
	rt.Handle("POST", "/channel/pause", d.v1(d.doPauseChannel, true))
	rt.Handle("POST", "/channel/unpause", d.v1(d.doPauseChannel, true))
	// A static route such as PUT /config/drain takes precedence over this.
	rt.Handle("PUT", "/config/drain", d.v1(d.doDrain, true))
	rt.Handle("GET", "/config/:opt", d.v1(d.doConfig, true))
	rt.Handle("PUT", "/config/:opt", d.v1(d.doConfig, true))
	rt.Handle("GET", "/metrics", http.HandlerFunc(d.serveMetrics))
	d.debugRoutes(rt)
	return rt
}

// v1 answers as nsqd's V1 API does; logged requests are logged as nsqd
// logs them (nsqd does not log /pub and /mpub).
func (d *Daemon) v1(f apiFunc, logged bool) http.Handler {
	return httpapi.V1(f, d.requestLog(logged))
}

// plainText answers the body as is, errors included (nsqd's /ping).
func (d *Daemon) plainText(f apiFunc, logged bool) http.Handler {
	return httpapi.PlainText(f, d.requestLog(logged))
}

func (d *Daemon) requestLog(logged bool) httpapi.LogFunc {
	if !logged {
		return nil
	}
	return func(r *http.Request, code int, start time.Time) {
		d.logf("INFO", "%d %s %s (%s) %s", code, r.Method, r.URL.RequestURI(), r.RemoteAddr, time.Since(start))
	}
}
