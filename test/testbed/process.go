package testbed

import (
	"errors"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is a started program: its exec time, whether it has exited, and
// the ways to stop it.
type Process struct {
	Cmd *exec.Cmd
	// Started is taken just before exec: start-up times count from it.
	Started time.Time

	session  bool
	done     chan struct{}
	waitErr  error
	timedOut atomic.Bool
	timer    *time.Timer
}

// StartOptions say how to start a program.
type StartOptions struct {
	// Session starts the program in a session (and process group) of its
	// own: a Ctrl-C at the terminal does not reach it, and Kill ends
	// everything it started.
	Session bool
	// KillAfter, when positive, kills the program that long after start
	// (TimedOut then reports it).
	KillAfter time.Duration
}

// Start starts cmd, which the caller has filled in (path, arguments, dir,
// environment, stdio), and waits for it in the background.
func Start(cmd *exec.Cmd, o StartOptions) (*Process, error) {
	if o.Session {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setsid = true
	}
	p := &Process{Cmd: cmd, session: o.Session, done: make(chan struct{})}
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if o.KillAfter > 0 {
		p.timer = time.AfterFunc(o.KillAfter, func() {
			if !p.Exited() {
				p.timedOut.Store(true)
				p.Kill()
			}
		})
	}
	go func() {
		p.waitErr = cmd.Wait()
		if p.timer != nil {
			p.timer.Stop()
		}
		close(p.done)
	}()
	return p, nil
}

// Pid is the program's process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Done is closed when the program has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the program has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the program (not to its group).
func (p *Process) Signal(sig os.Signal) error {
	if p.Exited() {
		return os.ErrProcessDone
	}
	return p.Cmd.Process.Signal(sig)
}

// Kill sends SIGKILL to the program, and to its whole process group when it
// runs in a session of its own.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	if p.session {
		if err := syscall.Kill(-p.Pid(), syscall.SIGKILL); err == nil {
			return
		}
	}
	_ = p.Cmd.Process.Kill()
}

// Wait waits for the program to exit and returns exec's Wait error (an
// *exec.ExitError for a non-zero exit or a signal).
func (p *Process) Wait() error {
	<-p.done
	return p.waitErr
}

// TimedOut reports whether KillAfter killed the program.
func (p *Process) TimedOut() bool { return p.timedOut.Load() }

// ExitCode is the program's exit status once it has exited: its exit code,
// or minus the signal that ended it (-9 for SIGKILL); 0 before it exits.
func (p *Process) ExitCode() int {
	if !p.Exited() || p.Cmd.ProcessState == nil {
		return 0
	}
	st := p.Cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return st.ExitCode()
}

// ErrKilled is what Stop returns when the program had to be killed.
var ErrKilled = errors.New("did not exit in time: killed")

// Stop asks the program to exit with request (nil: SIGINT), waits at most
// grace, then kills it (its group with Session) and waits for it. It
// returns ErrKilled when it had to kill.
func (p *Process) Stop(request func() error, grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	if request == nil {
		request = func() error { return p.Signal(os.Interrupt) }
	}
	if err := request(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = p.Signal(os.Interrupt)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	p.Kill()
	<-p.done
	return ErrKilled
}
