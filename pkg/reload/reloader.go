package reload

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/config"
)

// Outcome is how one reload ended.
type Outcome string

// The outcomes, also the result label of steer_config_reloads_total.
const (
	Applied Outcome = "applied" // every change in effect (possibly none)
	Refused Outcome = "refused" // unreadable or invalid file, or a change that needs a restart: nothing touched
	Failed  Outcome = "failed"  // the router refused a change: the others were undone
)

// Reloader re-reads one config file on request and applies what changed
// since the config it was created with (or the last reload that took
// effect). One reload runs at a time.
type Reloader struct {
	path string
	log  *zap.Logger
	load func(string) (*config.Config, error)

	mu    sync.Mutex
	cfg   *config.Config // the running config (routes and neighbours: see state)
	state State          // the file's routes and neighbours as the router has them
	// start holds the routes and neighbours the router started with until
	// the first reload makes them state: a full routes_file's map would
	// otherwise cost start-up a fifth of a second.
	start *config.Config

	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge
}

// New returns a reloader for the config at path, which cfg was loaded
// from and the router started with. It keeps a copy of cfg, so it can be
// created before the router starts (cfg.FileRoutes, which nothing
// changes, is shared).
func New(path string, cfg *config.Config, log *zap.Logger) *Reloader {
	start := &config.Config{Routes: slices.Clone(cfg.Routes), Neighbors: slices.Clone(cfg.Neighbors), FileRoutes: cfg.FileRoutes}
	rl := &Reloader{path: path, log: log, load: config.Load, cfg: clone(cfg), start: start,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steer_config_reloads_total",
			Help: "Config reloads (SIGHUP) by result: applied, refused (invalid file or a change that needs a restart) or failed (the router refused a change; the reload was undone).",
		}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "steer_config_last_reload_success",
			Help: "1 when the last config reload was applied (or none was asked for yet), 0 when it was refused or failed.",
		}),
	}
	for _, o := range []Outcome{Applied, Refused, Failed} {
		rl.reloads.WithLabelValues(string(o))
	}
	rl.lastOK.Set(1)
	return rl
}

// Collectors are the reload metrics, for the API's registry.
func (rl *Reloader) Collectors() []prometheus.Collector {
	return []prometheus.Collector{rl.reloads, rl.lastOK}
}

// maxLogged bounds the changes a reload logs one by one (a routes_file of
// a full table can change by hundreds of thousands of routes).
const maxLogged = 100

// lines are the first maxLogged changes of p as text, and a count of the rest.
func lines(p Plan) []string {
	out := make([]string, 0, min(len(p), maxLogged+1))
	for i, c := range p {
		if i == maxLogged {
			out = append(out, fmt.Sprintf("and %d more change(s), not logged one by one", len(p)-maxLogged))
			break
		}
		out = append(out, c.String())
	}
	return out
}

// clone deep-copies a config (exported fields, derived ones included, but
// FileRoutes, which is not JSON: the state keeps the file's routes).
func clone(c *config.Config) *config.Config {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("reload: copying the config: %v", err))
	}
	var out config.Config
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("reload: copying the config: %v", err))
	}
	return &out
}

// Report is how a reload ended and the line that says why (the one logged
// as its error or summary), for the caller who asked (`steer reload`).
type Report struct {
	Outcome Outcome
	Message string
}

// Reload reads the file again and applies the differences in routes and
// neighbours to r. It refuses the whole reload, changing nothing, when the
// file is invalid or anything else differs (that needs a restart). Every
// outcome is logged: one error line for a refusal or failure, one info
// line per applied change and a summary.
func (rl *Reloader) Reload(r Router) Report {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rep := rl.reload(r)
	rl.reloads.WithLabelValues(string(rep.Outcome)).Inc()
	if rep.Outcome == Applied {
		rl.lastOK.Set(1)
	} else {
		rl.lastOK.Set(0)
	}
	return rep
}

// Running is a copy of the config in effect: the file as last applied
// (the start-up config before any reload).
func (rl *Reloader) Running() *config.Config {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return clone(rl.cfg)
}

func (rl *Reloader) reload(r Router) Report {
	rl.log.Info("reloading the config", zap.String("config", rl.path))
	next, err := rl.load(rl.path)
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			lines := make([]string, len(ps))
			for i, p := range ps {
				lines[i] = p.Error()
			}
			msg := fmt.Sprintf("reload refused: %s has %d problem(s): %s; keeping the running config",
				rl.path, len(ps), strings.Join(lines, "; "))
			rl.log.Error(msg, zap.Strings("problems", lines))
			return Report{Refused, msg}
		}
		msg := fmt.Sprintf("reload refused: %v; keeping the running config", err)
		rl.log.Error(msg)
		return Report{Refused, msg}
	}
	if fields := RestartFields(rl.cfg, next); len(fields) > 0 {
		msg := fmt.Sprintf("reload refused: %s; needs a restart (nothing was changed)", strings.Join(fields, ", "))
		rl.log.Error(msg, zap.Strings("fields", fields))
		return Report{Refused, msg}
	}
	if rl.start != nil {
		rl.state, rl.start = FromConfig(rl.start), nil
	}
	plan := Diff(rl.state, FromConfig(next))
	if len(plan) == 0 {
		msg := "reload applied: no route or neighbour changed"
		rl.log.Info(msg)
		rl.cfg = next
		return Report{Applied, msg}
	}
	res := Apply(r, rl.state, plan)
	rl.state = res.State
	if !res.OK() {
		undone := lines(res.RolledBack)
		msg := fmt.Sprintf("reload failed: %s: %v; undid the %d change(s) made before it, keeping the running routes and neighbours",
			res.Failed.Change, res.Failed.Err, len(res.RolledBack))
		rl.log.Error(msg, zap.String("failed", res.Failed.Change.String()), zap.Strings("undone", undone))
		for i, f := range res.RollbackFailed {
			if i == maxLogged {
				rl.log.Error(fmt.Sprintf("reload: could not undo %d more change(s); they stay in effect", len(res.RollbackFailed)-maxLogged))
				break
			}
			rl.log.Error(fmt.Sprintf("reload: could not undo %s: %v; it stays in effect", f.Change, f.Err))
		}
		if len(res.RollbackFailed) > 0 {
			msg += fmt.Sprintf("; %d change(s) could not be undone and stay in effect (see the log)", len(res.RollbackFailed))
		}
		return Report{Failed, msg}
	}
	for _, l := range lines(res.Applied) {
		rl.log.Info("reload: " + l)
	}
	n := plan.Counts()
	rl.log.Info("reload applied",
		zap.Int("routes_added", n[RouteAdded]), zap.Int("routes_removed", n[RouteRemoved]), zap.Int("routes_changed", n[RouteChanged]),
		zap.Int("neighbors_added", n[NeighborAdded]), zap.Int("neighbors_removed", n[NeighborRemoved]), zap.Int("neighbors_changed", n[NeighborChanged]))
	rl.cfg = next
	return Report{Applied, fmt.Sprintf("reload applied: routes %d added, %d removed, %d changed; neighbours %d added, %d removed, %d changed",
		n[RouteAdded], n[RouteRemoved], n[RouteChanged], n[NeighborAdded], n[NeighborRemoved], n[NeighborChanged])}
}
