// Package rteerr turns failing DPDK calls into Go errors that say which call
// failed, on what, and rte_strerror's text.
package rteerr

/*
#cgo pkg-config: libdpdk
#include <rte_errno.h>

// rte_errno is a per-lcore TLS macro cgo cannot read directly.
static int steer_rte_errno(void) { return rte_errno; }
*/
import "C"

import (
	"errors"
	"fmt"
	"syscall"
)

// Error is a failed DPDK call.
type Error struct {
	Call  string        // the DPDK function, e.g. "rte_eth_rx_queue_setup"
	On    string        // what it was called on, e.g. "port 0 queue 1"; may be empty
	Errno syscall.Errno // positive errno (DPDK's own codes are >= 1000)
}

func (e *Error) Error() string {
	text := C.GoString(C.rte_strerror(C.int(e.Errno)))
	if e.On == "" {
		return fmt.Sprintf("%s: %s", e.Call, text)
	}
	return fmt.Sprintf("%s(%s): %s", e.Call, e.On, text)
}

// Unwrap lets errors.Is(err, syscall.EINVAL) work.
func (e *Error) Unwrap() error { return e.Errno }

// Errno reads rte_errno of the calling thread.
func Errno() syscall.Errno { return syscall.Errno(C.steer_rte_errno()) }

// FromRC builds an error from a DPDK return code: rc < 0 is -errno, 0 and above
// is success (nil).
func FromRC(rc int, call, on string) error {
	if rc >= 0 {
		return nil
	}
	return &Error{Call: call, On: on, Errno: syscall.Errno(-rc)}
}

// FromErrno builds an error from rte_errno, for calls that return NULL or -1.
func FromErrno(call, on string) error {
	errno := Errno()
	if errno == 0 {
		errno = syscall.EINVAL
	}
	return &Error{Call: call, On: on, Errno: errno}
}

// Is reports whether err is a DPDK error with the given errno.
func Is(err error, errno syscall.Errno) bool {
	var e *Error
	return errors.As(err, &e) && e.Errno == errno
}
