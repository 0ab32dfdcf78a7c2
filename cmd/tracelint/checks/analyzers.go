package checks

import "golang.org/x/tools/go/analysis"

// Analyzers returns every check, in the order they are documented.
func Analyzers() []*analysis.Analyzer {
	return []*analysis.Analyzer{SpanName, SpanEnd, SpanError, BusinessKey, GlobalTracer}
}
