package lookup

import (
	"net/http"
	"time"

	"github.com/sidequeue/sidequeue/internal/httpapi"
)

// The HTTP API's writes, used by nsqadmin and operators. Their checks and
// error texts are nsqlookupd's, including where it checks nothing
// (/topic/delete and /topic/tombstone take any name).

func (l *Lookupd) doCreateTopic(w http.ResponseWriter, r *http.Request) (any, error) {
	q, err := httpapi.Query(r)
	if err != nil {
		return nil, err
	}
	topic, err := httpapi.Name(q, "topic", "MISSING_ARG_TOPIC", "INVALID_ARG_TOPIC")
	if err != nil {
		return nil, err
	}
	l.log.Logf("INFO", "DB: adding topic(%s)", topic)
	l.db.createTopic(topic)
	return nil, nil
}

func (l *Lookupd) doDeleteTopic(w http.ResponseWriter, r *http.Request) (any, error) {
	q, err := httpapi.Query(r)
	if err != nil {
		return nil, err
	}
	topic, err := httpapi.Arg(q, "topic", "MISSING_ARG_TOPIC")
	if err != nil {
		return nil, err
	}
	l.log.Logf("INFO", "DB: removing topic(%s) and its channels", topic)
	l.db.deleteTopic(topic)
	return nil, nil
}

// topicChannelArgs reads and checks topic and channel, in nsqlookupd's
// order and with its error texts.
func topicChannelArgs(r *http.Request) (topic, channel string, err error) {
	q, err := httpapi.Query(r)
	if err != nil {
		return "", "", err
	}
	if topic, err = httpapi.Name(q, "topic", "MISSING_ARG_TOPIC", "INVALID_ARG_TOPIC"); err != nil {
		return "", "", err
	}
	if channel, err = httpapi.Name(q, "channel", "MISSING_ARG_CHANNEL", "INVALID_ARG_CHANNEL"); err != nil {
		return "", "", err
	}
	return topic, channel, nil
}

func (l *Lookupd) doCreateChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	topic, channel, err := topicChannelArgs(r)
	if err != nil {
		return nil, err
	}
	l.log.Logf("INFO", "DB: adding channel(%s) in topic(%s)", channel, topic)
	l.db.createChannel(topic, channel)
	return nil, nil
}

func (l *Lookupd) doDeleteChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	topic, channel, err := topicChannelArgs(r)
	if err != nil {
		return nil, err
	}
	if !l.db.deleteChannel(topic, channel) {
		return nil, httpapi.Err(404, "CHANNEL_NOT_FOUND")
	}
	l.log.Logf("INFO", "DB: removing channel(%s) from topic(%s)", channel, topic)
	return nil, nil
}

// doTombstone hides a producer of a topic from /lookup for the tombstone
// lifetime, so that consumers stop connecting to a node while it drains
// the topic and unregisters.
func (l *Lookupd) doTombstone(w http.ResponseWriter, r *http.Request) (any, error) {
	q, err := httpapi.Query(r)
	if err != nil {
		return nil, err
	}
	topic, err := httpapi.Arg(q, "topic", "MISSING_ARG_TOPIC")
	if err != nil {
		return nil, err
	}
	node, err := httpapi.Arg(q, "node", "MISSING_ARG_NODE")
	if err != nil {
		return nil, err
	}
	l.log.Logf("INFO", "DB: setting tombstone for producer@%s of topic(%s)", node, topic)
	l.db.tombstone(topic, node, time.Now())
	return nil, nil
}
