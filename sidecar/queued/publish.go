package queued

import (
	"errors"
	"time"
)

// Publishing is shared by TCP and HTTP: admitted unless draining (drain.go),
// then put on the topic, created if need be.

// publish puts one message on a topic, deferred by delay if positive.
func (d *Daemon) publish(topicName string, body []byte, delay time.Duration) error {
	m := newMessage(d.ids.next(), body)
	if delay > 0 {
		m.deferUntil = time.Now().Add(delay).UnixNano()
	}
	return d.publishBatch(topicName, []*Message{m})
}

var errDraining = errors.New("draining: this daemon accepts no new messages")

// publishBatch is every publish's path, TCP and HTTP: refused while
// draining.
func (d *Daemon) publishBatch(topic string, msgs []*Message) error {
	if err := d.drain.admitPublish(); err != nil {
		return err
	}
	defer d.drain.publishDone()
	t, err := d.GetTopic(topic)
	if err != nil {
		return err
	}
	return t.PutMessages(msgs)
}
