package tracing

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// ErrInvalidName is wrapped by the errors of [ValidName].
var ErrInvalidName = errors.New("tracing: span name does not follow <domain>.<operation>")

// maxNameLen bounds a span name: a longer one is almost always built from
// data.
const maxNameLen = 96

// ValidName reports whether name is a business span name:
// `<domain>.<operation>` in lower snake case, such as
// `checkout.charge_payment` or `inventory.validate_stock_levels`. More than
// two segments are allowed (`payments.provider.charge`). Every segment starts
// with a letter and holds only a-z, 0-9 and '_'; a run of four or more digits
// is refused because it is an id, not an operation.
//
// Protocol spans (`GET /orders/{id}`, `send orders`) follow the OTel semantic
// conventions instead and are produced by the instrumentation packages, not
// by the helpers.
func ValidName(name string) error {
	if err := checkName(name); err != "" {
		return fmt.Errorf("%w: %q: %s", ErrInvalidName, truncate(name, maxNameLen), err)
	}
	return nil
}

func validKeyName(name string) error {
	if err := checkName(name); err != "" {
		return fmt.Errorf("tracing: business key %q must be <domain>.<field> in lower snake case: %s", name, err)
	}
	return nil
}

// checkName is allocation free: it runs on every helper span start.
func checkName(name string) string {
	if name == "" {
		return "empty"
	}
	if len(name) > maxNameLen {
		return "too long"
	}
	segments, segStart, digits := 1, true, 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if segStart {
				return "empty segment"
			}
			if name[i-1] == '_' {
				return "segment ends with '_'"
			}
			segments++
			segStart, digits = true, 0
			continue
		case c >= 'a' && c <= 'z':
			digits = 0
		case c == '_':
			if segStart || name[i-1] == '_' {
				return "misplaced '_'"
			}
			digits = 0
		case c >= '0' && c <= '9':
			if segStart {
				return "segment starts with a digit"
			}
			if digits++; digits >= 4 {
				return "contains an id"
			}
		case c >= 'A' && c <= 'Z':
			return "upper case"
		default:
			return fmt.Sprintf("character %q", rune(c))
		}
		segStart = false
	}
	if segStart {
		return "empty segment"
	}
	if name[len(name)-1] == '_' {
		return "segment ends with '_'"
	}
	if segments < 2 {
		return "no domain"
	}
	return ""
}

// validNames caches names that passed checkName, so that a span start with
// a constant name costs a pointer comparison rather than a byte loop. It is
// direct-mapped on the address of the name's bytes: a constant has one
// address, and a name built at run time (which the convention forbids)
// takes its chances. String comparison settles any collision.
var validNames [64]atomic.Pointer[string]

func nameSlot(name string) *atomic.Pointer[string] {
	return &validNames[(uintptr(unsafe.Pointer(unsafe.StringData(name)))>>3)%uintptr(len(validNames))]
}

func knownValid(name string) bool {
	p := nameSlot(name).Load()
	return p != nil && *p == name
}

// rememberValid is kept apart from knownValid so that only a cache miss
// moves the name to the heap.
func rememberValid(name string) {
	s := name
	nameSlot(name).Store(&s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// strictNames maps a TracerProvider to the function that fails the test
// owning it; see [StrictNames].
var strictNames sync.Map // trace.TracerProvider -> *strictHook

type strictHook struct{ fail func(name string, err error) }

// StrictNames makes the helpers call fail, instead of the production report,
// when they are asked to start a span with an invalid name from tp (the span
// is still started). The test kit tracing/tracingtest turns it on for the
// providers it creates, so a bad name fails the test. The returned function
// turns it off.
func StrictNames(tp trace.TracerProvider, fail func(name string, err error)) (stop func()) {
	if fail == nil || !isComparable(tp) {
		return func() {}
	}
	h := &strictHook{fail: fail}
	strictNames.Store(tp, h)
	return func() { strictNames.CompareAndDelete(tp, h) }
}

// maxReportedNames bounds the memory of the once-per-name report: names
// built from data are unbounded, which is the very mistake being reported.
const maxReportedNames = 256

var reported struct {
	mu         sync.Mutex
	names      map[string]struct{}
	suppressed bool
}

// reportName handles an invalid helper span name: the test's fail function
// in strict mode, otherwise otel.Handle once per name.
func reportName(tp trace.TracerProvider, name string, err error) {
	if isComparable(tp) {
		if f, ok := strictNames.Load(tp); ok {
			f.(*strictHook).fail(name, err)
			return
		}
	}
	reported.mu.Lock()
	if _, ok := reported.names[name]; ok {
		reported.mu.Unlock()
		return
	}
	if len(reported.names) >= maxReportedNames {
		first := !reported.suppressed
		reported.suppressed = true
		reported.mu.Unlock()
		if first {
			otel.Handle(fmt.Errorf("tracing: more than %d distinct invalid span names, no longer reporting them: names must not be built from data", maxReportedNames))
		}
		return
	}
	if reported.names == nil {
		reported.names = make(map[string]struct{})
	}
	reported.names[name] = struct{}{}
	reported.mu.Unlock()
	otel.Handle(err)
}
