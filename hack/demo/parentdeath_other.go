//go:build !linux

package main

// Without Linux's parent-death signal, etcd and kube-apiserver are started
// directly: a demo killed with kill -9 leaves them running.
func execIfWrapper() {}

func controlPlaneBinaries(bin, _ string) (string, error) { return bin, nil }
