// Package systemd tells systemd how `steer run` is doing (sd_notify(3)):
// ready once it forwards, reloading, stopping, and a watchdog fed only
// while every forwarding thread makes progress. Outside systemd
// (NOTIFY_SOCKET unset) every call does nothing.
package systemd

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Notifier sends state changes to systemd's notification socket.
type Notifier struct {
	log  *zap.Logger
	send func(state string) (bool, error)
}

// New returns a notifier for this process.
func New(log *zap.Logger) *Notifier {
	return &Notifier{log: log, send: func(state string) (bool, error) { return daemon.SdNotify(false, state) }}
}

func (n *Notifier) notify(state string) {
	if _, err := n.send(state); err != nil {
		n.log.Warn("sd_notify failed", zap.String("state", strings.ReplaceAll(state, "\n", " ")), zap.Error(err))
	}
}

// Ready says start-up is done (or a reload ended) and what steer does.
func (n *Notifier) Ready(status string) { n.notify("READY=1\nSTATUS=" + status) }

// Reloading says a config reload began; Ready ends it.
func (n *Notifier) Reloading() {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	n.notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000))
}

// Stopping says shutdown began.
func (n *Notifier) Stopping(why string) { n.notify("STOPPING=1\nSTATUS=stopping: " + why) }

// Progress reads a counter per thread that grows while the thread works.
type Progress func() map[string]uint64

// Watchdog feeds systemd's watchdog (WatchdogSec=) every half period, but
// only when every counter of progress grew since the last feed: a stuck
// lcore or control thread stops the feeding, is logged by name, and
// systemd restarts steer. It does nothing when the watchdog is off. stop
// ends it and waits.
func (n *Notifier) Watchdog(progress Progress) (stop func()) {
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("systemd watchdog settings unreadable; not feeding it", zap.Error(err))
	}
	if every <= 0 || err != nil {
		return func() {}
	}
	return n.watch(progress, every/2)
}

func (n *Notifier) watch(progress Progress, every time.Duration) (stop func()) {
	n.log.Info("feeding the systemd watchdog while every thread makes progress", zap.Duration("every", every))
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		last := progress()
		n.notify("WATCHDOG=1")
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			cur := progress()
			if stuck := Stuck(last, cur); len(stuck) > 0 {
				n.log.Error("no progress: not feeding the systemd watchdog; systemd restarts steer when it expires",
					zap.Strings("stuck", stuck), zap.Duration("for at least", every))
			} else {
				n.notify("WATCHDOG=1")
			}
			last = cur
		}
	}()
	return func() { close(quit); <-done }
}

// Stuck names the threads whose counter did not grow from last to cur
// (one that disappeared counts as stuck), sorted.
func Stuck(last, cur map[string]uint64) []string {
	var out []string
	for k, v := range last {
		if c, ok := cur[k]; !ok || c == v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
