// Package field is the error that names what an operator got wrong: the
// field path as they wrote it ("ports[1].addresses[0]", or "via" in an API
// request), the value they gave and what is wrong with it.
//
// Config validation, the HTTP API, reload and the route table all return
// it, so a client finds the field with errors.As instead of parsing text.
package field

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one thing wrong with one field.
type Error struct {
	Field string // "eal.lcores", "routes[2].via", "prefix"; "" for the input as a whole
	Value string // the bad value as text; "" when there is nothing useful to show
	Msg   string
	Err   error // the cause, when a caller tests for it with errors.Is
}

// Errorf returns an Error for field and value, its message formatted.
func Errorf(field, value, format string, args ...any) Error {
	return Error{Field: field, Value: value, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error for field and value whose message is err's, and
// which errors.Is finds err in.
func Wrap(field, value string, err error) Error {
	return Error{Field: field, Value: value, Msg: err.Error(), Err: err}
}

// Unwrap is the cause (Wrap).
func (e Error) Unwrap() error { return e.Err }

// Error formats the problem as `field: message (value "x")`.
func (e Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Value != "" {
		fmt.Fprintf(&b, " (value %q)", e.Value)
	}
	return b.String()
}

// In returns the error with its field put inside parent: "via" in
// "routes[3]" is "routes[3].via".
func (e Error) In(parent string) Error {
	switch {
	case parent == "":
	case e.Field == "":
		e.Field = parent
	case strings.HasPrefix(e.Field, "["):
		e.Field = parent + e.Field
	default:
		e.Field = parent + "." + e.Field
	}
	return e
}

// Of finds the Error in err's chain.
func Of(err error) (Error, bool) {
	var e Error
	ok := errors.As(err, &e)
	return e, ok
}

// Errors is every problem found in one input, reported at once.
type Errors []Error

// Error lists the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
