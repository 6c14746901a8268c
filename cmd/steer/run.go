package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/api"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/logging"
	"github.com/steer-router/steer/pkg/metrics"
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
			if err := run(cfg, path, statsFile, exitOnIdle, cmd.OutOrStdout(), log); err != nil {
				return exitError{1}
			}
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

// apiServer is the HTTP API: bound before the ports start (a busy address
// fails start-up before any NIC is touched), answering 503 "starting"
// until the router is up.
type apiServer struct {
	srv  *http.Server
	h    api.Deferred
	done chan struct{}
}

// listenAPI binds metrics.listen and starts serving; nil when the API is
// off (metrics.listen empty).
func listenAPI(cfg *config.Config, log *zap.Logger) (*apiServer, error) {
	if cfg.Metrics.Listen == "" {
		log.Info("HTTP API disabled (metrics.listen is empty)")
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen: %q: %w (another steer, or another program, has it: give this one its own address, e.g. STEER_METRICS_LISTEN=127.0.0.1:9465)", cfg.Metrics.Listen, err)
	}
	ln = api.LimitConns(ln, api.MaxConns, nil)
	s := &apiServer{done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           &s.h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP API stopped", zap.Error(err))
		}
	}()
	log.Info("HTTP API listening", zap.String("address", ln.Addr().String()),
		zap.String("url", "http://"+ln.Addr().String()+"/metrics"), zap.Bool("changes_need_token", cfg.Metrics.APIToken() != ""))
	return s, nil
}

// serve hands the API to the running router.
func (s *apiServer) serve(cfg *config.Config, r *router.Router, log *zap.Logger, o api.Options) {
	if s == nil {
		return
	}
	o.Token = cfg.Metrics.APIToken()
	o.Build = metrics.BuildInfo{Version: version, DPDK: dpdkVersion()}
	o.Logf = func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }
	s.h.Set(api.New(r, o))
}

// stop ends the server: in-flight requests get apiShutdown to finish, then
// their connections are closed. Safe to call twice.
func (s *apiServer) stop(log *zap.Logger) {
	if s == nil || s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiShutdown)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		log.Warn("HTTP API: requests still running at shutdown; closing them", zap.Error(err))
		s.srv.Close() //nolint:errcheck // closing anyway
	}
	<-s.done
	s.srv = nil
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
