package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/steer-router/steer/pkg/config"
)

// Where the commands that talk to a running steer find it, first match
// wins: --api, $STEER_API, the metrics.listen of --config (or of the
// default config file, when it exists), defaultAPI.
const (
	apiEnv     = "STEER_API"
	defaultAPI = "127.0.0.1:9464"
)

// apiClient talks to a running steer's HTTP API.
type apiClient struct {
	api, token, config string // flags
	output             string // -o: table | json (read commands)

	base string // http://127.0.0.1:9464, resolved by connect
	http *http.Client
}

// apiFlags adds the flags every API command shares to cmd and its
// subcommands.
func apiFlags(cmd *cobra.Command, c *apiClient) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.api, "api", "", "a running steer's API: host:port or URL (default $"+apiEnv+", else metrics.listen of --config, else "+defaultAPI+")")
	f.StringVar(&c.token, "token", "", "bearer token for changes (default $"+config.APITokenEnv+", else metrics.token of --config)")
	f.StringVarP(&c.config, "config", "c", "", "read the API address and token from this steer config (default "+defaultConfig+" when it exists)")
	_ = cmd.MarkPersistentFlagFilename("config", "yaml", "yml")
}

// outputFlag adds -o to a read command.
func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "table", "table or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// jsonOutput reports whether -o asks for JSON; another value than table or
// json is a usage error.
func jsonOutput(output string) (bool, error) {
	switch output {
	case "", "table":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usageError{fmt.Errorf("--output: %q is neither table nor json", output)}
}

// printJSON writes v indented, for -o json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// connect resolves the API's base URL and token once.
func (c *apiClient) connect() error {
	if c.base != "" {
		return nil
	}
	addr, token := c.api, c.token
	if token == "" {
		token = os.Getenv(config.APITokenEnv)
	}
	if addr == "" {
		addr = os.Getenv(apiEnv)
	}
	if addr == "" || token == "" {
		listen, cfgToken, err := apiFromConfig(c.config)
		if err != nil {
			return err
		}
		if addr == "" {
			addr = listen
		}
		if token == "" {
			token = cfgToken
		}
	}
	if addr == "" {
		addr = defaultAPI
	}
	base, err := apiURL(addr)
	if err != nil {
		return err
	}
	c.base, c.token = base, token
	return nil
}

// apiFromConfig reads metrics.listen and metrics.token of a config file
// (path, else the default file if it exists), without validating the rest:
// a client needs the address even while the file has problems. A wildcard
// listen address is reached on loopback.
func apiFromConfig(path string) (listen, token string, err error) {
	explicit := path != ""
	if !explicit {
		path = defaultConfig
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return "", "", nil
		}
		return "", "", fmt.Errorf("--config: %w", err)
	}
	var doc struct {
		Metrics struct{ Listen, Token *string }
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", "", fmt.Errorf("%s: not YAML: %w", path, err)
	}
	if v := os.Getenv("STEER_METRICS_LISTEN"); v != "" {
		doc.Metrics.Listen = &v
	}
	if v := os.Getenv("STEER_METRICS_TOKEN"); v != "" {
		doc.Metrics.Token = &v
	}
	if doc.Metrics.Token != nil {
		token = *doc.Metrics.Token
	}
	if doc.Metrics.Listen == nil {
		return defaultAPI, token, nil
	}
	if *doc.Metrics.Listen == "" {
		return "", "", fmt.Errorf("%s: metrics.listen is empty: that steer serves no API", path)
	}
	host, port, err := net.SplitHostPort(*doc.Metrics.Listen)
	if err != nil {
		return "", "", fmt.Errorf("%s: metrics.listen: %w", path, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port), token, nil
}

// apiURL turns host:port, or an http(s) URL, into the API's base URL.
func apiURL(addr string) (string, error) {
	raw := addr
	if !strings.Contains(addr, "://") {
		raw = "http://" + addr
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", usageError{fmt.Errorf("--api: %q is neither host:port nor an http(s) URL (like 127.0.0.1:9464)", addr)}
	}
	if u.Port() == "" {
		return "", usageError{fmt.Errorf("--api: %q has no port (steer's API listens on metrics.listen, like 127.0.0.1:9464)", addr)}
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// apiError is an error answer of the API: its message, with the field it
// names ("via", "routes[3].via"; "" for none).
type apiError struct{ Field, Msg string }

func (e *apiError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// do sends a request and decodes a JSON answer into out (if not nil; a
// *[]byte takes the body as it is). API errors come back as an *apiError.
func (c *apiClient) do(method, path string, in, out any) error {
	if err := c.connect(); err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("no steer answering at %s (is steer running? --api, $%s or --config say where): %w", c.base, apiEnv, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		if c.token == "" {
			return fmt.Errorf("this steer needs its API token for changes: pass --token, set $%s, or point --config at its config", config.APITokenEnv)
		}
		return fmt.Errorf("this steer refused the token: --token or $%s must be its metrics.token", config.APITokenEnv)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error, Field string }
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error != "" {
			return &apiError{Field: e.Field, Msg: strings.TrimPrefix(e.Error, e.Field+": ")}
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	switch out := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*out, err = io.ReadAll(resp.Body)
		return err
	default:
		return json.NewDecoder(resp.Body).Decode(out)
	}
}

// completePorts offers the port names of the running steer (shell
// completion of --port); nothing when none answers.
func (c *apiClient) completePorts(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var rep struct{ Ports []struct{ Name string } }
	if err := c.do("GET", "/api/v1/stats", nil, &rep); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []cobra.Completion
	for _, p := range rep.Ports {
		names = append(names, p.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
