package httpapi

import (
	"net/http"
	"net/http/pprof"
)

// PprofRoutes adds pprof's handlers at the paths nsqd and nsqlookupd use;
// indexPath is where the index lives ("/debug/pprof/" for nsqd,
// "/debug/pprof" for nsqlookupd).
func PprofRoutes(rt *Router, indexPath string) {
	rt.Handle("GET", indexPath, http.HandlerFunc(pprof.Index))
	rt.Handle("GET", "/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
	rt.Handle("GET", "/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	rt.Handle("POST", "/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	rt.Handle("GET", "/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	for _, name := range []string{"heap", "goroutine", "block", "threadcreate"} {
		rt.Handle("GET", "/debug/pprof/"+name, pprof.Handler(name))
	}
}
