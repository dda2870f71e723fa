package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeListsEveryVariable keeps the README's configuration table
// complete: every INVOICED_ variable the binary reads is documented.
func TestReadmeListsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, f := range []string{"config.go", "dev.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, regexp.MustCompile(`"(INVOICED_[A-Z_]+)"`).FindAllString(string(src), -1)...)
	}
	if len(read) < 10 {
		t.Fatalf("found only %d variables in the source; the pattern is stale", len(read))
	}
	for _, v := range read {
		name := strings.Trim(v, `"`)
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README does not document %s", name)
		}
	}
}
