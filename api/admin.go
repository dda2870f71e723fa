package api

import (
	"net/http"
	"strings"

	"github.com/invoiced/invoiced/invoice"
)

type createTenantRequest struct {
	Name string `json:"name"`
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
	t, token, err := a.st.CreateTenant(r.Context(), req.Name)
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "token": token, "createdAt": t.CreatedAt})
	return nil
}
