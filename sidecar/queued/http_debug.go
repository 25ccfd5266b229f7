package queued

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/sidequeue/sidequeue/internal/httpapi"
)

// debugRoutes are nsqd's: pprof's handlers at the same paths, the block
// profile rate and a forced release of memory to the OS.
func (s *httpServer) debugRoutes(rt *httpapi.Router) {
	httpapi.PprofRoutes(rt, "/debug/pprof/")
	rt.Handle("PUT", "/debug/setblockrate", s.plainText(setBlockRate, true))
	rt.Handle("POST", "/debug/freememory", s.plainText(freeMemory, true))
}

func setBlockRate(w http.ResponseWriter, r *http.Request) (any, error) {
	rate, err := strconv.Atoi(r.FormValue("rate"))
	if err != nil {
		return nil, apiErr(400, fmt.Sprintf("invalid block rate : %s", err))
	}
	runtime.SetBlockProfileRate(rate)
	return nil, nil
}

func freeMemory(w http.ResponseWriter, r *http.Request) (any, error) {
	debug.FreeOSMemory()
	return nil, nil
}
