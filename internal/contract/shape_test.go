package contract

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// matchShape fails t for every field of the documented example (a JSON
// text copied verbatim from a seed document) that got lacks or holds with
// another JSON type. Extra fields in got are fine. An array's elements
// are each held to the documented array's first element; a documented
// null accepts any value (the documents use it for "may be unset").
func matchShape(t *testing.T, what, documented string, got any) {
	t.Helper()
	for _, p := range shapeProblems(documented, got) {
		t.Errorf("%s: %s", what, p)
	}
}

// shapeProblems lists how got differs from the documented example.
func shapeProblems(documented string, got any) []string {
	var doc any
	if err := json.Unmarshal([]byte(documented), &doc); err != nil {
		return []string{fmt.Sprintf("the documented example is not JSON: %v", err)}
	}
	var out []string
	compareShape("", doc, got, &out)
	return out
}

func compareShape(path string, doc, got any, out *[]string) {
	where := path
	if where == "" {
		where = "the answer"
	}
	if doc == nil {
		return
	}
	if jsonType(doc) != jsonType(got) {
		*out = append(*out, fmt.Sprintf("%s is %s (%s), documented as %s", where, jsonType(got), brief(got), jsonType(doc)))
		return
	}
	switch d := doc.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			v, ok := g[k]
			if !ok {
				*out = append(*out, fmt.Sprintf("%s is missing (documented as %s)", sub, jsonType(d[k])))
				continue
			}
			compareShape(sub, d[k], v, out)
		}
	case []any:
		if len(d) == 0 {
			return
		}
		for i, v := range got.([]any) {
			compareShape(fmt.Sprintf("%s[%d]", path, i), d[0], v, out)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// TestShapeProblems checks that the shape check catches what it must: a
// renamed, missing or retyped field, at any depth, and lets extra fields
// and documented nulls pass.
func TestShapeProblems(t *testing.T) {
	documented := `{"success": true, "data": {"invoiceId": "inv_abc123", "sentVia": ["email"],
		"sentTo": "customer@example.com", "expiresAt": null,
		"deliveries": [{"method": "email", "status": "delivered", "count": 1}]}}`
	good := `{"success": true, "extra": 1, "data": {"invoiceId": "inv_1", "sentVia": ["email", "sms"],
		"sentTo": "a@b.co", "expiresAt": "2026-01-01T00:00:00Z",
		"deliveries": [{"method": "email", "status": "sent", "count": 2, "more": "x"}]}}`
	tests := []struct {
		name, got, want string
	}{
		{"matches", good, ""},
		{"retyped", strings.Replace(good, `"sentTo": "a@b.co"`, `"sentTo": ["a@b.co"]`, 1), "data.sentTo is an array"},
		{"renamed", strings.Replace(good, `"invoiceId"`, `"invoice_id"`, 1), "data.invoiceId is missing"},
		{"nested", strings.Replace(good, `"count": 2`, `"count": "2"`, 1), "data.deliveries[0].count is a string"},
		{"element type", strings.Replace(good, `["email", "sms"]`, `["email", 3]`, 1), "data.sentVia[1] is a number"},
		{"not an object", `[]`, "the answer is an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			if err := json.Unmarshal([]byte(tt.got), &got); err != nil {
				t.Fatal(err)
			}
			problems := shapeProblems(documented, got)
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems %q, want none", problems)
			case tt.want != "" && (len(problems) != 1 || !strings.HasPrefix(problems[0], tt.want)):
				t.Errorf("problems %q, want one starting %q", problems, tt.want)
			}
		})
	}
}
