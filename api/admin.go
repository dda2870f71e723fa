package api

import (
	"net/http"
	"strings"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

type createTenantRequest struct {
	Name string `json:"name"`
	// CompanyID is the tenant's company UUID, which X-Company may send.
	CompanyID string `json:"companyId"`
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
	t, token, err := a.st.CreateTenant(r.Context(), req.Name, store.WithCompanyID(req.CompanyID))
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "companyId": t.CompanyID, "token": token, "createdAt": t.CreatedAt})
	return nil
}
