package dataplane

/*
#cgo pkg-config: libdpdk
#cgo CFLAGS: -O3 -Wall -Wextra -Werror -Wno-unused-parameter
#include "dataplane.h"
*/
import "C"

import "github.com/steer-router/steer/pkg/fwd"

// The C limits and pkg/fwd's are one set: these fail to compile when they
// differ (an array length must not be negative).
var (
	_ [C.STEER_MAX_PORTS - fwd.MaxPorts]struct{}
	_ [fwd.MaxPorts - C.STEER_MAX_PORTS]struct{}
	_ [C.STEER_MAX_QUEUES - fwd.MaxQueues]struct{}
	_ [fwd.MaxQueues - C.STEER_MAX_QUEUES]struct{}
	_ [C.STEER_MAX_RX_PER_LCORE - fwd.MaxRxPerLcore]struct{}
	_ [fwd.MaxRxPerLcore - C.STEER_MAX_RX_PER_LCORE]struct{}
	_ [C.STEER_MAX_WORKERS - fwd.MaxWorkers]struct{}
	_ [fwd.MaxWorkers - C.STEER_MAX_WORKERS]struct{}
	_ [C.STEER_MAX_LCORES - fwd.MaxLcores]struct{}
	_ [fwd.MaxLcores - C.STEER_MAX_LCORES]struct{}
	_ [C.STEER_MAX_RETA - fwd.MaxRETA]struct{}
	_ [fwd.MaxRETA - C.STEER_MAX_RETA]struct{}
	_ [C.STEER_BURST - fwd.Burst]struct{}
	_ [fwd.Burst - C.STEER_BURST]struct{}
	_ [C.STEER_DROP_MAX - fwd.NumDropReasons]struct{}
	_ [fwd.NumDropReasons - C.STEER_DROP_MAX]struct{}
	_ [C.STEER_SLOW_MAX - fwd.NumSlowReasons]struct{}
	_ [fwd.NumSlowReasons - C.STEER_SLOW_MAX]struct{}
	_ [C.STEER_NH_BROADCAST - fwd.Broadcast]struct{}
	_ [fwd.Broadcast - C.STEER_NH_BROADCAST]struct{}
	_ [C.STEER_STAGE_MAX - fwd.NumStages]struct{}
	_ [fwd.NumStages - C.STEER_STAGE_MAX]struct{}
	_ [C.STEER_HASH_L4 - fwd.HashL4]struct{}
	_ [fwd.HashL4 - C.STEER_HASH_L4]struct{}
	_ [C.STEER_POLL_INTERRUPT - fwd.PollInterrupt]struct{}
	_ [fwd.PollInterrupt - C.STEER_POLL_INTERRUPT]struct{}
)
