// Package logging is both daemons' log: nsqd's levels (--log-level debug,
// info, warn, error, fatal), each line on standard error behind the
// binary's prefix, or handed to a function of the program that embeds the
// daemon.
package logging

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync/atomic"
)

// Level is a log level; a line is written when its level is at least the
// logger's.
type Level int32

// The levels, lowest first.
const (
	Debug Level = iota
	Info
	Warn
	Error
	Fatal
)

var levels = map[string]Level{"DEBUG": Debug, "INFO": Info, "WARN": Warn, "ERROR": Error, "FATAL": Fatal}

// ParseLevel reads a --log-level value, in any case.
func ParseLevel(s string) (Level, error) {
	l, ok := levels[strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("invalid --log-level %q: use debug, info, warn, error or fatal", s)
	}
	return l, nil
}

// Func takes the lines instead of standard error (the daemons' Options.Logf).
type Func func(level, format string, args ...any)

// Logger writes the lines at or above its level. The level is resolved
// when set, not at every line: some lines are written on every request.
type Logger struct {
	min atomic.Int32
	to  Func
	std *log.Logger
}

// New logs at level (Info if it is not one) to to, or to standard error
// behind prefix when to is nil.
func New(prefix, level string, to Func) *Logger {
	l := &Logger{to: to, std: log.New(os.Stderr, prefix, log.Ldate|log.Ltime|log.Lmicroseconds)}
	if l.SetLevel(level) != nil {
		l.min.Store(int32(Info))
	}
	return l
}

// SetLevel changes the level; an invalid one is refused and changes nothing.
func (l *Logger) SetLevel(s string) error {
	lvl, err := ParseLevel(s)
	if err == nil {
		l.min.Store(int32(lvl))
	}
	return err
}

// Enabled reports whether lines at level are written.
func (l *Logger) Enabled(level Level) bool { return int32(level) >= l.min.Load() }

// Logf writes a line at level, named as in ParseLevel ("INFO").
func (l *Logger) Logf(level, format string, args ...any) {
	if lvl, ok := levels[level]; ok && !l.Enabled(lvl) {
		return
	}
	if l.to != nil {
		l.to(level, format, args...)
		return
	}
	l.std.Printf(level+": "+format, args...)
}
