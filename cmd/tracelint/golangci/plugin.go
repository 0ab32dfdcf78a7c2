// Package golangci registers the tracelint checks as a golangci-lint module
// plugin. It is a separate module so that golangci-lint's registration
// package never enters the go.mod of a module that only uses otelkit.
//
// # Use
//
// Build a custom golangci-lint with the plugin, from .custom-gcl.yml:
//
//	version: v2.5.0
//	plugins:
//	  - module: github.com/otelkit/otelkit/cmd/tracelint/golangci
//	    import: github.com/otelkit/otelkit/cmd/tracelint/golangci
//	    version: latest
//
// or, from a checkout of otelkit, path: ./cmd/tracelint/golangci in place
// of version (the module's replace directive then points at the checkout).
//
// run golangci-lint custom, which writes ./custom-gcl, and enable the linter
// in .golangci.yml:
//
//	version: "2"
//	linters:
//	  enable:
//	    - tracelint
//	  settings:
//	    custom:
//	      tracelint:
//	        type: module
//	        description: otelkit instrumentation conventions
//	        settings:
//	          disable: [globaltracer]
//
// # Settings
//
// disable lists checks to leave out, by name: spanname, spanend, spanerror,
// businesskey, globaltracer. By default every check runs.
package golangci

import (
	"fmt"
	"slices"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/otelkit/otelkit/cmd/tracelint/checks"
)

func init() { register.Plugin("tracelint", New) }

// Settings are the plugin's settings in .golangci.yml.
type Settings struct {
	// Disable names the checks to leave out.
	Disable []string `json:"disable"`
}

// Plugin is the registered golangci-lint plugin.
type Plugin struct{ settings Settings }

var _ register.LinterPlugin = (*Plugin)(nil)

// New decodes the settings golangci-lint passes and returns the plugin.
func New(settings any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](settings)
	if err != nil {
		return nil, err
	}
	known := checks.Analyzers()
	for _, name := range s.Disable {
		if !slices.ContainsFunc(known, func(a *analysis.Analyzer) bool { return a.Name == name }) {
			return nil, fmt.Errorf("tracelint: unknown check %q in disable", name)
		}
	}
	return &Plugin{settings: s}, nil
}

// BuildAnalyzers returns the enabled checks.
func (p *Plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return slices.DeleteFunc(checks.Analyzers(), func(a *analysis.Analyzer) bool {
		return slices.Contains(p.settings.Disable, a.Name)
	}), nil
}

// GetLoadMode tells golangci-lint the checks need type information.
func (p *Plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
