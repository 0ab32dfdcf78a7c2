package golangci

import (
	"testing"

	"github.com/golangci/plugin-module-register/register"
)

func TestPlugin_RegisteredAndDisable(t *testing.T) {
	newPlugin, err := register.GetPlugin("tracelint")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlugin(map[string]any{"disable": []string{"globaltracer"}})
	if err != nil {
		t.Fatal(err)
	}
	as, err := p.BuildAnalyzers()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range as {
		names = append(names, a.Name)
	}
	if got, want := len(names), 4; got != want {
		t.Errorf("analyzers %v, want the four checks but globaltracer", names)
	}
	for _, n := range names {
		if n == "globaltracer" {
			t.Errorf("globaltracer not disabled: %v", names)
		}
	}
	if p.GetLoadMode() != register.LoadModeTypesInfo {
		t.Errorf("load mode %q", p.GetLoadMode())
	}
	if _, err := newPlugin(map[string]any{"disable": []string{"spanz"}}); err == nil {
		t.Error("unknown check accepted")
	}
	if _, err := newPlugin(map[string]any{"bogus": true}); err == nil {
		t.Error("unknown setting accepted")
	}
}
