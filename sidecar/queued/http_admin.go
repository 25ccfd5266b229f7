package queued

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sidequeue/sidequeue/internal/httpapi"
	"github.com/sidequeue/sidequeue/internal/version"
)

// health is what /ping and /stats report: "OK", or "NOK - <reason>".
func (s *httpServer) health() (string, bool) { return s.d.healthState.status() }

func (s *httpServer) doPing(w http.ResponseWriter, r *http.Request) (any, error) {
	h, ok := s.health()
	if !ok {
		return nil, apiErr(500, h)
	}
	return h, nil
}

type infoResponse struct {
	Version              string        `json:"version"`
	BroadcastAddress     string        `json:"broadcast_address"`
	Hostname             string        `json:"hostname"`
	HTTPPort             int           `json:"http_port"`
	TCPPort              int           `json:"tcp_port"`
	StartTime            int64         `json:"start_time"`
	MaxHeartBeatInterval time.Duration `json:"max_heartbeat_interval"`
	MaxOutBufferSize     int64         `json:"max_output_buffer_size"`
	MaxOutBufferTimeout  time.Duration `json:"max_output_buffer_timeout"`
	MaxDeflateLevel      int           `json:"max_deflate_level"`
	// Version is nsqd's, which go-nsq and nsqadmin read; this is ours.
	SidequeueVersion string `json:"sidequeue_version"`
}

func (s *httpServer) doInfo(w http.ResponseWriter, r *http.Request) (any, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return nil, apiErr(500, err.Error())
	}
	o := s.d.opts()
	return infoResponse{
		Version:              Version,
		BroadcastAddress:     o.BroadcastAddress,
		Hostname:             hostname,
		HTTPPort:             s.d.HTTPAddr().Port,
		TCPPort:              s.d.TCPAddr().Port,
		StartTime:            s.d.startTime.Unix(),
		MaxHeartBeatInterval: o.MaxHeartbeatInterval,
		MaxOutBufferSize:     o.MaxOutputBufferSize,
		MaxOutBufferTimeout:  o.MaxOutputBufferTimeout,
		MaxDeflateLevel:      o.MaxDeflateLevel,
		SidequeueVersion:     version.String(),
	}, nil
}

// reqParams parses the query and consumes the body, as nsqd does for its
// admin routes.
func (s *httpServer) reqParams(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		_, err = io.Copy(io.Discard, r.Body)
	}
	if err != nil {
		s.d.log.Logf("ERROR", "failed to parse request params - %s", err)
		return nil, apiErr(400, "INVALID_REQUEST")
	}
	return v, nil
}

// queryFirst returns a parameter's first value and whether it was given.
func queryFirst(v url.Values, key string) (string, bool) {
	vs, ok := v[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// topicParam reads and checks the topic parameter of /pub, /mpub,
// /topic/create and /topic/empty.
func (s *httpServer) topicParam(v url.Values) (string, error) {
	return httpapi.Name(v, "topic", "MISSING_ARG_TOPIC", "INVALID_TOPIC")
}

// existingTopicChannel reads the topic and channel parameters of the
// /channel/* routes and finds the topic.
func (s *httpServer) existingTopicChannel(r *http.Request) (*Topic, string, error) {
	v, err := s.reqParams(r)
	if err != nil {
		return nil, "", err
	}
	topicName, err := httpapi.Name(v, "topic", "MISSING_ARG_TOPIC", "INVALID_ARG_TOPIC")
	if err != nil {
		return nil, "", err
	}
	channelName, err := httpapi.Name(v, "channel", "MISSING_ARG_CHANNEL", "INVALID_ARG_CHANNEL")
	if err != nil {
		return nil, "", err
	}
	t, err := s.d.GetExistingTopic(topicName)
	if err != nil {
		return nil, "", s.adminErr(r, err)
	}
	return t, channelName, nil
}

func (s *httpServer) doCreateTopic(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, apiErr(400, "INVALID_REQUEST")
	}
	name, err := s.topicParam(v)
	if err != nil {
		return nil, err
	}
	if _, err := s.d.GetTopic(name); err != nil {
		s.d.log.Logf("ERROR", "creating topic %s: %v", name, err)
		return nil, apiErr(500, "INTERNAL_ERROR")
	}
	return nil, nil
}

func (s *httpServer) doDeleteTopic(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := s.reqParams(r)
	if err != nil {
		return nil, err
	}
	name, err := httpapi.Arg(v, "topic", "MISSING_ARG_TOPIC")
	if err != nil {
		return nil, err
	}
	if err := s.d.DeleteExistingTopic(name); err != nil {
		return nil, s.adminErr(r, err)
	}
	return nil, nil
}

func (s *httpServer) doEmptyTopic(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := s.reqParams(r)
	if err != nil {
		return nil, err
	}
	name, err := s.topicParam(v)
	if err != nil {
		return nil, err
	}
	t, err := s.d.GetExistingTopic(name)
	if err != nil {
		return nil, s.adminErr(r, err)
	}
	if err := t.Empty(); err != nil {
		return nil, s.adminErr(r, err)
	}
	return nil, nil
}

func (s *httpServer) doPauseTopic(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := s.reqParams(r)
	if err != nil {
		return nil, err
	}
	name, err := httpapi.Arg(v, "topic", "MISSING_ARG_TOPIC")
	if err != nil {
		return nil, err
	}
	t, err := s.d.GetExistingTopic(name)
	if err != nil {
		return nil, s.adminErr(r, err)
	}
	return s.pauseResult(r, t.Pause, t.UnPause)
}

// pauseResult pauses or, on an .../unpause path, unpauses.
func (s *httpServer) pauseResult(r *http.Request, pause, unpause func() error) (any, error) {
	f := pause
	if strings.Contains(r.URL.Path, "unpause") {
		f = unpause
	}
	if err := f(); err != nil {
		return nil, s.adminErr(r, err)
	}
	return nil, nil
}

func (s *httpServer) doCreateChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	t, name, err := s.existingTopicChannel(r)
	if err != nil {
		return nil, err
	}
	if _, err := t.GetChannel(name); err != nil {
		s.d.log.Logf("ERROR", "creating channel %s/%s: %v", t.name, name, err)
		return nil, apiErr(500, "INTERNAL_ERROR")
	}
	return nil, nil
}

func (s *httpServer) doDeleteChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	t, name, err := s.existingTopicChannel(r)
	if err != nil {
		return nil, err
	}
	if err := t.DeleteExistingChannel(name); err != nil {
		return nil, s.adminErr(r, err)
	}
	return nil, nil
}

func (s *httpServer) doEmptyChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	c, err := s.existingChannel(r)
	if err != nil {
		return nil, err
	}
	if err := c.Empty(); err != nil {
		return nil, s.adminErr(r, err)
	}
	return nil, nil
}

func (s *httpServer) doPauseChannel(w http.ResponseWriter, r *http.Request) (any, error) {
	c, err := s.existingChannel(r)
	if err != nil {
		return nil, err
	}
	return s.pauseResult(r, c.Pause, c.UnPause)
}

func (s *httpServer) existingChannel(r *http.Request) (*Channel, error) {
	t, name, err := s.existingTopicChannel(r)
	if err != nil {
		return nil, err
	}
	c, err := t.GetExistingChannel(name)
	if err != nil {
		return nil, s.adminErr(r, err)
	}
	return c, nil
}

// adminErr answers a topic or channel operation that did not succeed: 404
// when there is no such topic or channel, otherwise 500 with the reason,
// so that a failure is never taken for "already gone".
func (s *httpServer) adminErr(r *http.Request, err error) error {
	switch {
	case errors.Is(err, ErrTopicNotFound):
		return apiErr(404, "TOPIC_NOT_FOUND")
	case errors.Is(err, ErrChannelNotFound):
		return apiErr(404, "CHANNEL_NOT_FOUND")
	}
	s.d.log.Logf("ERROR", "%s: %v", r.URL.Path, err)
	return apiErr(500, "INTERNAL_ERROR: "+err.Error())
}
