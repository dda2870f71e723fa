package ubl

import (
	"strings"
)

// The UN/ECE Recommendation 20 unit codes Render writes. Check reports any
// other code under the rule "invoiced-unit-code".
const (
	unitOne    = "C62" // one: a unit without a name ("", "unit", "ea")
	unitPiece  = "H87" // piece
	unitHour   = "HUR"
	unitMinute = "MIN"
	unitDay    = "DAY"
	unitWeek   = "WEE"
	unitMonth  = "MON"
	unitYear   = "ANN"
	unitKilo   = "KGM" // kilogram
	unitMetre  = "MTR"
	unitSqM    = "MTK" // square metre
	unitLitre  = "LTR"
	unitKWh    = "KWH" // kilowatt hour
)

// unitCodes maps the free-text units that clients send, lower-cased and
// without a trailing dot, to Recommendation 20 codes. It covers English,
// Romanian, German and French spellings, the languages invoiced prints,
// and the codes themselves, so a client that already sends "HUR" keeps it.
var unitCodes = map[string]string{
	"": unitOne, "c62": unitOne, "unit": unitOne, "units": unitOne, "ea": unitOne, "each": unitOne, "x": unitOne,

	"h87": unitPiece, "pc": unitPiece, "pcs": unitPiece, "piece": unitPiece, "pieces": unitPiece, "pce": unitPiece,
	"buc": unitPiece, "bucata": unitPiece, "bucată": unitPiece, "bucati": unitPiece, "bucăți": unitPiece,
	"stk": unitPiece, "stück": unitPiece, "stueck": unitPiece, "pièce": unitPiece, "pièces": unitPiece,

	"hur": unitHour, "h": unitHour, "hr": unitHour, "hrs": unitHour, "hour": unitHour, "hours": unitHour,
	"ora": unitHour, "oră": unitHour, "ore": unitHour, "std": unitHour, "stunde": unitHour, "stunden": unitHour,
	"heure": unitHour, "heures": unitHour,

	"min": unitMinute, "minute": unitMinute, "minutes": unitMinute, "minut": unitMinute, "minuten": unitMinute,

	"day": unitDay, "days": unitDay, "d": unitDay, "zi": unitDay, "zile": unitDay, "tag": unitDay, "tage": unitDay,
	"jour": unitDay, "jours": unitDay,

	"wee": unitWeek, "week": unitWeek, "weeks": unitWeek, "wk": unitWeek, "saptamana": unitWeek, "săptămână": unitWeek,
	"saptamani": unitWeek, "săptămâni": unitWeek, "woche": unitWeek, "wochen": unitWeek, "semaine": unitWeek, "semaines": unitWeek,

	"mon": unitMonth, "month": unitMonth, "months": unitMonth, "mo": unitMonth, "luna": unitMonth, "lună": unitMonth,
	"luni": unitMonth, "monat": unitMonth, "monate": unitMonth, "mois": unitMonth,

	"ann": unitYear, "year": unitYear, "years": unitYear, "yr": unitYear, "an": unitYear, "ani": unitYear,
	"jahr": unitYear, "jahre": unitYear, "année": unitYear, "années": unitYear,

	"kgm": unitKilo, "kg": unitKilo, "mtr": unitMetre, "m": unitMetre, "mtk": unitSqM, "m2": unitSqM, "m²": unitSqM,
	"mp": unitSqM, "ltr": unitLitre, "l": unitLitre, "kwh": unitKWh,
}

// knownUnitCodes is the set of codes unitCodes yields.
var knownUnitCodes = func() map[string]bool {
	m := make(map[string]bool)
	for _, code := range unitCodes {
		m[code] = true
	}
	return m
}()

// UnitCode returns the UN/ECE Recommendation 20 code for a free-text unit
// such as "h", "ore", "Std.", "days", "buc" or "pcs", matched without
// regard to case, surrounding spaces or a trailing dot. An empty unit is
// "C62" (one), as is any unit the table does not know: it states a count
// without claiming a measure the seller did not name. Words for pieces give
// "H87". The full table is in doc.go.
func UnitCode(unit string) string {
	key := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(unit)), ".")
	if code, ok := unitCodes[key]; ok {
		return code
	}
	return unitOne
}
