package eal

/*
#include <rte_eal.h>
*/
import "C"

// RuntimeDir is EAL's runtime directory for this process's file prefix
// (/var/run/dpdk/<prefix> for root): its config lock, memory maps, the
// multi-process and telemetry sockets. EAL leaves it behind at cleanup.
func RuntimeDir() string {
	var dir string
	Do(func() { dir = C.GoString(C.rte_eal_get_runtime_dir()) })
	return dir
}
