package invoice

import "testing"

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		phone, country, want string
	}{
		{"+40712345678", "", "+40712345678"},
		{"0712 345 678", "RO", "+40712345678"},
		{"0712-345-678", "RO", "+40712345678"},
		{"+49 1512 3456789", "RO", "+4915123456789"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"0712345678", "", ""},
		{"12", "RO", ""},
		{"not a phone", "RO", ""},
		{"+40 712", "", ""},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.phone, tt.country)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizePhone(%q, %q) = %q, want an error", tt.phone, tt.country, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.phone, tt.country, got, err, tt.want)
		}
	}
}
