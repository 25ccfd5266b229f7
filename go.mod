module github.com/sidequeue/sidequeue

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/golang/snappy v1.0.0 // indirect
)
