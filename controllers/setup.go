package controllers

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// Options configure the reconcilers that Setup registers.
type Options struct {
	NSQ           nsqapi.Daemons
	StatsInterval time.Duration
}

// Setup registers the Lookup, Topic and Channel reconcilers with mgr.
func Setup(mgr ctrl.Manager, o Options) error {
	if err := (&LookupReconciler{Client: mgr.GetClient(), NSQ: o.NSQ, Interval: o.StatsInterval}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("lookup controller: %w", err)
	}
	if err := (&TopicReconciler{Client: mgr.GetClient(), NSQ: o.NSQ, StatsInterval: o.StatsInterval,
		Recorder: mgr.GetEventRecorder("topic-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("topic controller: %w", err)
	}
	if err := (&ChannelReconciler{Client: mgr.GetClient(), NSQ: o.NSQ, StatsInterval: o.StatsInterval,
		Recorder: mgr.GetEventRecorder("channel-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("channel controller: %w", err)
	}
	return nil
}
