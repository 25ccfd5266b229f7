module github.com/sidequeue/sidequeue/test/bench

go 1.26

require (
	github.com/nsqio/go-diskqueue v1.1.0
	github.com/sidequeue/sidequeue v0.0.0
)

replace github.com/sidequeue/sidequeue => ../..
