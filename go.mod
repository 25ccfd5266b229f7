module github.com/sidequeue/sidequeue

go 1.26
