package dataplane

/*
#include "dataplane.h"

static const char *steer_drop_name(int i) { return steer_drop_names[i]; }
static const char *steer_slow_name(int i) { return steer_slow_names[i]; }
#define STEER_NAME(e, s) s,
static const char *const steer_stage_names[STEER_STAGE_MAX] = {STEER_STAGES(STEER_NAME)};
#undef STEER_NAME
static const char *steer_stage_name(int i) { return steer_stage_names[i]; }
*/
import "C"

// cDropReasons and cSlowReasons are the reason names as the C data plane
// has them, in counter order: a test holds them equal to pkg/fwd's.
func cDropReasons() []string {
	out := make([]string, C.STEER_DROP_MAX)
	for i := range out {
		out[i] = C.GoString(C.steer_drop_name(C.int(i)))
	}
	return out
}

func cStages() []string {
	out := make([]string, C.STEER_STAGE_MAX)
	for i := range out {
		out[i] = C.GoString(C.steer_stage_name(C.int(i)))
	}
	return out
}

func cSlowReasons() []string {
	out := make([]string, C.STEER_SLOW_MAX)
	for i := range out {
		out[i] = C.GoString(C.steer_slow_name(C.int(i)))
	}
	return out
}
