package queued

import (
	"fmt"
	"log"
	"os"
	"strings"
)

var logLevels = map[string]int{"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3, "FATAL": 4}

// ParseLogLevel checks a --log-level value.
func ParseLogLevel(s string) error {
	if _, ok := logLevels[strings.ToUpper(s)]; !ok {
		return fmt.Errorf("invalid --log-level %q: use debug, info, warn, error or fatal", s)
	}
	return nil
}

var stdLogger = log.New(os.Stderr, "[queued] ", log.Ldate|log.Ltime|log.Lmicroseconds)

func (d *Daemon) logf(level, format string, args ...any) {
	o := d.opts()
	if logLevels[level] < logLevels[strings.ToUpper(o.LogLevel)] {
		return
	}
	if o.Logf != nil {
		o.Logf(level, format, args...)
		return
	}
	stdLogger.Printf(level+": "+format, args...)
}
