package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/logging"
	"github.com/steer-router/steer/pkg/router"
)

func runCmd() *cobra.Command {
	var path, statsFile string
	var exitOnIdle time.Duration
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "forward until SIGINT/SIGTERM, then stop cleanly and exit 0",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, path)
			if err != nil {
				return err
			}
			log, err := logging.New(cfg.Log.Level, cfg.Log.Format)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck // stderr
			log.Info("starting", zap.String("version", version), zap.String("config", path))

			// Subscribe before DPDK starts so an early signal still stops cleanly.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

			r, err := router.Start(cfg, log)
			if err != nil {
				log.Error("start-up failed", zap.Error(err))
				return exitError{1}
			}
			idleCh, stopWatch := watchIdle(r, exitOnIdle)
			select {
			case s := <-sig:
				log.Info("stopping", zap.String("signal", s.String()))
			case <-idleCh:
				log.Info("stopping", zap.Duration("idle", exitOnIdle))
			}
			stopWatch() // nothing may read the counters while they are freed
			rep, stopErr := r.Stop()
			if statsFile != "" && rep != nil {
				if err := writeJSON(statsFile, rep); err != nil {
					log.Error("writing stats", zap.Error(err))
					return exitError{1}
				}
			}
			if rep != nil {
				rep.Summary(cmd.OutOrStdout())
			}
			if stopErr != nil {
				log.Error("shutdown", zap.Error(stopErr))
				return exitError{1}
			}
			log.Info("stopped cleanly")
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	cmd.Flags().StringVar(&statsFile, "stats-file", "", "write the final counters as JSON to this file on exit")
	cmd.Flags().DurationVar(&exitOnIdle, "exit-on-idle", 0, "stop once no packet has arrived for this long (for replaying pcaps); 0 = never")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// watchIdle's channel closes once the lcores have received nothing for d.
// It reads the per-lcore counters (plain loads, no DPDK calls) ten times per
// d. The returned stop function ends the watch and waits for it.
func watchIdle(r *router.Router, d time.Duration) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	if d <= 0 {
		return ch, func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(max(d/10, 10*time.Millisecond))
		defer tick.Stop()
		var last uint64
		since := time.Now()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			var rx uint64
			for _, l := range r.Counters() {
				rx += l.RxPackets
			}
			if rx != last {
				last, since = rx, time.Now()
			} else if time.Since(since) >= d {
				close(ch)
				return
			}
		}
	}()
	return ch, func() { close(quit); <-done }
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("stats file: %w", err)
	}
	return os.Rename(tmp, path)
}
