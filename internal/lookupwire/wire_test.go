package lookupwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// frame prefixes data with its 4-byte big-endian length, independently of
// the code under test.
func frame(data string) string {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	return string(n[:]) + data
}

func TestWriteCommandBytes(t *testing.T) {
	info := PeerInfo{BroadcastAddress: "10.0.0.7", Hostname: "pod-a", HTTPPort: 4151, TCPPort: 4150, Version: "1.3.0"}
	identify, err := Identify(info)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON is what nsqd v1.3.0 sends: a map marshalled with sorted keys.
	json := `{"broadcast_address":"10.0.0.7","hostname":"pod-a","http_port":4151,"tcp_port":4150,"version":"1.3.0"}`
	cases := []struct {
		cmd  Command
		want string
	}{
		{Register("t", ""), "REGISTER t\n"},
		{Register("t", "c#ephemeral"), "REGISTER t c#ephemeral\n"},
		{Unregister("t", ""), "UNREGISTER t\n"},
		{Unregister("t", "c"), "UNREGISTER t c\n"},
		{Ping(), "PING\n"},
		{identify, "IDENTIFY\n" + frame(json)},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		if err := WriteCommand(&buf, tc.cmd); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func TestReadCommandRoundTrip(t *testing.T) {
	identify, _ := Identify(PeerInfo{BroadcastAddress: "h", HTTPPort: 1, TCPPort: 2, Version: "v"})
	sent := []Command{identify, Register("t", "c"), Ping(), Unregister("t", "")}
	var buf bytes.Buffer
	for _, c := range sent {
		if err := WriteCommand(&buf, c); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for _, want := range sent {
		got, err := ReadCommand(r, 1024)
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if got.String() != want.String() || !bytes.Equal(got.Body, want.Body) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	if _, err := ReadCommand(r, 1024); err != io.EOF {
		t.Errorf("at end: got %v, want io.EOF", err)
	}
}

func TestReadCommandSplitsLikeNsqlookupd(t *testing.T) {
	// Trailing "\r" and spaces are trimmed; inner double spaces give an empty
	// parameter, which then fails topic validation as in nsqlookupd.
	r := bufio.NewReader(strings.NewReader("REGISTER  t \r\n"))
	c, err := ReadCommand(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != CmdRegister || len(c.Params) != 2 || c.Params[0] != "" || c.Params[1] != "t" {
		t.Fatalf("got %#v", c)
	}
	_, _, err = ParseTopicChannel(c)
	assertWireError(t, err, "E_BAD_TOPIC REGISTER topic name '' is not valid")
}

func TestReadCommandErrors(t *testing.T) {
	cases := []struct {
		name, input string
		want        string
	}{
		{"too big", "IDENTIFY\n" + frame(strings.Repeat("x", 11)), "E_BAD_BODY IDENTIFY body too big 11 > 10"},
		{"negative", "IDENTIFY\n\xff\xff\xff\xff", "E_BAD_BODY IDENTIFY invalid body size -1"},
		{"no size", "IDENTIFY\n\x00\x00", "E_BAD_BODY IDENTIFY failed to read body size"},
		{"short body", "IDENTIFY\n" + frame("12345")[:7], "E_BAD_BODY IDENTIFY failed to read body"},
		{"long line", strings.Repeat("P", MaxLineLength+1) + "\n", "E_INVALID command line too long"},
	}
	for _, tc := range cases {
		_, err := ReadCommand(bufio.NewReaderSize(strings.NewReader(tc.input), 16), 10)
		assertWireError(t, err, tc.want)
	}
}

func assertWireError(t *testing.T, err error, want string) {
	t.Helper()
	var we *Error
	if !errors.As(err, &we) {
		t.Fatalf("got %v, want *Error %q", err, want)
	}
	if we.Error() != want {
		t.Errorf("got %q, want %q", we.Error(), want)
	}
}

func TestMagic(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMagic(&buf); err != nil || buf.String() != "  V1" {
		t.Fatalf("WriteMagic wrote %q, %v", buf.String(), err)
	}
	if err := ReadMagic(&buf); err != nil {
		t.Fatal(err)
	}
	if err := ReadMagic(strings.NewReader("  V2")); err != ErrBadProtocol || err.Error() != "E_BAD_PROTOCOL" {
		t.Fatalf("got %v", err)
	}
	if err := ReadMagic(strings.NewReader(" V")); err != io.ErrUnexpectedEOF {
		t.Fatalf("short magic: got %v", err)
	}
}

func TestResponses(t *testing.T) {
	var buf bytes.Buffer
	for _, s := range []string{"OK", "", "E_INVALID client must IDENTIFY"} {
		if err := WriteResponse(&buf, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if buf.String() != frame("OK")+frame("")+frame("E_INVALID client must IDENTIFY") {
		t.Fatalf("framing: %q", buf.String())
	}
	for _, want := range []string{"OK", "", "E_INVALID client must IDENTIFY"} {
		got, err := ReadResponse(&buf, 100)
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := ReadResponse(strings.NewReader(frame("toolong")), 3); err == nil {
		t.Error("oversized response accepted")
	}
	if _, err := ReadResponse(strings.NewReader("\x80\x00\x00\x00"), 3); err == nil {
		t.Error("negative size accepted")
	}
}

func TestParseError(t *testing.T) {
	if ParseError(OK) != nil || ParseError([]byte(`{"tcp_port":4160}`)) != nil {
		t.Fatal("non-error parsed as error")
	}
	e := ParseError([]byte("E_BAD_TOPIC REGISTER topic name 'a b' is not valid"))
	if e == nil || e.Code != "E_BAD_TOPIC" || e.Desc != "REGISTER topic name 'a b' is not valid" {
		t.Fatalf("got %+v", e)
	}
	if e := ParseError([]byte("E_BAD_PROTOCOL")); e == nil || e.Error() != "E_BAD_PROTOCOL" {
		t.Fatalf("got %+v", e)
	}
}

func TestDecodeIdentify(t *testing.T) {
	info, err := DecodeIdentify([]byte(`{"broadcast_address":"a","tcp_port":1,"http_port":2,"version":"1.3.0"}`))
	if err != nil || info.BroadcastAddress != "a" || info.TCPPort != 1 || info.HTTPPort != 2 {
		t.Fatalf("got %+v, %v", info, err)
	}
	_, err = DecodeIdentify([]byte(`{"broadcast_address":"a","tcp_port":1,"http_port":2}`))
	assertWireError(t, err, "E_BAD_BODY IDENTIFY missing fields")
	_, err = DecodeIdentify([]byte(`{`))
	assertWireError(t, err, "E_BAD_BODY IDENTIFY failed to decode JSON body")
}

func TestParseTopicChannel(t *testing.T) {
	topic, channel, err := ParseTopicChannel(Register("t", "c"))
	if err != nil || topic != "t" || channel != "c" {
		t.Fatalf("got %q %q %v", topic, channel, err)
	}
	_, _, err = ParseTopicChannel(Command{Name: CmdUnregister})
	assertWireError(t, err, "E_INVALID UNREGISTER insufficient number of params")
	_, _, err = ParseTopicChannel(Register("t", "c!"))
	assertWireError(t, err, "E_BAD_CHANNEL REGISTER channel name 'c!' is not valid")
}

func TestValidName(t *testing.T) {
	valid := []string{"a", "A.b_c-9", "t#ephemeral", strings.Repeat("x", 64), strings.Repeat("x", 54) + "#ephemeral"}
	invalid := []string{"", "#ephemeral", "a b", "a#b", "t#ephemeral#ephemeral", strings.Repeat("x", 65),
		strings.Repeat("x", 55) + "#ephemeral", "é"}
	for _, n := range valid {
		if !ValidName(n) {
			t.Errorf("%q should be valid", n)
		}
	}
	for _, n := range invalid {
		if ValidName(n) {
			t.Errorf("%q should be invalid", n)
		}
	}
}
