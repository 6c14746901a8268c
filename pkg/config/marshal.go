package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Defaults returns the configuration Parse gives a document that sets
// nothing: every scalar default (eal, mempool, distributor, slow_path, fib,
// arp, icmp, metrics, log), no ports, lcores, routes or neighbors. Build a
// configuration from it, adding ports made with DefaultPort, and render it
// with Marshal. The environment (STEER_*) plays no part here.
func Defaults() *Config {
	v := viper.New()
	setDefaults(v)
	c := &Config{}
	if probs := decode(v.AllSettings(), c); len(probs) > 0 {
		panic("config: the defaults do not decode: " + probs.Error()) // a bug in this package
	}
	return c
}

// DefaultPort returns a port with the defaults Parse gives a ports entry
// that sets only its name, device and addresses (queues, descriptors, MTU,
// steering).
func DefaultPort() Port {
	settings := map[string]any{"ports": []any{map[string]any{}}}
	defaultListKeys(settings)
	c := &Config{}
	if probs := decode(settings, c); len(probs) > 0 {
		panic("config: the port defaults do not decode: " + probs.Error()) // a bug in this package
	}
	return c.Ports[0]
}

// Marshal renders c as a YAML document that Parse and Load accept back and
// decode into the same values: every key of the schema (the mapstructure
// tags of Config), in the order of the struct fields, with the values c
// holds, zero values included. Fields derived by validation (tagged "-")
// are left out. A nil list is left out (Parse gives nil back); an empty,
// non-nil one is written as []. Marshal does not validate c.
func Marshal(c *Config) ([]byte, error) {
	n, err := MarshalNode(c)
	if err != nil {
		return nil, err
	}
	return EncodeYAML(n)
}

// MarshalNode is Marshal before encoding: the document's root mapping, for
// callers that add comments or merge other YAML into it.
func MarshalNode(c *Config) (*yaml.Node, error) {
	if c == nil {
		return nil, fmt.Errorf("config: Marshal of a nil *Config")
	}
	return marshalValue(reflect.ValueOf(*c), "")
}

// EncodeYAML writes a node as a YAML document indented by two spaces, the
// layout of the examples in dpdk-config/.
func EncodeYAML(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// marshalValue renders v; path names it in errors ("ports[0].mtu").
func marshalValue(v reflect.Value, path string) (*yaml.Node, error) {
	switch v.Kind() {
	case reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if err := marshalFields(m, v, path); err != nil {
			return nil, err
		}
		return m, nil
	case reflect.Slice, reflect.Array:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			e, err := marshalValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if e.Kind == yaml.MappingNode && flowable(e, 60) {
				e.Style = yaml.FlowStyle // - {prefix: "198.51.100.0/24", via: "203.0.113.2"}
			}
			s.Content = append(s.Content, e)
		}
		// ["10.0.0.1/24"], and rx: [{port: lan, queue: 0}] inside an
		// entry; a top-level list keeps one entry per line.
		if flowable(s, 80) && (scalars(s) || strings.ContainsAny(path, ".[")) {
			s.Style = yaml.FlowStyle
		}
		return s, nil
	case reflect.String:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.String()}
		if !plainWord(n.Value) {
			n.Style = yaml.DoubleQuotedStyle // "10.0.0.1/24", "0000:03:00.0", "net_pcap0,rx_pcap=in.pcap"
		}
		return n, nil
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v.Bool())}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v.Int(), 10)}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(v.Uint(), 10)}, nil
	case reflect.Float32, reflect.Float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(v.Float(), 'g', -1, 64)}, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		return marshalValue(v.Elem(), path)
	}
	return nil, fmt.Errorf("config: Marshal: %s: cannot render a %s", pathOrRoot(path), v.Type())
}

// marshalFields appends the tagged fields of struct v to mapping m; a
// ",squash" field's own fields go into m.
func marshalFields(m *yaml.Node, v reflect.Value, path string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if name == "" {
			if strings.Contains(opts, "squash") && fv.Kind() == reflect.Struct {
				if err := marshalFields(m, fv, path); err != nil {
					return err
				}
			}
			continue // untagged: not part of the schema
		}
		if (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.IsNil() {
			continue
		}
		key := joinPath(path, name)
		val, err := marshalValue(fv, key)
		if err != nil {
			return err
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, val)
	}
	return nil
}

// flowable: a collection written on one line, as the examples write
// addresses, rx queues, routes and neighbours: it holds only scalars and
// one-line collections, and is at most width characters long.
func flowable(n *yaml.Node, width int) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode && c.Style != yaml.FlowStyle {
			return false
		}
	}
	return textWidth(n) <= width
}

func scalars(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// plainWord: a string written without quotes (lan, info, 30s, steer-dist);
// the encoder still quotes those YAML would read as something else ("4",
// "true").
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func textWidth(n *yaml.Node) int {
	w := len(n.Value) + 2
	for _, c := range n.Content {
		w += textWidth(c)
	}
	return w
}

func pathOrRoot(p string) string {
	if p == "" {
		return "(document)"
	}
	return p
}
