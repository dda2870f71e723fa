package api

// The tenant's company UUID (store.Tenant.CompanyID): set when the tenant
// is created, changed with PUT /api/v1/settings, shown by GET.

import (
	"bytes"
	"encoding/json"

	"github.com/invoiced/invoiced/store"
)

// takeCompanyID removes the top-level companyId from a settings body and
// returns it: nil when the body has none (or null, which leaves it as it
// is), a pointer to "" to remove it. The settings themselves are stored
// apart from the tenant record that holds it, which authentication reads.
// A body that is not a JSON object is returned as it is, for decodeJSON to
// refuse.
func takeCompanyID(body []byte) ([]byte, *string, *Error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) != nil || dec.More() {
		return body, nil, nil
	}
	raw, ok := v["companyId"]
	if !ok {
		return body, nil, nil
	}
	var companyID *string
	switch c := raw.(type) {
	case nil:
	case string:
		companyID = &c
	default:
		return nil, nil, errField("companyId", "must be a string, a UUID")
	}
	delete(v, "companyId")
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, errInternal(err)
	}
	return b, companyID, nil
}

// checkCompanyID returns the field problem of a companyId, or "".
func checkCompanyID(id string) string {
	if _, err := store.NormalizeCompanyID(id); err != nil {
		return err.Error()
	}
	return ""
}
