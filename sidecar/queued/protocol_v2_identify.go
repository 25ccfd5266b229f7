package queued

import (
	"encoding/json"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

type identifyResponse struct {
	MaxRdyCount         int64  `json:"max_rdy_count"`
	Version             string `json:"version"`
	MaxMsgTimeout       int64  `json:"max_msg_timeout"`
	MsgTimeout          int64  `json:"msg_timeout"`
	TLSv1               bool   `json:"tls_v1"`
	Deflate             bool   `json:"deflate"`
	DeflateLevel        int    `json:"deflate_level"`
	MaxDeflateLevel     int    `json:"max_deflate_level"`
	Snappy              bool   `json:"snappy"`
	SampleRate          int32  `json:"sample_rate"`
	AuthRequired        bool   `json:"auth_required"`
	OutputBufferSize    int    `json:"output_buffer_size"`
	OutputBufferTimeout int64  `json:"output_buffer_timeout"`
}

// negotiate answers a feature-negotiating IDENTIFY, then upgrades the
// connection (TLS, then snappy or deflate), confirming each with OK.
func (p *protocolV2) negotiate(c *client, data identifyData) error {
	o := p.d.opts()
	tlsCfg := p.d.tls
	useTLS := tlsCfg != nil && data.TLSv1
	deflate := o.DeflateEnabled && data.Deflate
	level := 6
	if deflate && data.DeflateLevel > 0 {
		level = data.DeflateLevel
	}
	level = min(level, o.MaxDeflateLevel)
	snappy := o.SnappyEnabled && data.Snappy
	if deflate && snappy {
		return fatal("E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression")
	}
	c.writeMu.Lock()
	resp, _ := json.Marshal(identifyResponse{
		MaxRdyCount:         o.MaxRdyCount,
		Version:             Version,
		MaxMsgTimeout:       int64(o.MaxMsgTimeout / time.Millisecond),
		MsgTimeout:          int64(c.msgTimeout / time.Millisecond),
		TLSv1:               useTLS,
		Deflate:             deflate,
		DeflateLevel:        level,
		MaxDeflateLevel:     o.MaxDeflateLevel,
		Snappy:              snappy,
		SampleRate:          c.sampleRate.Load(),
		AuthRequired:        p.authEnabled(),
		OutputBufferSize:    c.outputBufferSize,
		OutputBufferTimeout: int64(c.outputBufferTimeout / time.Millisecond),
	})
	c.writeMu.Unlock()
	steps := []func() error{func() error { return nil }}
	if useTLS {
		steps = append(steps, func() error { return c.upgradeTLS(tlsCfg) })
	}
	if snappy {
		steps = append(steps, c.upgradeSnappy)
	}
	if deflate {
		steps = append(steps, func() error { return c.upgradeDeflate(level) })
	}
	for i, upgrade := range steps {
		if err := upgrade(); err != nil {
			return protocol.NewFatalClientErr(err, "E_IDENTIFY_FAILED", "IDENTIFY failed "+err.Error())
		}
		reply := okBytes
		if i == 0 {
			reply = resp
		}
		if err := p.send(c, protocol.FrameTypeResponse, reply); err != nil {
			return protocol.NewFatalClientErr(err, "E_IDENTIFY_FAILED", "IDENTIFY failed "+err.Error())
		}
	}
	return nil
}
