module github.com/sidequeue/sidequeue/test/bench

go 1.26.0

require (
	github.com/nsqio/go-diskqueue v1.1.0
	github.com/nsqio/go-nsq v1.1.0
	github.com/sidequeue/sidequeue v0.0.0
)

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/blang/semver v3.5.1+incompatible // indirect
	github.com/bmizerany/perks v0.0.0-20141205001514-d9a9656a3a4b // indirect
	github.com/golang/snappy v1.0.0 // indirect
	github.com/judwhite/go-svc v1.2.1 // indirect
	github.com/julienschmidt/httprouter v1.3.0 // indirect
	github.com/mreiferson/go-options v1.0.0 // indirect
	github.com/nsqio/nsq v1.3.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/sidequeue/sidequeue => ../..

// nsq v1.3.0 builds against mreiferson's fork of go-svc (its own go.mod says
// so with this replace), but a dependency's replace directives are ignored,
// so the upstream binaries built from here need it repeated.
replace github.com/judwhite/go-svc => github.com/mreiferson/go-svc v1.2.2-0.20210815184239-7a96e00010f6

tool (
	github.com/nsqio/nsq/apps/nsqadmin
	github.com/nsqio/nsq/apps/nsqd
	github.com/nsqio/nsq/apps/nsqlookupd
)
