package queued

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// The metadata file is nsqd's nsqd.dat, in nsqd's JSON shape: the topics and
// channels that exist and whether each is paused. Ephemeral ones are left out.
const metadataFile = "nsqd.dat"

type metadata struct {
	Topics  []topicMetadata `json:"topics"`
	Version string          `json:"version"`
	// MaxMsgSize is the largest --max-msg-size the data path has run with
	// (nsqd has no such field and ignores it): records that large may be on
	// disk, and must still be read after --max-msg-size is lowered.
	MaxMsgSize int64 `json:"max_msg_size,omitempty"`
}

type topicMetadata struct {
	Name     string            `json:"name"`
	Paused   bool              `json:"paused"`
	Channels []channelMetadata `json:"channels"`
}

type channelMetadata struct {
	Name   string `json:"name"`
	Paused bool   `json:"paused"`
}

// loadMetadata creates the topics and channels the data path holds. A
// larger --max-msg-size than ever before is saved before anything is
// written with it.
func (d *Daemon) loadMetadata() error {
	m, err := d.readMetadata()
	if err != nil {
		return err
	}
	d.recordLimit = max(d.opts().MaxMsgSize, m.MaxMsgSize)
	if err := d.createSaved(m); err != nil {
		return err
	}
	if d.recordLimit > m.MaxMsgSize {
		return d.persistMetadata()
	}
	return nil
}

func (d *Daemon) readMetadata() (metadata, error) {
	var m metadata
	b, err := os.ReadFile(d.dataFile(metadataFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read metadata: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("metadata %s is not valid JSON (%v): fix or remove it", d.dataFile(metadataFile), err)
	}
	return m, nil
}

func (d *Daemon) createSaved(m metadata) error {
	d.loading.Store(true)
	defer d.loading.Store(false)
	for _, tm := range m.Topics {
		if !protocol.ValidName(tm.Name) {
			d.logf("WARN", "skipping creation of invalid topic %s", tm.Name)
			continue
		}
		t, err := d.GetTopic(tm.Name)
		if err != nil {
			return err
		}
		t.paused.Store(tm.Paused)
		for _, cm := range tm.Channels {
			if !protocol.ValidName(cm.Name) {
				d.logf("WARN", "skipping creation of invalid channel %s", cm.Name)
				continue
			}
			c, err := t.GetChannel(cm.Name)
			if err != nil {
				return err
			}
			c.paused.Store(cm.Paused)
		}
		t.Start()
	}
	return nil
}

func (d *Daemon) snapshotMetadata() metadata {
	m := metadata{Topics: []topicMetadata{}, Version: Version, MaxMsgSize: d.recordLimit}
	d.topicsMu.RLock()
	defer d.topicsMu.RUnlock()
	for _, t := range d.topics {
		if t.ephemeral || t.deleting.Load() {
			continue
		}
		tm := topicMetadata{Name: t.name, Paused: t.IsPaused(), Channels: []channelMetadata{}}
		for _, c := range t.sortedChannels() {
			if !c.ephemeral && !c.deleting.Load() {
				tm.Channels = append(tm.Channels, channelMetadata{Name: c.name, Paused: c.IsPaused()})
			}
		}
		m.Topics = append(m.Topics, tm)
	}
	return m
}

// persistMetadata replaces the metadata file atomically and durably; a
// failure makes the daemon unhealthy until the next success.
func (d *Daemon) persistMetadata() error {
	if d.loading.Load() {
		return nil
	}
	d.metaMu.Lock()
	defer d.metaMu.Unlock()
	err := d.writeMetadata(d.snapshotMetadata())
	d.healthState.report(metadataOwner, err)
	return err
}

// persistExistence saves the metadata after a topic or channel was created
// or deleted; ephemeral ones are not in it, so they cost no write.
func (d *Daemon) persistExistence(ephemeral bool) error {
	if ephemeral {
		return nil
	}
	return d.persistMetadata()
}

func (d *Daemon) writeMetadata(m metadata) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	path := d.dataFile(metadataFile)
	if err := diskqueue.ReplaceFile(path, b); err != nil {
		return fmt.Errorf("saving the metadata %s: %w", path, err)
	}
	return nil
}
