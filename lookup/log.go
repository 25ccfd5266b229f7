package lookup

import (
	"log"
	"os"
	"strings"
)

var stdLogger = log.New(os.Stderr, "[lookupd] ", log.Ldate|log.Ltime|log.Lmicroseconds)

// logf logs at level when the configured level lets it through. The level
// is resolved once in New, because logf runs on every HTTP request.
func (l *Lookupd) logf(level, format string, args ...any) {
	if logLevels[level] < l.minLevel {
		return
	}
	if l.opts.Logf != nil {
		l.opts.Logf(level, format, args...)
		return
	}
	stdLogger.Printf(level+": "+format, args...)
}

func minLevel(s string) int {
	if lvl, ok := logLevels[strings.ToUpper(s)]; ok {
		return lvl
	}
	return logLevels["INFO"]
}
