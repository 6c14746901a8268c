package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/pkg/api"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/reload"
	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/router"
	"github.com/steer-router/steer/pkg/systemd"
)

// run is `steer run` once the config is valid: the API's address, EAL, the
// router, then signals until it stops. Every failure is logged; the error
// only says there was one.
func run(cfg *config.Config, path, statsFile string, exitOnIdle time.Duration, stdout io.Writer, log *zap.Logger) error {
	log.Info("starting", zap.String("version", version), zap.String("config", path))
	for _, w := range cfg.Warnings() {
		log.Warn("config: " + w)
	}
	failed := func(err error) error {
		log.Error("start-up failed", zap.Error(err))
		return err
	}
	// Subscribe before DPDK starts so an early signal still stops cleanly.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(sig)
	defer signal.Stop(hup)
	sd := systemd.New(log)
	rl := reload.New(path, cfg, log)

	apiSrv, err := listenAPI(cfg, log)
	if err != nil {
		return failed(err)
	}
	defer apiSrv.stop(log)

	if err := router.InitEAL(cfg, log); err != nil {
		return failed(err)
	}
	// EAL's hugepage files go at cleanup, its runtime directory after:
	// however steer ends, nothing is left for the next run to trip on.
	runtimeDir := eal.RuntimeDir()
	defer func() {
		if err := eal.Cleanup(); err != nil {
			log.Error("rte_eal_cleanup", zap.Error(err))
		}
		if err := os.RemoveAll(runtimeDir); err != nil {
			log.Warn("removing EAL's runtime directory", zap.String("dir", runtimeDir), zap.Error(err))
		}
	}()
	r, err := router.Start(cfg, log)
	if err != nil {
		return failed(err)
	}
	apiSrv.serve(cfg, r, log, api.Options{
		Collectors: rl.Collectors(),
		Reload: func() (bool, string) {
			sd.Reloading()
			defer sd.Ready("forwarding")
			rep := rl.Reload(r)
			return rep.Outcome == reload.Applied, rep.Message
		},
		RunningConfig: func() ([]byte, error) {
			return reload.Dump(rl.Running(), r.Routes(false), r.Neighbors(), path, time.Now())
		},
	})
	sd.Ready(fmt.Sprintf("forwarding: %d ports, %d lcores", len(cfg.Ports), len(cfg.Lcores)))
	stopWatchdog := sd.Watchdog(r.Progress)
	idleCh, stopIdle := watchIdle(r, exitOnIdle)
wait:
	for {
		select {
		case <-hup: // routes and neighbours change live; the rest needs a restart
			sd.Reloading()
			rl.Reload(r)
			sd.Ready("forwarding")
		case s := <-sig:
			log.Info("stopping", zap.String("signal", s.String()))
			sd.Stopping("signal " + s.String())
			break wait
		case <-idleCh:
			log.Info("stopping", zap.Duration("idle", exitOnIdle))
			sd.Stopping("idle")
			break wait
		}
	}
	// Nothing may read the counters while they are freed: the watches and
	// the HTTP endpoint end before the router stops.
	stopWatchdog()
	stopIdle()
	apiSrv.stop(log)
	rep, stopErr := r.Stop()
	if rep != nil {
		logSummary(log, rep)
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			rep.Summary(stdout) // the table too, for a person watching
		}
	}
	if statsFile != "" && rep != nil {
		if err := writeJSON(statsFile, rep); err != nil {
			log.Error("writing stats", zap.Error(err))
			return err
		}
	}
	if stopErr != nil {
		log.Error("shutdown", zap.Error(stopErr))
		return stopErr
	}
	log.Info("stopped cleanly")
	return nil
}

// logSummary logs what the run did, as one entry: per port packets in and
// out, the lcores' totals by outcome, and the mempool's leak check.
func logSummary(log *zap.Logger, rep *report.Report) {
	type port struct {
		Name     string `json:"name"`
		Driver   string `json:"driver"`
		Rx       uint64 `json:"rx_packets"`
		Tx       uint64 `json:"tx_packets"`
		RxMissed uint64 `json:"rx_missed"`
		RxNoMbuf uint64 `json:"rx_nombuf"`
	}
	ports := make([]port, len(rep.Ports))
	for i, p := range rep.Ports {
		ports[i] = port{p.Name, p.Driver, p.RxPackets, p.TxPackets, p.RxMissed, p.RxNoMbuf}
	}
	nonzero := func(m map[string]uint64) map[string]uint64 {
		out := map[string]uint64{}
		for k, v := range m {
			if v > 0 {
				out[k] = v
			}
		}
		return out
	}
	log.Info("summary",
		zap.Any("ports", ports),
		zap.Uint64("rx_packets", rep.Totals.RxPackets),
		zap.Uint64("forwarded", rep.Totals.TxPackets),
		zap.Any("dropped", nonzero(rep.Totals.Dropped)),
		zap.Any("slowpath", nonzero(rep.Totals.SlowPath)),
		zap.Int("mbufs", rep.Mempool.Size),
		zap.Int("mbufs_in_use_after_stop", rep.Mempool.InUseAfterStop),
		zap.Int("mbufs_in_use_after_close", rep.Mempool.InUseAfterClose))
}
