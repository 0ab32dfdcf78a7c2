package checks_test

import (
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/otelkit/otelkit/cmd/tracelint/checks"
)

// stubTracing is the stub of the conventions package, whose helpers start
// spans with the caller's name and spell keys as strings: every check runs
// over it and must report nothing there.
const stubTracing = "github.com/otelkit/otelkit/tracing"

func TestSpanName(t *testing.T) {
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.SpanName, "spanname", "spanname/instr", stubTracing)
}

func TestSpanEnd(t *testing.T) {
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), checks.SpanEnd, "spanend", stubTracing, "github.com/otelkit/otelkit/instr", "github.com/otelkit/otelkit/instr/unended")
}

func TestSpanError(t *testing.T) {
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.SpanError, "spanerror", stubTracing, "github.com/otelkit/otelkit/instr")
}

func TestBusinessKey(t *testing.T) {
	t.Parallel()
	// The keys are learnt from the code: tracing's stub declares user.id
	// and tenant.id, example.com/shop/keys the company's, businesskey one
	// of its own. The stub is analysed as a dependency (its fact is checked
	// through its importers); sdk/stub stands for the conventions packages.
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), checks.BusinessKey,
		"businesskey", "businesskey/indirect", "businesskey/unrelated", "example.com/shop/keys", "github.com/otelkit/otelkit/sdk/stub")
}

func TestGlobalTracer(t *testing.T) {
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), checks.GlobalTracer, "globaltracer", stubTracing)
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
