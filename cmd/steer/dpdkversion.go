package main

/*
#cgo pkg-config: libdpdk
#include <rte_version.h>
static const char *steer_dpdk_version(void) { return rte_version(); }
*/
import "C"

func dpdkVersion() string { return C.GoString(C.steer_dpdk_version()) }
