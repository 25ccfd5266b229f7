package queued

import (
	"testing"
)

// Topics, channels and their paused state, and the messages they hold,
// survive a restart on the same data path; ephemeral ones do not.
func TestRestartKeepsTopicsChannelsAndMessages(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	d := startDaemon(t, func(o *Options) { o.DataPath = dataPath })
	subscribe(t, d, "t", "c").Close()
	subscribe(t, d, "t", "gone#ephemeral").Close()
	publishN(t, d, "t", 3)
	ch := mustChannel(t, d, "t", "c")
	waitFor(t, "messages in the channel", func() bool { return ch.Depth() == 3 })
	ch.Pause()
	d.Exit()

	again := startDaemon(t, func(o *Options) { o.DataPath = dataPath })
	ch = mustChannel(t, again, "t", "c")
	if !ch.IsPaused() || ch.Depth() != 3 {
		t.Fatalf("after restart: paused %v, depth %d; want paused with 3", ch.IsPaused(), ch.Depth())
	}
	tp, _ := again.GetExistingTopic("t")
	if _, err := tp.GetExistingChannel("gone#ephemeral"); err == nil {
		t.Fatal("an ephemeral channel came back after a restart")
	}
	ch.UnPause()
	sub := subscribe(t, again, "t", "c")
	sub.cmd("RDY 3")
	for range 3 {
		sub.cmd("FIN " + sub.message().id)
	}
}

func TestEphemeralChannelGoesWithLastClient(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "e#ephemeral")
	sub.Close()
	tp, _ := d.GetExistingTopic("t")
	waitFor(t, "the ephemeral channel to be deleted", func() bool {
		_, err := tp.GetExistingChannel("e#ephemeral")
		return err != nil
	})
}

// A publish over the disk budget fails with E_PUB_FAILED; what is stored
// stays and is delivered.
func TestDiskBudgetRefusesPublish(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MemQueueSize, o.MaxDiskBytes = 0, 300 })
	pub := dial(t, d)
	stored := 0
	for {
		pub.cmd("PUB t", []byte("0123456789"))
		ft, data := pub.frame()
		if ft == 1 {
			if got := string(data); len(got) < 22 || got[:22] != "E_PUB_FAILED PUB faile" {
				t.Fatalf("refused with %q", data)
			}
			break
		}
		stored++
	}
	if stored == 0 {
		t.Fatal("the budget refused the first message")
	}
	sub := subscribe(t, d, "t", "c")
	sub.cmd("RDY 100")
	for range stored {
		sub.cmd("FIN " + sub.message().id)
	}
}

func TestCLSAnswersCloseWait(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	c := subscribe(t, d, "t", "c")
	c.cmd("CLS")
	if got := c.expect(0); string(got) != "CLOSE_WAIT" {
		t.Fatalf("CLS answered %q", got)
	}
	c.cmd("RDY 5") // ignored after CLS, as nsqd
	c.cmd("NOP")
}

func TestMPUBErrors(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MaxMsgSize, o.MaxBodySize = 10, 100 })
	for _, tc := range []struct {
		body []byte
		want string
	}{
		{[]byte{0, 0, 0, 0}, "E_BAD_BODY MPUB invalid message count 0"},
		{[]byte{0, 0, 0, 1, 0, 0, 0, 0}, "E_BAD_MESSAGE MPUB invalid message(0) body size 0"},
		{[]byte{0, 0, 0, 1, 0, 0, 0, 11}, "E_BAD_MESSAGE MPUB message too big 11 > 10"},
	} {
		c := dial(t, d)
		c.cmd("MPUB t", tc.body)
		c.expectError(tc.want)
		c.expectClosed()
	}
	c := dial(t, d)
	c.cmd("MPUB t", make([]byte, 101))
	c.expectError("E_BAD_BODY MPUB body too big 101 > 100")
}
