package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/pkg/api"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/logging"
	"github.com/steer-router/steer/pkg/metrics"
	"github.com/steer-router/steer/pkg/reload"
	"github.com/steer-router/steer/pkg/router"
)

func runCmd() *cobra.Command {
	var path, statsFile string
	var exitOnIdle time.Duration
	cmd := &cobra.Command{
		Use:   "run [--config FILE]",
		Short: "forward until SIGINT/SIGTERM, then stop cleanly and exit 0; SIGHUP re-reads the config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, &path)
			if err != nil {
				return err
			}
			log, err := logging.New(cfg.Log.Level, cfg.Log.Format)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck // stderr
			log.Info("starting", zap.String("version", version), zap.String("config", path))
			for _, w := range cfg.Warnings() {
				log.Warn("config: " + w)
			}

			// Subscribe before DPDK starts so an early signal still stops cleanly.
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			rl := reload.New(path, cfg, log)

			if err := router.InitEAL(cfg, log); err != nil {
				log.Error("start-up failed", zap.Error(err))
				return exitError{1}
			}
			// EAL's hugepage files and runtime directory go once the
			// router has stopped, however it ends.
			defer func() {
				if err := eal.Cleanup(); err != nil {
					log.Error("rte_eal_cleanup", zap.Error(err))
				}
			}()
			r, err := router.Start(cfg, log)
			if err != nil {
				log.Error("start-up failed", zap.Error(err))
				return exitError{1}
			}
			stopAPI, err := startAPI(cfg, r, log, api.Options{
				Collectors: rl.Collectors(),
				Reload: func() (bool, string) {
					rep := rl.Reload(r)
					return rep.Outcome == reload.Applied, rep.Message
				},
				RunningConfig: func() ([]byte, error) {
					return reload.Dump(rl.Running(), r.Routes(false), r.Neighbors(), path, time.Now())
				},
			})
			if err != nil {
				log.Error("start-up failed", zap.Error(err))
				if _, err := r.Stop(); err != nil {
					log.Error("shutdown", zap.Error(err))
				}
				return exitError{1}
			}
			idleCh, stopWatch := watchIdle(r, exitOnIdle)
		wait:
			for {
				select {
				case <-hup: // routes and neighbours change live; the rest needs a restart
					rl.Reload(r)
				case s := <-sig:
					log.Info("stopping", zap.String("signal", s.String()))
					break wait
				case <-idleCh:
					log.Info("stopping", zap.Duration("idle", exitOnIdle))
					break wait
				}
			}
			// Nothing may read the counters while they are freed: the idle
			// watch and the HTTP endpoint end before the router stops.
			stopWatch()
			stopAPI()
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
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&statsFile, "stats-file", "", "write the final counters as JSON to this file on exit")
	cmd.Flags().DurationVar(&exitOnIdle, "exit-on-idle", 0, "stop once no packet has arrived for this long (for replaying pcaps); 0 = never")
	return cmd
}

// apiShutdown bounds how long stopping waits for HTTP requests in progress.
const apiShutdown = 2 * time.Second

// startAPI serves the HTTP API on metrics.listen (nothing when it is
// empty). Listening happens here, so a busy address is a start-up error.
// The returned function stops the server: in-flight requests get
// apiShutdown to finish, then their connections are closed.
func startAPI(cfg *config.Config, r *router.Router, log *zap.Logger, o api.Options) (func(), error) {
	if cfg.Metrics.Listen == "" {
		log.Info("HTTP API disabled (metrics.listen is empty)")
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %w", err)
	}
	ln = api.LimitConns(ln, api.MaxConns, nil)
	token := cfg.Metrics.APIToken()
	o.Token = token
	o.Build = metrics.BuildInfo{Version: version, DPDK: dpdkVersion()}
	o.Logf = func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }
	h := api.New(r, o)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP API stopped", zap.Error(err))
		}
	}()
	log.Info("HTTP API listening", zap.String("address", ln.Addr().String()),
		zap.String("url", "http://"+ln.Addr().String()+"/metrics"), zap.Bool("changes_need_token", token != ""))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), apiShutdown)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("HTTP API: requests still running at shutdown; closing them", zap.Error(err))
			srv.Close() //nolint:errcheck // closing anyway
		}
		<-done
	}, nil
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
