package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAPIURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9464":             "http://127.0.0.1:9464",
		"http://127.0.0.1:9464/":     "http://127.0.0.1:9464",
		"https://router.example:443": "https://router.example:443",
		"[::1]:9464":                 "http://[::1]:9464",
		"localhost:9000":             "http://localhost:9000",
	} {
		if got, err := apiURL(in); err != nil || got != want {
			t.Errorf("apiURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"127.0.0.1", "ftp://127.0.0.1:21", "http://:9464x", "::1"} {
		_, err := apiURL(bad)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--api") {
			t.Errorf("apiURL(%q): %v, want a usage error naming --api", bad, err)
		}
	}
}

func TestAPIFromConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, y string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, yaml, listen, token, err string }{
		{"loopback", "metrics: {listen: \"127.0.0.1:9500\", token: abc}\n", "127.0.0.1:9500", "abc", ""},
		{"wildcard", "metrics: {listen: \"0.0.0.0:9501\"}\n", "127.0.0.1:9501", "", ""},
		{"v6 wildcard", "metrics: {listen: \"[::]:9502\"}\n", "[::1]:9502", "", ""},
		{"no metrics", "ports: []\n", defaultAPI, "", ""},
		{"API off", "metrics: {listen: \"\"}\n", "", "", "metrics.listen is empty"},
		// The rest of the file is not validated: the address is enough.
		{"invalid elsewhere", "eal: {lcores: 99-1}\nmetrics: {listen: \"127.0.0.1:9503\"}\n", "127.0.0.1:9503", "", ""},
		{"not YAML", "metrics: [", "", "", "not YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listen, token, err := apiFromConfig(write(tc.name+".yaml", tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || listen != tc.listen || token != tc.token {
				t.Errorf("%q %q %v, want %q %q", listen, token, err, tc.listen, tc.token)
			}
		})
	}
	if _, _, err := apiFromConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("a missing --config file: %v", err)
	}
	t.Setenv("STEER_METRICS_LISTEN", "127.0.0.1:9600")
	if listen, _, _ := apiFromConfig(write("env.yaml", "metrics: {listen: \"127.0.0.1:9500\"}\n")); listen != "127.0.0.1:9600" {
		t.Errorf("STEER_METRICS_LISTEN not honoured: %s", listen)
	}
}

func TestConnectOrder(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "steer.yaml")
	if err := os.WriteFile(cfg, []byte("metrics: {listen: \"127.0.0.1:9700\", token: fromfile}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(apiEnv, "")
	t.Setenv("STEER_API_TOKEN", "")
	c := &apiClient{config: cfg}
	if err := c.connect(); err != nil || c.base != "http://127.0.0.1:9700" || c.token != "fromfile" {
		t.Errorf("from --config: %q %q %v", c.base, c.token, err)
	}
	t.Setenv(apiEnv, "127.0.0.1:9800")
	t.Setenv("STEER_API_TOKEN", "fromenv")
	c = &apiClient{config: cfg}
	if err := c.connect(); err != nil || c.base != "http://127.0.0.1:9800" || c.token != "fromenv" {
		t.Errorf("environment over --config: %q %q %v", c.base, c.token, err)
	}
	c = &apiClient{config: cfg, api: "http://127.0.0.1:9900", token: "fromflag"}
	if err := c.connect(); err != nil || c.base != "http://127.0.0.1:9900" || c.token != "fromflag" {
		t.Errorf("flags over everything: %q %q %v", c.base, c.token, err)
	}
}
