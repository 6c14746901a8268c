package ethdev

/*
#include <stdlib.h>
#include <rte_dev.h>
*/
import "C"

import (
	"strings"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

// Probe creates a virtual device from its devargs ("net_pcap0,rx_pcap=a.pcap")
// while EAL runs (rte_dev_probe): a process can then set up and tear down
// ports more than once. Call it on the EAL main thread.
func Probe(devargs string) error {
	c := C.CString(devargs)
	defer C.free(unsafe.Pointer(c))
	return rteerr.FromRC(int(C.rte_dev_probe(c)), "rte_dev_probe", devargs)
}

// RemoveVdev removes a virtual device made by Probe, by name ("net_pcap0"),
// once its port is closed. Call it on the EAL main thread.
func RemoveVdev(name string) error {
	name, _, _ = strings.Cut(name, ",")
	cb, cn := C.CString("vdev"), C.CString(name)
	defer C.free(unsafe.Pointer(cb))
	defer C.free(unsafe.Pointer(cn))
	return rteerr.FromRC(int(C.rte_eal_hotplug_remove(cb, cn)), "rte_eal_hotplug_remove", name)
}
