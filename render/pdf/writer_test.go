package pdf

import "testing"

// TestBlocksTake checks that the slices take returns are zeroed, do not
// overlap, and grow into arrays of their own when appended to.
func TestBlocksTake(t *testing.T) {
	var b blocks[int]
	var taken [][]int
	for i, n := range []int{1, 3, 0, 64, 1, 100, 2} {
		s := b.take(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("take(%d): len %d, cap %d", n, len(s), cap(s))
		}
		for j := range s {
			if s[j] != 0 {
				t.Fatalf("take(%d)[%d] = %d, want 0", n, j, s[j])
			}
			s[j] = i + 1
		}
		taken = append(taken, s)
	}
	grown := append(taken[0], 99)
	grown[0] = 42
	for i, s := range taken {
		for j, v := range s {
			if v != i+1 {
				t.Errorf("slice %d [%d] = %d, want %d: slices overlap", i, j, v, i+1)
			}
		}
	}
}
