package httpapi

import (
	"net/http"
	"path"
	"sort"
	"strings"
)

// Router routes as upstream's router (httprouter, with method-not-allowed
// handling) does: a wrong method gets 405 with an Allow header, an unknown
// path 404, both as V1 errors; OPTIONS lists the allowed methods; a path
// with a trailing slash too many or too few, or in the wrong case, is
// redirected (301 for GET, 307 otherwise). A pattern may end in one
// parameter segment, "/:name", read with r.PathValue(name); static paths
// take precedence over it.
type Router struct {
	log    LogFunc                                 // logs 404s and 405s; may be nil
	logf   func(level, format string, args ...any) // logs panics; may be nil
	routes map[string]map[string]http.Handler      // pattern -> method -> handler
}

// NewRouter returns an empty router. log records the 404 and 405 answers it
// makes itself; logf reports a handler's panic. Either may be nil.
func NewRouter(log LogFunc, logf func(level, format string, args ...any)) *Router {
	return &Router{log: log, logf: logf, routes: map[string]map[string]http.Handler{}}
}

// Handle routes method on pattern to h.
func (rt *Router) Handle(method, pattern string, h http.Handler) {
	if rt.routes[pattern] == nil {
		rt.routes[pattern] = map[string]http.Handler{}
	}
	rt.routes[pattern][method] = h
}

// lookup finds the pattern serving method on p, and its parameter. fold
// compares case-insensitively (for redirects).
func (rt *Router) lookup(method, p string, fold bool) (pattern, param string, ok bool) {
	if hs := rt.routes[p]; hs[method] != nil && !strings.Contains(p, "/:") {
		return p, "", true
	}
	eq := func(a, b string) bool { return a == b || fold && strings.EqualFold(a, b) }
	for pat, hs := range rt.routes {
		if hs[method] != nil && !strings.Contains(pat, "/:") && eq(pat, p) {
			return pat, "", true
		}
	}
	for pat, hs := range rt.routes {
		i := strings.Index(pat, "/:")
		if hs[method] == nil || i < 0 || len(p) <= i+1 || !eq(pat[:i+1], p[:i+1]) {
			continue
		}
		if rest := p[i+1:]; !strings.Contains(rest, "/") {
			return pat, rest, true
		}
	}
	return "", "", false
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer rt.recoverPanic(w, r)
	p := r.URL.Path
	if pat, param, ok := rt.lookup(r.Method, p, false); ok {
		if i := strings.Index(pat, "/:"); i >= 0 {
			r.SetPathValue(pat[i+2:], param)
		}
		rt.routes[pat][r.Method].ServeHTTP(w, r)
		return
	}
	if rt.redirect(w, r) {
		return
	}
	allow := rt.allowed(p, r.Method)
	switch {
	case r.Method == http.MethodOptions && allow != "":
		w.Header().Set("Allow", allow)
	case allow != "":
		w.Header().Set("Allow", allow)
		V1(func(http.ResponseWriter, *http.Request) (any, error) {
			return nil, Err(405, "METHOD_NOT_ALLOWED")
		}, rt.log).ServeHTTP(w, r)
	default:
		V1(func(http.ResponseWriter, *http.Request) (any, error) {
			return nil, Err(404, "NOT_FOUND")
		}, rt.log).ServeHTTP(w, r)
	}
}

// redirect sends a request whose path is off by a trailing slash or by
// case to the path of a route with its method.
func (rt *Router) redirect(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	if p == "/" || r.Method == http.MethodConnect || !rt.hasMethod(r.Method) {
		return false
	}
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet {
		code = http.StatusTemporaryRedirect
	}
	clean := path.Clean(p)
	for i, c := range []string{toggleSlash(p), clean, clean + "/"} {
		pat, param, ok := rt.lookup(r.Method, c, i > 0)
		if !ok {
			continue
		}
		fixed := pat
		if j := strings.Index(pat, "/:"); j >= 0 {
			fixed = pat[:j+1] + param
		}
		if fixed == p {
			continue
		}
		u := *r.URL
		u.Path = fixed
		http.Redirect(w, r, u.String(), code)
		return true
	}
	return false
}

func toggleSlash(p string) string {
	if strings.HasSuffix(p, "/") {
		return p[:len(p)-1]
	}
	return p + "/"
}

func (rt *Router) hasMethod(method string) bool {
	for _, hs := range rt.routes {
		if hs[method] != nil {
			return true
		}
	}
	return false
}

// methods lists every method some route has.
func (rt *Router) methods() []string {
	seen := map[string]bool{}
	var out []string
	for _, hs := range rt.routes {
		for m := range hs {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// allowed lists, as httprouter does, the other methods that p has routes
// for, with OPTIONS, sorted; "" if none.
func (rt *Router) allowed(p, method string) string {
	var out []string
	for _, m := range rt.methods() {
		if _, _, ok := rt.lookup(m, p, false); ok && m != method && m != http.MethodOptions {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return ""
	}
	out = append(out, http.MethodOptions)
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// recoverPanic answers a panicking handler with 500 INTERNAL_ERROR, as
// upstream does.
func (rt *Router) recoverPanic(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	if rt.logf != nil {
		rt.logf("ERROR", "panic in HTTP handler - %v", p)
	}
	RespondV1(w, 500, Err(500, "INTERNAL_ERROR"))
}
