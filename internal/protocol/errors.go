package protocol

// ClientErr is an error the daemon reports to a client in an error frame:
// a code such as E_INVALID and a description. A fatal one closes the
// connection after it is sent.
type ClientErr struct {
	Code  string
	Desc  string
	Fatal bool
	Cause error // logged, never sent
}

func (e *ClientErr) Error() string { return e.Code + " " + e.Desc }

func (e *ClientErr) Unwrap() error { return e.Cause }

// NewClientErr returns a non-fatal client error.
func NewClientErr(cause error, code, desc string) *ClientErr {
	return &ClientErr{Code: code, Desc: desc, Cause: cause}
}

// NewFatalClientErr returns an error after which the connection is closed.
func NewFatalClientErr(cause error, code, desc string) *ClientErr {
	return &ClientErr{Code: code, Desc: desc, Fatal: true, Cause: cause}
}
