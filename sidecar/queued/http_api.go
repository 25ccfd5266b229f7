package queued

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// The HTTP API is nsqd v1.3.0's: the same routes, status codes, bodies and
// headers, so nsqadmin, to_nsq and client libraries cannot tell the
// difference. GET /metrics (Prometheus) is sidequeue's own.

// apiFunc handles one API request: it returns the response (a string or
// []byte is sent as is, nil as an empty body, anything else as JSON) or an
// *apiError.
type apiFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// apiError is an error answered with its status code and, in V1 responses,
// the body {"message":"<text>"}.
type apiError struct {
	code int
	text string
}

func (e *apiError) Error() string { return e.text }

func apiErr(code int, text string) error { return &apiError{code, text} }

func (d *Daemon) httpHandler() http.Handler {
	rt := newRouter(d)
	rt.handle("GET", "/ping", d.plainText(d.doPing, true))
	rt.handle("GET", "/info", d.v1(d.doInfo, true))
	rt.handle("POST", "/pub", d.v1(d.doPUB, false))
	rt.handle("POST", "/mpub", d.v1(d.doMPUB, false))
	rt.handle("GET", "/stats", d.v1(d.doStats, true))
	rt.handle("POST", "/topic/create", d.v1(d.doCreateTopic, true))
	rt.handle("POST", "/topic/delete", d.v1(d.doDeleteTopic, true))
	rt.handle("POST", "/topic/empty", d.v1(d.doEmptyTopic, true))
	rt.handle("POST", "/topic/pause", d.v1(d.doPauseTopic, true))
	rt.handle("POST", "/topic/unpause", d.v1(d.doPauseTopic, true))
	rt.handle("POST", "/channel/create", d.v1(d.doCreateChannel, true))
	rt.handle("POST", "/channel/delete", d.v1(d.doDeleteChannel, true))
	rt.handle("POST", "/channel/empty", d.v1(d.doEmptyChannel, true))
	rt.handle("POST", "/channel/pause", d.v1(d.doPauseChannel, true))
	rt.handle("POST", "/channel/unpause", d.v1(d.doPauseChannel, true))
	// A static route such as PUT /config/drain takes precedence over this.
	rt.handle("PUT", "/config/drain", d.v1(d.doDrain, true))
	rt.handle("GET", "/config/:opt", d.v1(d.doConfig, true))
	rt.handle("PUT", "/config/:opt", d.v1(d.doConfig, true))
	rt.handle("GET", "/metrics", http.HandlerFunc(d.serveMetrics))
	d.debugRoutes(rt)
	return rt
}

// v1 answers as nsqd's V1 API does: X-NSQ-Content-Type on every response,
// errors as {"message":"..."}. logged requests are logged as nsqd logs
// them (nsqd does not log /pub and /mpub).
func (d *Daemon) v1(f apiFunc, logged bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		data, err := f(w, r)
		code := 200
		if err != nil {
			code, data = errCode(err), err
		}
		respondV1(w, code, data)
		if logged {
			d.logRequest(r, code, start)
		}
	})
}

// plainText answers the body as is, errors included (nsqd's /ping).
func (d *Daemon) plainText(f apiFunc, logged bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		data, err := f(w, r)
		code := 200
		if err != nil {
			code, data = errCode(err), err.Error()
		}
		w.WriteHeader(code)
		switch b := data.(type) {
		case string:
			io.WriteString(w, b)
		case []byte:
			w.Write(b)
		}
		if logged {
			d.logRequest(r, code, start)
		}
	})
}

func errCode(err error) int {
	if e, ok := err.(*apiError); ok {
		return e.code
	}
	return http.StatusInternalServerError
}

func (d *Daemon) logRequest(r *http.Request, code int, start time.Time) {
	d.logf("INFO", "%d %s %s (%s) %s", code, r.Method, r.URL.RequestURI(), r.RemoteAddr, time.Since(start))
}

// respondV1 writes a V1 response: strings and bytes as they are, other
// values as JSON, errors (any code but 200) as {"message":"..."}.
func respondV1(w http.ResponseWriter, code int, data any) {
	var body []byte
	isJSON := false
	if code == 200 {
		switch v := data.(type) {
		case string:
			body = []byte(v)
		case []byte:
			body = v
		case nil:
			body = []byte{}
		default:
			var err error
			isJSON = true
			if body, err = json.Marshal(v); err != nil {
				code, data = 500, err
			}
		}
	}
	if code != 200 {
		isJSON = true
		body, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{errText(data)})
	}
	if isJSON {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Header().Set("X-NSQ-Content-Type", "nsq; version=1.0")
	w.WriteHeader(code)
	w.Write(body)
}

func errText(data any) string {
	switch v := data.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "INTERNAL_ERROR"
}
