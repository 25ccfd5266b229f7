// Package httpapi is the HTTP API convention nsqd and nsqlookupd v1.3.0
// share ("V1" responses, their router's 404/405/redirect rules), so that both
// daemons answer nsqadmin, client libraries and scripts exactly as upstream
// does.
package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Func handles one API request: it returns the response (a string or []byte
// is sent as is, nil as an empty body, anything else as JSON) or an *Error.
type Func func(w http.ResponseWriter, r *http.Request) (any, error)

// LogFunc records a served request; nil means the request is not logged.
type LogFunc func(r *http.Request, code int, start time.Time)

// Error is an error answered with its status code and, in V1 responses, the
// body {"message":"<text>"}.
type Error struct {
	Code int
	Text string
}

func (e *Error) Error() string { return e.Text }

// Err builds an *Error.
func Err(code int, text string) error { return &Error{code, text} }

// V1 answers as upstream's V1 API does: X-NSQ-Content-Type on every
// response, errors as {"message":"..."}.
func V1(f Func, log LogFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		data, err := f(w, r)
		code := 200
		if err != nil {
			code, data = errCode(err), err
		}
		RespondV1(w, code, data)
		if log != nil {
			log(r, code, start)
		}
	})
}

// PlainText answers the body as is, errors included (upstream's /ping).
func PlainText(f Func, log LogFunc) http.Handler {
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
		if log != nil {
			log(r, code, start)
		}
	})
}

func errCode(err error) int {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return http.StatusInternalServerError
}

// RespondV1 writes a V1 response: strings and bytes as they are, other
// values as JSON, errors (any code but 200) as {"message":"..."}.
func RespondV1(w http.ResponseWriter, code int, data any) {
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
		case JSON:
			isJSON, body = true, v
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

// JSON is a body already marshalled, sent as JSON without marshalling
// again: hot read paths build it by hand to avoid reflection.
type JSON []byte

func errText(data any) string {
	switch v := data.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "INTERNAL_ERROR"
}
