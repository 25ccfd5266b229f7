// Package version is the one place for sidequeue's product version: the
// binaries print it for --version and the image is tagged with it
// (Image). It is not the NSQ protocol version that queued and lookupd
// report to clients on /info (queued.Version, lookup.Version: "1.3.0").
package version

// Default is the version of an unreleased source tree; hack/image reads
// it from this file when given no -version.
const Default = "0.0.0-dev"

// Version is the product version. A build sets it with
//
//	-ldflags "-X github.com/sidequeue/sidequeue/internal/version.Version=1.2.3"
//
// (no leading v); otherwise it is Default.
var Version = Default

// Repository is the image name, without a registry: the image is
// Repository:Version.
const Repository = "sidequeue"

// Image is the reference of the image these binaries were built into.
func Image() string { return Repository + ":" + Version }
