package gopdf

import "testing"

// TestPointsPerUnit checks that a document converts its units to points
// as unitsToPoints does, for each unit and for a conversion of its own.
func TestPointsPerUnit(t *testing.T) {
	for _, cfg := range []Config{
		{Unit: UnitPT}, {Unit: UnitMM}, {Unit: UnitCM}, {Unit: UnitIN}, {Unit: UnitPX}, {Unit: UnitUnset},
		{Unit: UnitMM, ConversionForUnit: 2.5},
	} {
		gp := GoPdf{config: cfg}
		for _, u := range []float64{0, 1, -3.25, 595.28, 1e-9} {
			want := unitsToPoints(cfg, u)
			if got := gp.UnitsToPoints(u); got != want {
				t.Errorf("unit %d (%v): UnitsToPoints(%v) = %v, want %v", cfg.Unit, cfg.ConversionForUnit, u, got, want)
			}
			x, y := u, 2*u
			gp.UnitsToPointsVar(&x, &y)
			if x != want || y != unitsToPoints(cfg, 2*u) {
				t.Errorf("unit %d (%v): UnitsToPointsVar(%v, %v) = %v, %v", cfg.Unit, cfg.ConversionForUnit, u, 2*u, x, y)
			}
		}
		if got, want := cfg.pointsPerUnit(), unitsToPoints(cfg, 1); got != want {
			t.Errorf("unit %d: pointsPerUnit %v, want %v", cfg.Unit, got, want)
		}
	}
}
