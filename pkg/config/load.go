package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/steer-router/steer/pkg/field"
)

// EnvPrefix prefixes the environment variables that override config keys:
// eal.huge is overridden by STEER_EAL_HUGE.
const EnvPrefix = "STEER"

// Problem is one thing wrong with a configuration, naming the field path as
// the operator typed it ("ports[1].addresses[0]") and the offending value.
type Problem = field.Error

// Problems is every problem found in one configuration. Load and Parse return
// it (as the error) when it is not empty.
type Problems = field.Errors

// Load reads the YAML file at path, applies STEER_* environment overrides and
// defaults, decodes it strictly and validates it. A file that cannot be read
// or is not YAML gives a plain error; anything wrong inside it gives Problems
// listing every problem found.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(data, filepath.Dir(path))
}

// Parse is Load on YAML already in memory (environment overrides apply too);
// a relative routes_file is read from the working directory.
func Parse(yamlBytes []byte) (*Config, error) { return parse(yamlBytes, "") }

func parse(yamlBytes []byte, dir string) (*Config, error) {
	settings, err := readSettings(yamlBytes)
	if err != nil {
		return nil, err
	}
	defaultListKeys(settings)
	cfg := &Config{}
	probs := decode(settings, cfg)
	probs = append(probs, withoutFollowOns(cfg.validate(dir), probs)...)
	if len(probs) > 0 {
		return nil, probs
	}
	return cfg, nil
}

// readSettings has viper read the YAML, apply defaults and environment
// overrides, and returns the merged tree (environment values marked).
func readSettings(yamlBytes []byte) (map[string]any, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	setDefaults(v)
	// AutomaticEnv only answers for keys viper already knows (from the file or
	// a default); binding every scalar key lets STEER_EAL_LCORES set eal.lcores
	// even when the file leaves it out.
	for _, k := range scalarKeys(reflect.TypeOf(Config{}), "") {
		if err := v.BindEnv(k); err != nil {
			return nil, err
		}
	}
	if err := v.ReadConfig(bytes.NewReader(yamlBytes)); err != nil {
		var pe viper.ConfigParseError
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			err = pe.Unwrap() // drop viper's "While parsing config: "
		}
		return nil, fmt.Errorf("parse config: %w", err)
	}
	settings := v.AllSettings()
	markEnv(v, settings)
	return settings, nil
}

// Port returns the index in c.Ports of the port called name.
func (c *Config) Port(name string) (int, bool) {
	for i := range c.Ports {
		if c.Ports[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// Defaults for the scalar keys (viper applies them when the key is absent).
var defaults = map[string]any{
	"eal.main_lcore":               0,
	"eal.huge":                     true,
	"eal.memory_mb":                512,
	"eal.file_prefix":              "steer",
	"poll.mode":                    "adaptive",
	"poll.max_sleep":               "2ms",
	"mempool.mbufs":                0, // computed from queues and lcores at start
	"mempool.cache":                256,
	"mempool.data_room":            2176,
	"distributor.ring_size":        1024,
	"distributor.reta_size":        128,
	"distributor.burst":            32,
	"distributor.on_full":          "drop",
	"distributor.max_stall":        "100us",
	"distributor.hash":             "auto",
	"distributor.balance.mode":     "auto",
	"distributor.balance.interval": "500ms",
	"distributor.balance.busy":     0.9,
	"distributor.balance.min_gain": 0.05,
	"distributor.balance.hold":     "2s",
	"slow_path.ring_size":          1024,
	"slow_path.rate":               20000,
	"fib.max_routes":               1 << 16,
	"fib.tbl8_groups":              1 << 12,
	"arp.reachable_time":           "30s",
	"arp.stale_time":               "60s",
	"arp.retrans_time":             "1s",
	"arp.failed_hold":              "20s",
	"arp.max_retries":              3,
	"arp.max_pending":              8,
	"arp.max_entries":              4096,
	"icmp.rate":                    100,
	"icmp.burst":                   50,
	"metrics.listen":               "127.0.0.1:9464",
	"log.level":                    "info",
	"log.format":                   "auto",
}

// Defaults for the keys of a port, which viper cannot default (it defaults
// scalars, not the elements of a list): applied to the settings before
// decoding, for keys the port leaves out.
var portDefaults = map[string]any{
	"rx_queues": 1, "tx_queues": 1, "rx_desc": 1024, "tx_desc": 1024, "mtu": 1500, "steering": "auto",
}

func setDefaults(v *viper.Viper) {
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
}

// defaultListKeys gives each port the keys it leaves out, before decoding,
// so a value given explicitly (mtu: 0) is validated, not defaulted.
func defaultListKeys(settings map[string]any) {
	ports, _ := settings["ports"].([]any)
	for _, p := range ports {
		m, ok := p.(map[string]any)
		if !ok {
			continue // decode names it
		}
		for k, v := range portDefaults {
			if _, set := m[k]; !set {
				m[k] = v
			}
		}
	}
}

// scalarKeys lists the dotted keys of t that the environment can set: every
// field outside lists of tables ("eal.huge", "eal.args", "log.level").
func scalarKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		switch {
		case f.Type.Kind() == reflect.Struct:
			keys = append(keys, scalarKeys(f.Type, key+".")...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			// ports, lcores, routes, neighbors: file only
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// envValue marks a setting that came from the environment: it is text, and
// is converted to the field's type (rather than rejected as a string where an
// integer belongs, as it would be in the file).
type envValue struct {
	Var string // STEER_EAL_HUGE
	Raw string
}

func envVar(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// markEnv wraps in envValue each setting that viper took from the
// environment. viper gives an environment variable precedence over the file
// and defaults whenever it is set and not empty, the test repeated here.
func markEnv(v *viper.Viper, settings map[string]any) {
	for _, key := range v.AllKeys() {
		name := envVar(key)
		raw, ok := os.LookupEnv(name)
		if !ok || raw == "" {
			continue
		}
		path := strings.Split(key, ".")
		m := settings
		for _, p := range path[:len(path)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				m = nil
				break
			}
			m = next
		}
		if m != nil {
			if _, ok := m[path[len(path)-1]]; ok {
				m[path[len(path)-1]] = envValue{Var: name, Raw: raw}
			}
		}
	}
}

// valueError is a decode problem with the offending value.
type valueError struct {
	value string
	msg   string
}

func (e *valueError) Error() string { return e.msg }

// decode turns viper's settings into c: strictly typed, unknown keys are
// problems, and every problem is reported rather than the first.
func decode(settings map[string]any, c *Config) Problems {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           c,
		TagName:          "mapstructure",
		ErrorUnused:      true,
		WeaklyTypedInput: false,
		DecodeHook:       typeHook,
	})
	if err != nil {
		return Problems{{Msg: err.Error()}}
	}
	err = dec.Decode(settings)
	if err == nil {
		return nil
	}
	return decodeProblems(err)
}

// typeHook checks each value against the kind of field it is decoded into,
// so that a wrong type is reported in the operator's terms with its value,
// converts environment text to the field's type, and accepts whole floats
// ("1024.0") for integers while refusing fractions (mapstructure would
// truncate them).
func typeHook(from, to reflect.Value) (any, error) {
	in := from.Interface()
	if ev, ok := in.(envValue); ok {
		return fromEnv(ev, to.Type())
	}
	bad := func() (any, error) {
		return nil, &valueError{value: scalarText(in), msg: fmt.Sprintf("expected %s, got %s%s", kindName(to.Type()), typeName(in), quoteHint(to.Type(), in))}
	}
	switch to.Kind() {
	case reflect.Int:
		switch x := in.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32:
			return in, nil
		case uint64:
			if x > math.MaxInt64 {
				return bad()
			}
			return in, nil
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return bad()
			}
			return int64(x), nil
		case float32:
			if float64(x) != math.Trunc(float64(x)) {
				return bad()
			}
			return int64(x), nil
		}
		return bad()
	case reflect.Bool:
		if _, ok := in.(bool); !ok {
			return bad()
		}
	case reflect.String:
		if _, ok := in.(string); !ok {
			return bad()
		}
	case reflect.Slice, reflect.Array:
		if k := from.Kind(); k != reflect.Slice && k != reflect.Array {
			return bad()
		}
	case reflect.Struct:
		if from.Kind() != reflect.Map {
			return bad()
		}
	}
	return in, nil
}

func fromEnv(ev envValue, t reflect.Type) (any, error) {
	bad := func(what string) (any, error) {
		return nil, &valueError{value: ev.Raw, msg: fmt.Sprintf("%s from %s: expected %s", what, ev.Var, kindName(t))}
	}
	switch t.Kind() {
	case reflect.String:
		return ev.Raw, nil
	case reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(ev.Raw), 10, 64)
		if err != nil {
			return bad("not an integer")
		}
		return n, nil
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(ev.Raw))
		if err != nil {
			return bad("not a boolean")
		}
		return b, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			// A list of words, like a shell would split it: STEER_EAL_ARGS="--log-level 8".
			return strings.Fields(ev.Raw), nil
		}
	}
	return nil, &valueError{value: ev.Raw, msg: fmt.Sprintf("cannot be set from the environment (%s); set it in the file", ev.Var)}
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Struct {
			return "a list of mappings"
		}
		return "a list"
	case reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "an integer"
	case float32, float64:
		return "a number with a fraction"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// scalarText is v as text, or "" for lists and mappings.
func scalarText(v any) string {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		return ""
	}
	return fmt.Sprint(v)
}

func quoteHint(t reflect.Type, v any) string {
	if t.Kind() != reflect.String {
		return ""
	}
	switch v.(type) {
	case bool, int, int64, uint64, float64:
		return "; quote it in the YAML"
	}
	return ""
}

// rootName is the name mapstructure gives the top-level struct in errors.
var rootName = reflect.TypeOf(Config{}).String()

const invalidKeys = "has invalid keys: "

// decodeProblems flattens mapstructure's joined errors into Problems.
func decodeProblems(err error) Problems {
	var out Problems
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if de, ok := e.(*mapstructure.DecodeError); ok {
			out = append(out, fromDecodeError(de)...)
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
			return
		}
		out = append(out, Problem{Msg: e.Error()})
	}
	walk(err)
	return out
}

func fromDecodeError(de *mapstructure.DecodeError) Problems {
	field := de.Name()
	if field == rootName {
		field = ""
	}
	inner := de.Unwrap()
	var ve *valueError
	if errors.As(inner, &ve) {
		return Problems{{Field: field, Value: ve.value, Msg: ve.msg}}
	}
	if msg := inner.Error(); strings.HasPrefix(msg, invalidKeys) {
		var out Problems
		for _, k := range strings.Split(strings.TrimPrefix(msg, invalidKeys), ", ") {
			p := Problem{Field: joinPath(field, k), Msg: "unknown key"}
			if s := suggest(field, k); s != "" {
				p.Msg += fmt.Sprintf("; did you mean %q?", s)
			}
			out = append(out, p)
		}
		return out
	}
	return Problems{{Field: field, Msg: inner.Error()}}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// suggest returns the known key at path closest to the unknown key, if it is
// close enough to be a typo.
func suggest(path, key string) string {
	t := typeAt(path)
	if t == nil {
		return ""
	}
	best, bestD := "", 3
	if len(key) <= 4 {
		bestD = 2
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("mapstructure"); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if d := editDistance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// typeAt resolves a mapstructure path ("ports[0]", "lcores[1].rx[0]") to the
// struct type found there, or nil.
func typeAt(path string) reflect.Type {
	t := reflect.TypeOf(Config{})
	if path == "" {
		return t
	}
	for _, part := range strings.Split(path, ".") {
		name := part
		idx := strings.IndexByte(part, '[')
		if idx >= 0 {
			name = part[:idx]
		}
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil
		}
		t = f.Type
		for n := strings.Count(part, "["); n > 0; n-- {
			if t.Kind() != reflect.Slice {
				return nil
			}
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("mapstructure") == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// withoutFollowOns drops validation problems about fields that already have a
// decode problem: a field that failed to decode is left empty, and "required"
// on top of "expected an integer" would only be noise.
func withoutFollowOns(vps, decoded Problems) Problems {
	if len(decoded) == 0 {
		return vps
	}
	var out Problems
next:
	for _, p := range vps {
		for _, d := range decoded {
			if d.Field == "" {
				continue
			}
			if p.Field == d.Field || strings.HasPrefix(p.Field, d.Field+".") || strings.HasPrefix(p.Field, d.Field+"[") {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}
