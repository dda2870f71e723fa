package api

import (
	"errors"
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

type updateTenantRequest struct {
	// SESIdentities, when present, replaces the tenant's identities for
	// the deployment's AWS credentials; [] or null removes them all.
	SESIdentities *[]string `json:"sesIdentities"`
}

// updateTenant handles PATCH /admin/v1/tenants/{tenant}: the fields the
// request carries are changed, the others stay. The answer is the tenant,
// without its token.
func (a *API) updateTenant(w http.ResponseWriter, r *http.Request) *Error {
	var req updateTenantRequest
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("tenant")
	var t store.Tenant
	var err error
	if req.SESIdentities != nil {
		if apiErr := checkSESIdentities(*req.SESIdentities); apiErr != nil {
			return apiErr
		}
		t, err = a.st.SetSESIdentities(ctx, id, *req.SESIdentities)
	} else {
		t, err = a.st.Tenant(ctx, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("tenant")
	}
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, map[string]any{"id": t.ID, "name": t.Name, "companyId": t.CompanyID,
		"sesIdentities": nonNil(t.SESIdentities), "createdAt": t.CreatedAt})
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
