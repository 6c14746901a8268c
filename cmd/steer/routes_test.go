package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// routes add --file sends the file as one list, and names a refused
// route by its line; a file with problems is not sent at all.
func TestRoutesAddFile(t *testing.T) {
	var got []map[string]string
	posts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts++
		if r.Method != "POST" || r.URL.Path != "/api/v1/routes" || r.Header.Get("Authorization") != "Bearer t0k" {
			t.Errorf("%s %s %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		got = nil
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("body: %v", err)
		}
		for i, rt := range got {
			if rt["via"] == "192.168.7.7" {
				w.WriteHeader(http.StatusBadRequest)
				f := fmt.Sprintf("routes[%d].via", i)
				json.NewEncoder(w).Encode(map[string]string{"field": f, "error": f + `: not on a connected subnet of any port (value "192.168.7.7")`})
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]int{"added": len(got)})
	}))
	defer srv.Close()
	run := func(content string) (string, error) {
		path := filepath.Join(t.TempDir(), "table.txt")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := routesCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"add", "--file", path, "--api", srv.URL, "--token", "t0k"})
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("# two\n198.51.100.0/24 via 203.0.113.2\n\n198.51.101.0/24 via 203.0.113.3 # second\n")
	if err != nil || !strings.Contains(out, "added 2 route(s) from") || len(got) != 2 || got[1]["prefix"] != "198.51.101.0/24" || got[1]["via"] != "203.0.113.3" {
		t.Errorf("good file: %v, %q, sent %v", err, out, got)
	}
	_, err = run("198.51.100.0/24 via 203.0.113.2\n# off-link:\n198.51.101.0/24 via 192.168.7.7\n")
	if err == nil || !strings.Contains(err.Error(), "table.txt:3: via: not on a connected subnet of any port") || !strings.Contains(err.Error(), "nothing was added") {
		t.Errorf("refused route: %v", err)
	}
	posts = 0
	out, err = run("198.51.100.0/24 via 203.0.113.2\n198.51.101.0/24 203.0.113.2\n")
	if err == nil || posts != 0 || !strings.Contains(out, `table.txt:2: expected "PREFIX via GATEWAY"`) {
		t.Errorf("bad line: %v, %d requests, %q", err, posts, out)
	}
	if _, err := run(""); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v, sent %v", err, got)
	}
}
