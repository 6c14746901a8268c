package config

import (
	"strings"
	"testing"
)

// parseMetrics parses the valid base config with metrics set as given (a
// nil token leaves the key out).
func parseMetrics(t *testing.T, listen string, token any) (*Config, Problems) {
	t.Helper()
	tree := base()
	m := map[string]any{"listen": listen}
	if token != nil {
		m["token"] = token
	}
	tree["metrics"] = m
	ps := problemsOf(t, yamlOf(t, tree))
	if ps != nil {
		return nil, ps
	}
	return mustParse(t, yamlOf(t, tree)), nil
}

// TestTokenRequiredOffLoopback: an API reachable from other hosts must
// have a token; loopback and disabled endpoints need none.
func TestTokenRequiredOffLoopback(t *testing.T) {
	t.Setenv(APITokenEnv, "")
	t.Setenv("STEER_METRICS_TOKEN", "")
	for _, listen := range []string{":9464", "0.0.0.0:9464", "[::]:9464", "192.0.2.1:9464", "router.example:9464", "[fe80::1%eth0]:9464"} {
		t.Run("without token "+listen, func(t *testing.T) {
			_, ps := parseMetrics(t, listen, nil)
			p, ok := find(ps, "metrics.token", "required when metrics.listen is not on loopback")
			if !ok {
				t.Fatalf("want a metrics.token problem, got:\n%s", dump(ps))
			}
			if len(ps) != 1 {
				t.Errorf("want exactly one problem, got:\n%s", dump(ps))
			}
			if !strings.Contains(p.Msg, listen) || !strings.Contains(p.Msg, APITokenEnv) {
				t.Errorf("message should name the listen address and %s: %s", APITokenEnv, p.Msg)
			}
		})
	}
	for _, listen := range []string{"127.0.0.1:9464", "127.3.2.1:1", "[::1]:9464", "localhost:9464", "LocalHost:9464", "[::ffff:127.0.0.1]:9464", ""} {
		t.Run("loopback without token "+listen, func(t *testing.T) {
			cfg, ps := parseMetrics(t, listen, nil)
			if ps != nil {
				t.Fatalf("rejected:\n%s", dump(ps))
			}
			if got := cfg.Metrics.APIToken(); got != "" {
				t.Errorf("APIToken() = %q, want empty", got)
			}
		})
	}
}

func TestTokenSources(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		t.Setenv(APITokenEnv, "")
		cfg, ps := parseMetrics(t, "0.0.0.0:9464", "from-file")
		if ps != nil {
			t.Fatalf("rejected:\n%s", dump(ps))
		}
		if cfg.Metrics.Token != "from-file" || cfg.Metrics.APIToken() != "from-file" {
			t.Errorf("token %q / APIToken %q, want from-file", cfg.Metrics.Token, cfg.Metrics.APIToken())
		}
	})
	t.Run("STEER_METRICS_TOKEN", func(t *testing.T) {
		t.Setenv(APITokenEnv, "")
		t.Setenv("STEER_METRICS_TOKEN", "from-override")
		cfg, ps := parseMetrics(t, "0.0.0.0:9464", "from-file")
		if ps != nil {
			t.Fatalf("rejected:\n%s", dump(ps))
		}
		if cfg.Metrics.APIToken() != "from-override" {
			t.Errorf("APIToken() = %q, want the override", cfg.Metrics.APIToken())
		}
	})
	t.Run("STEER_API_TOKEN", func(t *testing.T) {
		t.Setenv(APITokenEnv, "from-env")
		cfg, ps := parseMetrics(t, "0.0.0.0:9464", nil)
		if ps != nil {
			t.Fatalf("rejected:\n%s", dump(ps))
		}
		if cfg.Metrics.Token != "" || cfg.Metrics.APIToken() != "from-env" {
			t.Errorf("token %q / APIToken %q, want \"\" / from-env", cfg.Metrics.Token, cfg.Metrics.APIToken())
		}
	})
	t.Run("file wins over STEER_API_TOKEN", func(t *testing.T) {
		t.Setenv(APITokenEnv, "from-env")
		cfg, ps := parseMetrics(t, "0.0.0.0:9464", "from-file")
		if ps != nil {
			t.Fatalf("rejected:\n%s", dump(ps))
		}
		if cfg.Metrics.APIToken() != "from-file" {
			t.Errorf("APIToken() = %q, want from-file", cfg.Metrics.APIToken())
		}
	})
}

// TestTokenBadCharacters: a token that cannot travel in an Authorization
// header is a problem, and the problem never shows the secret.
func TestTokenBadCharacters(t *testing.T) {
	t.Setenv(APITokenEnv, "")
	for _, tok := range []string{"two words", "tab\there", "nl\n"} {
		_, ps := parseMetrics(t, "127.0.0.1:9464", tok)
		p, ok := find(ps, "metrics.token", "spaces or control characters")
		if !ok {
			t.Fatalf("token %q: want a metrics.token problem, got:\n%s", tok, dump(ps))
		}
		if p.Value != "" || strings.Contains(ps.Error(), tok) {
			t.Errorf("problem shows the secret: %s", ps.Error())
		}
	}
}

func TestTokenWrongType(t *testing.T) {
	t.Setenv(APITokenEnv, "")
	_, ps := parseMetrics(t, "127.0.0.1:9464", 12345)
	if _, ok := find(ps, "metrics.token", "expected a string"); !ok {
		t.Fatalf("want a type problem at metrics.token, got:\n%s", dump(ps))
	}
}
