module github.com/sidequeue/sidequeue

go 1.26

require github.com/golang/snappy v1.0.0 // indirect
