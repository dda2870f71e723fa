package message

import (
	"maps"
	"slices"
	"strings"
)

// Expand substitutes variables in s. Both spellings work for every variable:
// {{invoiceNumber}}, {{ invoiceNumber }} and {invoice_number} (and, for that
// matter, {{invoice_number}} and {invoiceNumber}): names are matched
// ignoring case, "_" and "-".
//
// The names are invoiceNumber, invoiceTotal (the total with its currency),
// amount (the total without it), amountDue, currency, customerName and
// clientName (the same value), merchantName and companyName (the same
// value), dueDate, issueDate, paymentLink, publicUrl (the hosted invoice
// page), payUrl (the payment link, else the hosted invoice page), and, for
// a credit note, correctedInvoiceNumber and correctedIssueDate, plus
// the keys of v.Extra. A key of v.Extra that names one of these variables
// overrides it, under every spelling and alias: the send's values win over
// the invoice's. A variable name is made of ASCII letters, digits, "_",
// "-" and ".", and starts with a letter or "_".
//
// Unknown variables are left as written, so a literal "{x}" or a JSON
// snippet in a message survives. Values are inserted verbatim and never
// expanded again.
func Expand(s string, v Vars) string {
	vs := newVarSet(v)
	out, _, _ := vs.expand(s)
	return out
}

// varSet resolves variable names for one rendering. The built-in
// variables are held in arrays, by their index in builtinNames, where
// maps by name cost a rendering a dozen allocations.
type varSet struct {
	known [len(builtinNames)]string // with Extra's overrides
	extra map[string]string         // Extra, by the key as given
	norm  map[string]string         // Extra, by normalized key; nil without Extra
	// overridden tells the built-in variables Extra sets.
	overridden [len(builtinNames)]bool
}

// builtinNames are the canonical names of the built-in variables, in the
// order of varSet.known.
var builtinNames = [...]string{
	"invoicenumber", "invoicetotal", "amount", "amountdue", "currency", "customername", "merchantname",
	"duedate", "issuedate", "paymentlink", "publicurl", "correctedinvoicenumber", "correctedissuedate", "payurl",
}

// Indexes in varSet.known of the variables newVarSet derives.
const (
	varPaymentLink = 9
	varPublicURL   = 10
	varPayURL      = 13
)

// builtinIndex is the index in builtinNames of each canonical name.
var builtinIndex = func() map[string]int {
	m := make(map[string]int, len(builtinNames))
	for i, n := range builtinNames {
		m[n] = i
	}
	return m
}()

// builtinVar returns the index in varSet.known of the built-in variable
// with normalized name n, or ok false for another name.
func builtinVar(n []byte) (i int, ok bool) {
	if c, alias := aliases[string(n)]; alias {
		i, ok = builtinIndex[c]
		return i, ok
	}
	i, ok = builtinIndex[string(n)]
	return i, ok
}

// aliases maps the normalized names that share a value to the one that
// holds it.
var aliases = map[string]string{
	"clientname":  "customername",
	"companyname": "merchantname",
}

func newVarSet(v Vars) varSet {
	vs := varSet{
		known: [...]string{
			v.InvoiceNumber, v.InvoiceTotal, v.Amount, v.AmountDue, v.Currency, v.CustomerName, v.MerchantName,
			v.DueDate, v.IssueDate, v.PaymentLink, v.PublicURL, v.CorrectedInvoiceNumber, v.CorrectedIssueDate,
			"", // payurl, set below, after the overrides
		},
		extra: v.Extra,
	}
	// Two keys that normalize alike ("orderRef" and "order_ref") are both
	// reachable by their exact spelling; any other spelling gets the key
	// that sorts first, so the choice does not depend on map order. The
	// same key overrides a built-in variable.
	if len(v.Extra) > 0 {
		vs.norm = make(map[string]string, len(v.Extra))
	}
	for _, k := range slices.Sorted(maps.Keys(v.Extra)) {
		n := normName(k)
		if _, ok := vs.norm[n]; !ok {
			vs.norm[n] = v.Extra[k]
		}
		if i, builtin := builtinVar([]byte(n)); builtin && !vs.overridden[i] {
			vs.known[i] = v.Extra[k]
			vs.overridden[i] = true
		}
	}
	if !vs.overridden[varPayURL] {
		vs.known[varPayURL] = vs.known[varPaymentLink]
		if strings.TrimSpace(vs.known[varPayURL]) == "" {
			vs.known[varPayURL] = vs.known[varPublicURL]
		}
	}
	return vs
}

// value is the value of the built-in variable with normalized name n,
// after the overrides.
func (vs *varSet) value(n string) string {
	i, ok := builtinVar([]byte(n))
	if !ok {
		return ""
	}
	return vs.known[i]
}

// isOverridden reports whether Extra sets the built-in variable with
// normalized name n.
func (vs *varSet) isOverridden(n string) bool {
	i, ok := builtinVar([]byte(n))
	return ok && vs.overridden[i]
}

func (vs *varSet) lookup(name string) (string, bool) {
	if val, ok := vs.extra[name]; ok {
		return val, true
	}
	// The name is normalized on the stack: a map read of string(n) does
	// not allocate.
	var buf [64]byte
	n := appendNormName(buf[:0], name)
	if i, ok := builtinVar(n); ok {
		return vs.known[i], true
	}
	val, ok := vs.norm[string(n)]
	return val, ok
}

// expand substitutes the known variables in s. used counts the variables
// substituted and filled those whose value is not blank, which lets the
// renderer leave out lines that only make sense with a value.
func (vs *varSet) expand(s string) (out string, used, filled int) {
	if !strings.Contains(s, "{") {
		return s, 0, 0
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		name, n, ok := parseVar(s)
		if ok {
			if val, found := vs.lookup(name); found {
				b.WriteString(val)
				used++
				if strings.TrimSpace(val) != "" {
					filled++
				}
				s = s[n:]
				continue
			}
		}
		b.WriteByte('{')
		s = s[1:]
	}
	return b.String(), used, filled
}

// parseVar reads a variable reference at the start of s, which begins with
// "{": "{{ name }}" or "{ name }". It returns the name and the length of the
// reference.
func parseVar(s string) (name string, n int, ok bool) {
	if strings.HasPrefix(s, "{{") {
		if name, n, ok := parseDelimited(s, 2, "}}"); ok {
			return name, n, true
		}
	}
	return parseDelimited(s, 1, "}")
}

func parseDelimited(s string, open int, closing string) (string, int, bool) {
	p := skipBlanks(s, open)
	start := p
	for p < len(s) && isNameByte(s[p], p == start) {
		p++
	}
	if p == start {
		return "", 0, false
	}
	name := s[start:p]
	p = skipBlanks(s, p)
	if !strings.HasPrefix(s[p:], closing) {
		return "", 0, false
	}
	return name, p + len(closing), true
}

func skipBlanks(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

func isNameByte(c byte, first bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		return true
	case '0' <= c && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// normName folds the spellings of a name together: "invoice_number",
// "invoiceNumber" and "Invoice-Number" all become "invoicenumber".
func normName(name string) string {
	return string(appendNormName(make([]byte, 0, len(name)), name))
}

// appendNormName appends name, its spellings folded (see normName), to b.
func appendNormName(b []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
