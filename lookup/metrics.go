package lookup

import (
	"bytes"
	"fmt"
	"net/http"
)

// GET /metrics: Prometheus text exposition format 0.0.4, written by hand
// (a handful of series do not justify a client library), named lookupd_*.

type metric struct {
	name, typ, help string
	value           func(c counts, l *Lookupd) int64
}

var metrics = []metric{
	{"lookupd_producers", "gauge", "Queue daemons connected and IDENTIFYed.",
		func(c counts, _ *Lookupd) int64 { return int64(c.producers) }},
	{"lookupd_topics", "gauge", "Registered topics.",
		func(c counts, _ *Lookupd) int64 { return int64(c.topics) }},
	{"lookupd_channels", "gauge", "Registered channels.",
		func(c counts, _ *Lookupd) int64 { return int64(c.channels) }},
	{"lookupd_registrations", "gauge", "Producer registrations of topics and channels.",
		func(c counts, _ *Lookupd) int64 { return int64(c.registrations) }},
	{"lookupd_lookups_total", "counter", "GET /lookup requests answered.",
		func(_ counts, l *Lookupd) int64 { return l.lookups.Load() }},
}

func (l *Lookupd) serveMetrics(w http.ResponseWriter, r *http.Request) {
	c := l.db.counts()
	var b bytes.Buffer
	for _, m := range metrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", m.name, m.help, m.name, m.typ, m.name, m.value(c, l))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}
