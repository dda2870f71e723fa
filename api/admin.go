package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

type createTenantRequest struct {
	Name string `json:"name"`
	// CompanyID is the tenant's company UUID, which X-Company may send.
	CompanyID string `json:"companyId"`
	// SESIdentities are the email addresses and domains the tenant may
	// send as with the deployment's AWS credentials (see
	// store.Tenant.SESIdentities).
	SESIdentities []string `json:"sesIdentities"`
}

// createTenant handles POST /admin/v1/tenants. The token is shown once.
func (a *API) createTenant(w http.ResponseWriter, r *http.Request) *Error {
	var req createTenantRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		return errField("name", "is required")
	}
	if err := invoice.CheckText(req.Name, 200, false); err != nil {
		return errField("name", err.Error())
	}
	if _, err := store.NormalizeCompanyID(req.CompanyID); err != nil {
		return errField("companyId", err.Error())
	}
	if apiErr := checkSESIdentities(req.SESIdentities); apiErr != nil {
		return apiErr
	}
	t, token, err := a.st.CreateTenant(r.Context(), req.Name, store.WithCompanyID(req.CompanyID), store.WithSESIdentities(req.SESIdentities))
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "companyId": t.CompanyID,
		"sesIdentities": nonNil(t.SESIdentities), "token": token, "createdAt": t.CreatedAt})
	return nil
}

// checkSESIdentities answers 400 naming the first of ids that is neither
// an email address nor a domain.
func checkSESIdentities(ids []string) *Error {
	for i, id := range ids {
		if _, err := store.NormalizeSESIdentities([]string{id}); err != nil {
			return errField(fmt.Sprintf("sesIdentities[%d]", i), store.ErrInvalidSESIdentity.Error())
		}
	}
	return nil
}
