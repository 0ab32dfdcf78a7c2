package checks_test

import (
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/otelkit/otelkit/cmd/tracelint/checks"
)

func TestSpanName(t *testing.T) {
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.SpanName, "spanname", "spanname/instr")
}

func TestSpanEnd(t *testing.T) {
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), checks.SpanEnd, "spanend")
}

func TestSpanError(t *testing.T) {
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.SpanError, "spanerror")
}

func TestBusinessKey(t *testing.T) {
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.BusinessKey, "businesskey", "businesskey/noimport")
}

func TestGlobalTracer(t *testing.T) {
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), checks.GlobalTracer, "globaltracer")
}

// TestConventionsPackageExempt runs every check over the stub tracing
// package, whose helpers start spans with the caller's name and spell keys
// as strings: nothing is reported.
func TestConventionsPackageExempt(t *testing.T) {
	t.Parallel()
	for _, a := range checks.Analyzers() {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			analysistest.Run(t, analysistest.TestData(), a, "github.com/otelkit/otelkit/tracing")
		})
	}
}

// TestAnalyzersValid checks what multichecker and go vet require of the
// set: valid, uniquely named analyzers, each with a one-line summary that
// names what it enforces.
func TestAnalyzersValid(t *testing.T) {
	as := checks.Analyzers()
	if err := analysis.Validate(as); err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if summary, _, _ := strings.Cut(a.Doc, "\n"); !strings.HasPrefix(summary, "check that") && !strings.HasPrefix(summary, "report ") {
			t.Errorf("%s: summary %q does not say what it enforces", a.Name, summary)
		}
	}
}
