package queued

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// The metadata file is nsqd's nsqd.dat, in nsqd's JSON shape: the topics and
// channels that exist and whether each is paused. Ephemeral ones are left out.
const metadataFile = "nsqd.dat"

// metadataStore keeps nsqd.dat true to the daemon's topics and channels.
type metadataStore struct {
	d       *Daemon
	mu      sync.Mutex  // one rewrite at a time
	loading atomic.Bool // the file is being loaded: do not rewrite it
}

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

// load creates the topics and channels the data path holds. A
// larger --max-msg-size than ever before is saved before anything is
// written with it.
func (ms *metadataStore) load() error {
	m, err := ms.read()
	if err != nil {
		return err
	}
	ms.d.recordLimit = max(ms.d.opts().MaxMsgSize, m.MaxMsgSize)
	if err := ms.createSaved(m); err != nil {
		return err
	}
	if ms.d.recordLimit > m.MaxMsgSize {
		return ms.persist()
	}
	return nil
}

func (ms *metadataStore) read() (metadata, error) {
	var m metadata
	b, err := os.ReadFile(ms.path())
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read metadata: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("metadata %s is not valid JSON (%v): fix or remove it", ms.path(), err)
	}
	return m, nil
}

func (ms *metadataStore) createSaved(m metadata) error {
	ms.loading.Store(true)
	defer ms.loading.Store(false)
	for _, tm := range m.Topics {
		if !protocol.ValidName(tm.Name) {
			ms.d.log.Logf("WARN", "skipping creation of invalid topic %s", tm.Name)
			continue
		}
		t, err := ms.d.GetTopic(tm.Name)
		if err != nil {
			return err
		}
		t.paused.Store(tm.Paused)
		for _, cm := range tm.Channels {
			if !protocol.ValidName(cm.Name) {
				ms.d.log.Logf("WARN", "skipping creation of invalid channel %s", cm.Name)
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

func (ms *metadataStore) snapshot() metadata {
	m := metadata{Topics: []topicMetadata{}, Version: Version, MaxMsgSize: ms.d.recordLimit}
	ms.d.topicsMu.RLock()
	defer ms.d.topicsMu.RUnlock()
	for _, t := range ms.d.topics {
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

// persist replaces the metadata file atomically and durably; a
// failure makes the daemon unhealthy until the next success.
func (ms *metadataStore) persist() error {
	if ms.loading.Load() {
		return nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	err := ms.write(ms.snapshot())
	ms.d.healthState.report(metadataOwner, err)
	return err
}

// persistExistence saves the metadata after a topic or channel was created
// or deleted; ephemeral ones are not in it, so they cost no write.
func (ms *metadataStore) persistExistence(ephemeral bool) error {
	if ephemeral {
		return nil
	}
	return ms.persist()
}

func (ms *metadataStore) write(m metadata) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	path := ms.path()
	if err := diskqueue.ReplaceFile(path, b); err != nil {
		return fmt.Errorf("saving the metadata %s: %w", path, err)
	}
	return nil
}

func (ms *metadataStore) path() string { return filepath.Join(ms.d.opts().DataPath, metadataFile) }
