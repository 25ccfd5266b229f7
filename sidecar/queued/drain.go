package queued

// draining reports whether the daemon refuses new publishes (drain mode).
func (d *Daemon) draining() bool { return d.drainMode.Load() }
