package api

import (
	"net/http"

	"github.com/invoiced/invoiced/invoice"
)

func (a *API) publicPDFURL(tenantID, invoiceID string) string {
	return a.cfg.PublicBaseURL + "/i/" + a.st.PublicInvoiceToken(tenantID, invoiceID) + "/pdf"
}

// publicPDF handles GET /i/{token}/pdf: the invoice PDF for whoever holds
// the signed link. Drafts are not public.
func (a *API) publicPDF(w http.ResponseWriter, r *http.Request) *Error {
	tenantID, invoiceID, ok := a.st.ParsePublicInvoiceToken(r.PathValue("token"))
	if !ok {
		return errNotFound("invoice")
	}
	inv, err := a.st.Invoice(r.Context(), tenantID, invoiceID)
	if err != nil || inv.Status == invoice.StatusDraft {
		return errNotFound("invoice")
	}
	return a.writePDF(w, r, inv, "")
}
