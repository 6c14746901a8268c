// Package eal initialises DPDK's Environment Abstraction Layer and launches
// C functions on lcores.
//
// rte_eal_init pins its calling thread to the main lcore and that thread must
// stay the main lcore: launching, waiting and cleanup belong there. So Init
// starts a goroutine locked to its OS thread for good, runs rte_eal_init on
// it, and then serves Do calls; everything EAL-related is marshalled onto it.
package eal

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_launch.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

var (
	mu      sync.Mutex
	started bool
	calls   chan func()
)

// ErrAlreadyInitialised is returned by a second Init: EAL can be set up once
// per process.
var ErrAlreadyInitialised = errors.New("eal: already initialised in this process")

// Init runs rte_eal_init with args (args[0] is the program name) on a new
// thread that becomes the main lcore. It returns once EAL is up or failed.
func Init(args []string) error {
	mu.Lock()
	defer mu.Unlock()
	if started {
		return ErrAlreadyInitialised
	}
	ready := make(chan error, 1)
	calls = make(chan func())
	go serve(args, ready)
	if err := <-ready; err != nil {
		return err
	}
	started = true
	return nil
}

func serve(args []string, ready chan<- error) {
	runtime.LockOSThread() // never unlocked: this thread is the main lcore

	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	// rte_eal_init keeps pointers into argv (e.g. for --file-prefix), so the
	// strings stay allocated for the life of the process.
	cArgv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	copy(unsafe.Slice(cArgv, len(argv)), argv)
	if rc := C.rte_eal_init(C.int(len(args)), cArgv); rc < 0 {
		ready <- rteerr.FromErrno("rte_eal_init", "")
		return
	}
	ready <- nil
	for f := range calls {
		f()
	}
}

// Do runs f on the main lcore thread and waits for it.
func Do(f func()) {
	if !Initialised() {
		panic("eal.Do before eal.Init")
	}
	done := make(chan struct{})
	calls <- func() { f(); close(done) }
	<-done
}

// Initialised reports whether Init succeeded.
func Initialised() bool {
	mu.Lock()
	defer mu.Unlock()
	return started
}

// Cleanup releases EAL resources (hugepage files, the runtime directory).
// Call it once, after every lcore has returned and every port is closed.
func Cleanup() error {
	var err error
	Do(func() { err = rteerr.FromRC(int(C.rte_eal_cleanup()), "rte_eal_cleanup", "") })
	return err
}

// MainLcore is the id of the main lcore.
func MainLcore() int { return int(C.rte_get_main_lcore()) }

// LcoreEnabled reports whether id is one of the lcores EAL was started with.
func LcoreEnabled(id int) bool {
	return id >= 0 && id < C.RTE_MAX_LCORE && C.rte_lcore_is_enabled(C.uint(id)) != 0
}

// SocketOf is the NUMA socket of an lcore.
func SocketOf(id int) int { return int(C.rte_lcore_to_socket_id(C.uint(id))) }

// Launch starts the C function fn(arg) on worker lcore id. fn must be a
// lcore_function_t (int fn(void *)); it runs until it returns by itself.
// Must be called through Do.
func Launch(id int, fn unsafe.Pointer, arg unsafe.Pointer) error {
	if !LcoreEnabled(id) || id == MainLcore() {
		return fmt.Errorf("rte_eal_remote_launch(lcore %d): not an enabled worker lcore", id)
	}
	rc := C.rte_eal_remote_launch((*C.lcore_function_t)(fn), arg, C.uint(id))
	return rteerr.FromRC(int(rc), "rte_eal_remote_launch", fmt.Sprintf("lcore %d", id))
}

// Wait blocks until lcore id's function returns and gives its return value.
// Must be called through Do.
func Wait(id int) int { return int(C.rte_eal_wait_lcore(C.uint(id))) }
