package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invoiced/invoiced/providers/ses/sestest"
	"github.com/invoiced/invoiced/store"
)

// These tests run with AWS credentials in the process's environment, as a
// deployment on EC2, on ECS or with an AWS profile has them, so the SDK's
// default credential chain would find them. They set the environment and
// so do not run in parallel.

// operatorAWSKey is the access key of the deployment's own AWS credentials.
const operatorAWSKey = "AKIAOPERATOR00000000"

// withOperatorAWS gives the process the deployment's AWS credentials.
func withOperatorAWS(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": operatorAWSKey, "AWS_SECRET_ACCESS_KEY": "operator-secret-value", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

// regionOnly is SES settings with a region and no access key of the
// tenant's own.
func regionOnly(from string) map[string]any {
	s := acmeSettings()
	s["email"] = map[string]any{"provider": "ses", "fromEmail": from, "fromName": "ACME Billing",
		"ses": map[string]any{"region": "eu-west-1"}}
	return s
}

// adminTenant creates a tenant through the admin API from body and
// returns its id and token.
func (h *harness) adminTenant(body map[string]any) (id, token string) {
	h.t.Helper()
	r := h.must(http.StatusCreated, h.do("POST", "/admin/v1/tenants", adminToken, body))
	id, _ = r.data()["id"].(string)
	token, _ = r.data()["token"].(string)
	if id == "" || token == "" {
		h.t.Fatalf("no id or token in %s", r.Raw)
	}
	return id, token
}

// forceSES writes the tenant's settings to the store directly, bypassing
// the API's checks, as a record saved before them would be: email through
// SES with only a region, from from, and invoices finalized and emailed a
// second after they are created.
func (h *harness) forceSES(tenantID, from string) {
	h.t.Helper()
	ctx := context.Background()
	st, err := h.Store.Settings(ctx, tenantID)
	if err != nil {
		h.t.Fatal(err)
	}
	st.Email = store.EmailSettings{Provider: store.ProviderSES, FromEmail: from, FromName: "ACME Billing",
		SES: &store.SESSettings{Region: "eu-west-1"}}
	autoEmail := true
	st.Defaults = store.Defaults{Language: "en", GracePeriod: "1s", AutoEmailOnFinalize: &autoEmail}
	if err := h.Store.SaveSettings(ctx, tenantID, st); err != nil {
		h.t.Fatal(err)
	}
}

// failedDelivery waits for the one delivery of invoiceID to end failed
// and returns it.
func (h *harness) failedDelivery(t *testing.T, token, invoiceID string) map[string]any {
	t.Helper()
	var d map[string]any
	eventually(t, 15*time.Second, "the delivery of "+invoiceID+" to fail", func() bool {
		ds := h.deliveries(token, invoiceID)
		if len(ds) == 1 && (ds[0]["status"] == "failed" || ds[0]["status"] == "sent") {
			d = ds[0]
			return true
		}
		return false
	})
	if d["status"] != "failed" {
		t.Fatalf("the delivery of %s is %v, want failed: %v", invoiceID, d["status"], d)
	}
	return d
}

// assertPermanent checks that d failed at its first attempt, for good,
// with code and a reason containing reason.
func assertPermanent(t *testing.T, d map[string]any, code, reason string) {
	t.Helper()
	attempts, _ := d["attempts"].([]any)
	if len(attempts) != 1 {
		t.Fatalf("%d attempts, want 1 (no retry): %v", len(attempts), attempts)
	}
	if a := attempts[0].(map[string]any); a["code"] != code || a["permanent"] != true {
		t.Errorf("attempt = %v, want permanent %s", a, code)
	}
	if e, _ := d["error"].(string); !strings.Contains(e, reason) {
		t.Errorf("error = %q, want it to say %q", e, reason)
	}
}

// assertNoSESCall checks that nothing was asked of SES, with any
// credentials.
func assertNoSESCall(t *testing.T, h *harness) {
	t.Helper()
	if calls := sestest.Requests(t, h.SESEndpoint); len(calls) != 0 {
		t.Errorf("SES was called: %+v", calls)
	}
	if emails := sestest.Emails(t, h.SESEndpoint); len(emails) != 0 {
		t.Errorf("the emulator holds %d messages, want none", len(emails))
	}
}

// By default the deployment lends no AWS credentials: SES settings without
// the tenant's own access key are refused, naming the field.
func TestSESRegionOnlyIsRefusedByDefault(t *testing.T) {
	withOperatorAWS(t)
	h := setup(t, func(o *options) { o.ses = true })
	token := h.tenant("ACME SRL", nil)
	r := h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, regionOnly("billing@acme.test")))
	if msg, _ := r.errorFields()["email.ses.accessKeyId"].(string); r.errorCode() != "validation_error" || !strings.Contains(msg, "does not lend its AWS credentials") {
		t.Fatalf("response = %s", r.Raw)
	}
	// Half a key pair is refused as before, without pointing at the
	// deployment's credentials.
	half := regionOnly("billing@acme.test")
	half["email"].(map[string]any)["ses"].(map[string]any)["accessKeyId"] = "AKIAEXAMPLE"
	r = h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", token, half))
	if _, ok := r.errorFields()["email.ses.secretAccessKey"]; !ok {
		t.Fatalf("response = %s", r.Raw)
	}
	// The tenant's own credentials are what SES settings take.
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, sesSettings("billing@acme.test")))
	assertNoSESCall(t, h)
}

// A region-only SES setting stored before the deployment refused them is
// refused at send and fails its delivery for good, without calling SES.
func TestSESStoredRegionOnlyFailsDelivery(t *testing.T) {
	withOperatorAWS(t)
	h := setup(t, func(o *options) { o.ses = true })
	id, token := h.adminTenant(map[string]any{"name": "ACME SRL"})
	h.forceSES(id, "billing@acme.test")

	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_old")))
	r := h.must(http.StatusForbidden, h.do("POST", "/api/v1/invoices/inv_old/send", token, nil))
	if r.errorCode() != "sender_not_allowed" || !strings.Contains(string(r.Raw), "does not lend its AWS credentials") {
		t.Fatalf("response = %s", r.Raw)
	}
	// The grace period finalizes the draft and emails it, with no API in
	// between.
	d := h.failedDelivery(t, token, "inv_old")
	assertPermanent(t, d, "credentials_not_lent", "does not lend its AWS credentials")
	assertNoSESCall(t, h)
}

// A deployment that lends its AWS credentials lets a tenant send with
// them only as the identities the operator granted it: tenant A as
// billing@a.example, tenant B as anyone at b.example, tenant C as no one.
// A tenant with its own credentials is unaffected.
func TestSESDeploymentCredentialsOnlyForGrantedIdentities(t *testing.T) {
	withOperatorAWS(t)
	h := setup(t, func(o *options) { o.ses, o.sesShared = true, true })
	aID, a := h.adminTenant(map[string]any{"name": "A SRL", "sesIdentities": []string{"billing@a.example"}})
	_, b := h.adminTenant(map[string]any{"name": "B SRL", "sesIdentities": []string{"B.example"}})
	cID, c := h.adminTenant(map[string]any{"name": "C SRL"})

	// The grant is the operator's: the tenant cannot set it.
	withGrant := regionOnly("ceo@b.example")
	withGrant["sesIdentities"] = []string{"b.example"}
	h.must(http.StatusBadRequest, h.do("PUT", "/api/v1/settings", a, withGrant))
	if bad := h.do("POST", "/admin/v1/tenants", adminToken, map[string]any{"name": "D SRL", "sesIdentities": []string{"not an identity"}}); bad.Status != http.StatusBadRequest || bad.errorFields()["sesIdentities[0]"] == nil {
		t.Fatalf("a malformed identity: %s", bad.Raw)
	}

	// B sends as ceo@b.example, which the deployment's SES account has
	// verified; A may not, and neither may C, which was granted nothing.
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", b, regionOnly("ceo@b.example")))
	for _, tc := range []struct{ name, token, from string }{
		{"A as B's address", a, "ceo@b.example"},
		{"A as another address at its domain", a, "ceo@a.example"},
		{"C, granted nothing", c, "billing@c.example"},
	} {
		r := h.must(http.StatusForbidden, h.do("PUT", "/api/v1/settings", tc.token, regionOnly(tc.from)))
		if r.errorCode() != "sender_not_allowed" || !strings.Contains(string(r.Raw), tc.from) {
			t.Fatalf("%s: response = %s", tc.name, r.Raw)
		}
	}

	// A sends as billing@a.example through SES, signed with the
	// deployment's key.
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", a, regionOnly("billing@a.example")))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", a, sampleInvoice("inv_a")))
	h.sesDelivery(a, "inv_a", 1)
	emails := sestest.Emails(t, h.SESEndpoint)
	if len(emails) != 1 || !strings.Contains(emails[0].From, "billing@a.example") {
		t.Fatalf("the emulator holds %+v", emails)
	}
	for _, call := range sestest.Requests(t, h.SESEndpoint) {
		if call.AccessKeyID != operatorAWSKey {
			t.Errorf("%s %s signed with %q, want the deployment's key", call.Method, call.Path, call.AccessKeyID)
		}
	}

	// Settings forced into the store past the API are refused at send
	// and, sent by the grace period, fail in the worker before SES.
	for _, tc := range []struct{ name, id, token, from, invoice string }{
		{"A as B's address", aID, a, "ceo@b.example", "inv_a_as_b"},
		{"C, granted nothing", cID, c, "ceo@b.example", "inv_c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := len(sestest.Requests(t, h.SESEndpoint))
			h.forceSES(tc.id, tc.from)
			h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", tc.token, sampleInvoice(tc.invoice)))
			r := h.must(http.StatusForbidden, h.do("POST", "/api/v1/invoices/"+tc.invoice+"/send", tc.token, nil))
			if r.errorCode() != "sender_not_allowed" {
				t.Fatalf("response = %s", r.Raw)
			}
			d := h.failedDelivery(t, tc.token, tc.invoice)
			assertPermanent(t, d, "sender_not_allowed", tc.from)
			if got := sestest.Requests(t, h.SESEndpoint); len(got) != calls {
				t.Errorf("SES was called: %+v", got[calls:])
			}
		})
	}
	if emails := sestest.Emails(t, h.SESEndpoint); len(emails) != 1 {
		t.Fatalf("the emulator holds %d messages, want only A's first", len(emails))
	}

	// C with its own credentials sends from its own account: the grant
	// is only about the deployment's.
	own := sesSettings("billing@c.example")
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", c, own))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", c, sampleInvoice("inv_c_own")))
	h.sesDelivery(c, "inv_c_own", 1)
	calls := sestest.Requests(t, h.SESEndpoint)
	if last := calls[len(calls)-1]; last.AccessKeyID != "AKIAEXAMPLE" {
		t.Fatalf("C's own send was signed with %q, want its own key", last.AccessKeyID)
	}
	assertNotLogged(t, h, "operator-secret-value", "example-secret")
}

// The operator grants a tenant created earlier its identities, and takes
// them back, through PATCH /admin/v1/tenants/{tenant}; a revoked grant
// stops the next send.
func TestSESGrantChangesOnExistingTenant(t *testing.T) {
	withOperatorAWS(t)
	h := setup(t, func(o *options) { o.ses, o.sesShared, o.noWorker = true, true, true })
	id, token := h.adminTenant(map[string]any{"name": "ACME SRL"})
	h.must(http.StatusForbidden, h.do("PUT", "/api/v1/settings", token, regionOnly("billing@acme.test")))

	r := h.must(http.StatusOK, h.do("PATCH", "/admin/v1/tenants/"+id, adminToken, map[string]any{"sesIdentities": []string{"ACME.test"}}))
	if got := r.data(); got["id"] != id || got["name"] != "ACME SRL" || fmt.Sprint(got["sesIdentities"]) != "[acme.test]" || got["token"] != nil {
		t.Fatalf("PATCH answered %s", r.Raw)
	}
	h.must(http.StatusOK, h.do("PUT", "/api/v1/settings", token, regionOnly("billing@acme.test")))
	h.must(http.StatusCreated, h.do("POST", "/api/v1/invoices", token, sampleInvoice("inv_g")))
	h.must(http.StatusAccepted, h.do("POST", "/api/v1/invoices/inv_g/send", token, nil))

	// Leaving sesIdentities out changes nothing; [] takes the grant back.
	r = h.must(http.StatusOK, h.do("PATCH", "/admin/v1/tenants/"+id, adminToken, map[string]any{}))
	if fmt.Sprint(r.data()["sesIdentities"]) != "[acme.test]" {
		t.Fatalf("an empty PATCH answered %s", r.Raw)
	}
	h.must(http.StatusOK, h.do("PATCH", "/admin/v1/tenants/"+id, adminToken, map[string]any{"sesIdentities": []string{}}))
	r = h.must(http.StatusForbidden, h.do("POST", "/api/v1/invoices/inv_g/send", token, nil))
	if r.errorCode() != "sender_not_allowed" {
		t.Fatalf("a send after the grant was taken back: %s", r.Raw)
	}

	// Only the operator, only real tenants, only addresses and domains.
	h.must(http.StatusUnauthorized, h.do("PATCH", "/admin/v1/tenants/"+id, token, map[string]any{"sesIdentities": []string{"acme.test"}}))
	h.must(http.StatusNotFound, h.do("PATCH", "/admin/v1/tenants/ten_missing", adminToken, map[string]any{"sesIdentities": []string{"acme.test"}}))
	bad := h.must(http.StatusBadRequest, h.do("PATCH", "/admin/v1/tenants/"+id, adminToken, map[string]any{"sesIdentities": []string{"acme.test", "*.acme.test"}}))
	if bad.errorFields()["sesIdentities[1]"] == nil {
		t.Fatalf("a malformed identity: %s", bad.Raw)
	}
	h.must(http.StatusBadRequest, h.do("PATCH", "/admin/v1/tenants/"+id, adminToken, map[string]any{"name": "Renamed"}))
}
