package httpapi

import (
	"net/http"
	"net/url"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// The parameters of both daemons' HTTP APIs, read the same way; each
// daemon passes the error texts its upstream answers with (nsqd and
// nsqlookupd word an invalid topic differently).

// Query parses a request's query string: 400 INVALID_REQUEST when it does
// not parse.
func Query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, Err(400, "INVALID_REQUEST")
	}
	return q, nil
}

// Arg is the first value of the required parameter name, or 400 missing
// (MISSING_ARG_TOPIC, ...) when it is absent.
func Arg(q url.Values, name, missing string) (string, error) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", Err(400, missing)
	}
	return v[0], nil
}

// Name is a required topic or channel name parameter: 400 missing when
// absent, 400 invalid when it breaks NSQ's name rules.
func Name(q url.Values, name, missing, invalid string) (string, error) {
	v, err := Arg(q, name, missing)
	if err != nil {
		return "", err
	}
	if !protocol.ValidName(v) {
		return "", Err(400, invalid)
	}
	return v, nil
}
