// Package benchstat holds what every benchmark command of test/bench reports
// with: medians, since single runs on a shared machine swing widely.
package benchstat

import (
	"slices"
	"time"
)

// Median is the middle of xs (the mean of the two middle ones for an even
// count); xs is left as it is.
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// Rounded is d to the millisecond, as the commands print durations.
func Rounded(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
