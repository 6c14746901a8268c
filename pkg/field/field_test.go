package field

import (
	"fmt"
	"testing"
)

func TestErrorText(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{Field: "ports[1].mtu", Value: "20000", Msg: "must be 68..9000"}, `ports[1].mtu: must be 68..9000 (value "20000")`},
		{Error{Field: "ports", Msg: "at least one port is required"}, `ports: at least one port is required`},
		{Error{Field: "eal.file_prefix", Value: `a"b`, Msg: "bad"}, `eal.file_prefix: bad (value "a\"b")`},
		{Error{Msg: "document"}, `document`},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%#v: %q, want %q", c.e, got, c.want)
		}
	}
	es := Errors{{Field: "a", Msg: "x"}, {Field: "b", Msg: "y"}}
	if got := es.Error(); got != "a: x\nb: y" {
		t.Errorf("Errors: %q", got)
	}
}

func TestIn(t *testing.T) {
	for _, c := range []struct{ field, parent, want string }{
		{"via", "routes[3]", "routes[3].via"},
		{"[2]", "reta", "reta[2]"},
		{"", "routes[0]", "routes[0]"},
		{"via", "", "via"},
	} {
		if got := (Error{Field: c.field}).In(c.parent).Field; got != c.want {
			t.Errorf("%q in %q: %q, want %q", c.field, c.parent, got, c.want)
		}
	}
}

func TestOfFindsWrapped(t *testing.T) {
	err := fmt.Errorf("adding a route: %w", Errorf("via", "10.9.9.9", "not on a connected subnet"))
	e, ok := Of(err)
	if !ok || e.Field != "via" || e.Value != "10.9.9.9" {
		t.Fatalf("Of(%v) = %+v, %v", err, e, ok)
	}
	if _, ok := Of(fmt.Errorf("plain")); ok {
		t.Fatal("Of found a field error in a plain error")
	}
}
