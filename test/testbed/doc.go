// Package testbed holds what drives DPDK programs from outside, shared by
// the end-to-end tests (package e2e in test/) and the benchmark
// (cmd/steer-bench): the DPDK telemetry client, steer config files built
// from a typed config.Config, starting and stopping a program in its own
// session, the runtime directories of EAL file prefixes and the processes
// holding them, and a client for steer's HTTP API.
//
// No cgo and no testing dependency: it builds with CGO_ENABLED=0 into a
// plain program. Pcap files are pkg/trafgen's.
package testbed
