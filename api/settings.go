package api

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/invoiced/invoiced/internal/netguard"
	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/render/pdf"
	"github.com/invoiced/invoiced/store"
	"github.com/invoiced/invoiced/tasks"
)

// secretSet shows whether a write-only secret is stored, never its value.
func secretSet(s string) bool { return s != "" }

// settingsView is the settings as the API shows them: secrets are
// write-only, so only whether each is set comes back, and emailsPerHour is
// the limit in force under the operator's emailCeiling.
func settingsView(st store.Settings, verified bool, emailCeiling, retentionDays int) map[string]any {
	email := map[string]any{
		"provider": st.Email.Provider, "fromEmail": st.Email.FromEmail, "fromName": st.Email.FromName,
		"replyTo": st.Email.ReplyTo, "maxPerSecond": st.Email.MaxPerSecond, "senderVerified": verified,
		"tracking": st.Email.Tracking,
	}
	if s := st.Email.SMTP; s != nil {
		email["smtp"] = map[string]any{"host": s.Host, "port": s.Port, "username": s.Username, "tls": s.TLS, "caCert": s.CACert,
			"passwordSet": secretSet(s.Password)}
	}
	if s := st.Email.SES; s != nil {
		email["ses"] = map[string]any{"region": s.Region, "accessKeyId": s.AccessKeyID, "configurationSet": s.ConfigurationSet,
			"eventTopicArns": nonNil(s.EventTopicARNs), "secretAccessKeySet": secretSet(s.SecretAccessKey)}
	}
	sms := map[string]any{"provider": st.SMS.Provider, "maxSegments": st.SMS.Segments(), "maxPerSecond": st.SMS.MaxPerSecond}
	if t := st.SMS.Twilio; t != nil {
		sms["twilio"] = map[string]any{"accountSid": t.AccountSID, "from": t.From, "messagingServiceSid": t.MessagingServiceSID,
			"authTokenSet": secretSet(t.AuthToken)}
	}
	payments := map[string]any{"gateway": st.Payments.Gateway}
	if p := st.Payments.Stripe; p != nil {
		payments["stripe"] = map[string]any{"secretKeySet": secretSet(p.SecretKey), "webhookSecretSet": secretSet(p.WebhookSecret)}
	}
	if p := st.Payments.Razorpay; p != nil {
		payments["razorpay"] = map[string]any{"keyId": p.KeyID, "keySecretSet": secretSet(p.KeySecret)}
	}
	if p := st.Payments.Static; p != nil {
		payments["static"] = p
	}
	d := st.Defaults
	return map[string]any{
		"branding": st.Branding,
		"bank":     st.Bank,
		"email":    email,
		"sms":      sms,
		"payments": payments,
		"defaults": map[string]any{
			"language":            d.Lang(),
			"gracePeriod":         gracePeriod(d),
			"autoEmailOnFinalize": d.AutoEmail(),
			"emailsPerHour":       d.EmailLimit(emailCeiling),
			"retentionDays":       d.Retention(retentionDays),
			"einvoiceProfile":     d.Profile(),
		},
		"reminders": map[string]any{
			"days": nonNil(st.Reminders.Days), "time": firstNonEmpty(st.Reminders.Time, store.DefaultReminderTime),
			"timeZone": firstNonEmpty(st.Reminders.TimeZone, "UTC"),
		},
		"templates": templatesView(st.Templates),
		"updatedAt": st.UpdatedAt,
	}
}

// templatesView shows no templates as {}.
func templatesView(t map[string]store.TemplateText) map[string]store.TemplateText {
	if t == nil {
		return map[string]store.TemplateText{}
	}
	return t
}

// nonNil shows a missing list as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// gracePeriod shows the grace period as the tenant wrote it ("1h"), or the
// default.
func gracePeriod(d store.Defaults) string {
	if d.GracePeriod != "" {
		return d.GracePeriod
	}
	return "1h"
}

func (a *API) writeSettings(w http.ResponseWriter, r *http.Request, tenantID string) *Error {
	st, err := a.st.Settings(r.Context(), tenantID)
	if err != nil {
		return errInternal(err)
	}
	verified, err := a.st.SenderVerified(r.Context(), tenantID, store.SenderIdentity(st.Email))
	if err != nil {
		return errInternal(err)
	}
	view := settingsView(st, verified, a.cfg.MaxEmailsPerHour, a.cfg.RetentionDays)
	view["companyId"] = tenantFrom(r.Context()).CompanyID
	writeData(w, http.StatusOK, view)
	return nil
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) *Error {
	return a.writeSettings(w, r, tenantFrom(r.Context()).ID)
}

// readOnlySettings are the fields GET adds to the settings, by path: PUT
// accepts them, so GET's answer can be sent back, and ignores them.
var readOnlySettings = [][]string{
	{"email", "senderVerified"},
	{"email", "smtp", "passwordSet"},
	{"email", "ses", "secretAccessKeySet"},
	{"sms", "twilio", "authTokenSet"},
	{"payments", "stripe", "secretKeySet"},
	{"payments", "stripe", "webhookSecretSet"},
	{"payments", "razorpay", "keySecretSet"},
}

// dropReadOnly removes readOnlySettings from a settings body. A body that
// is not a JSON object is returned as it is, for decodeJSON to refuse.
func dropReadOnly(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) != nil || dec.More() {
		return body
	}
	dropped := false
	for _, path := range readOnlySettings {
		m := v
		for _, k := range path[:len(path)-1] {
			m, _ = m[k].(map[string]any)
		}
		if _, ok := m[path[len(path)-1]]; ok {
			delete(m, path[len(path)-1])
			dropped = true
		}
	}
	if !dropped {
		return body
	}
	b, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return b
}

// putSettings replaces the tenant's settings. A secret left out of the
// request keeps its stored value, and the read-only fields GET adds
// (senderVerified, the …Set flags, updatedAt) are ignored, so a client can
// send back what GET returned without knowing the secrets. A top-level
// companyId changes the tenant's company UUID ("" removes it); left out or
// null, it stays.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenant := tenantFrom(ctx)
	body, companyID, apiErr := takeCompanyID(dropReadOnly(bodyOf(r)))
	if apiErr != nil {
		return apiErr
	}
	var req store.Settings
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	req.UpdatedAt = nil
	old, err := a.st.Settings(ctx, tenant.ID)
	if err != nil {
		return errInternal(err)
	}
	req.KeepSecrets(old)
	fe := validateSettings(&req)
	if sm := req.Email.SMTP; sm != nil && fe["email.smtp.host"] == "" && sm.Host != "" {
		if err := netguard.CheckHost(sm.Host, a.cfg.SMTPAllowNets); err != nil {
			fe["email.smtp.host"] = err.Error()
		}
	}
	if e := req.Email; e.Provider == store.ProviderSES && e.SES != nil && !e.SES.OwnCredentials() &&
		!a.cfg.SESSharedCredentials && fe["email.ses.secretAccessKey"] == "" {
		fe["email.ses.accessKeyId"] = sesNotLent
	}
	if n, ceiling := req.Defaults.EmailsPerHour, a.cfg.MaxEmailsPerHour; n > ceiling {
		fe["defaults.emailsPerHour"] = fmt.Sprintf("must be at most %d, the most emails per hour this service allows a tenant", ceiling)
	}
	if companyID != nil {
		if problem := checkCompanyID(*companyID); problem != "" {
			fe["companyId"] = problem
		}
	}
	if len(fe) > 0 {
		return errValidation("the settings have invalid fields", fe)
	}
	if apiErr := a.checkDeploymentSES(tenant, req.Email); apiErr != nil {
		return apiErr
	}
	if err := a.st.SaveSettings(ctx, tenant.ID, req); err != nil {
		return errInternal(err)
	}
	if companyID != nil {
		t, err := a.st.SetCompanyID(ctx, tenant.ID, *companyID)
		if err != nil {
			return errInternal(err)
		}
		r = r.WithContext(withTenant(ctx, t))
	}
	return a.writeSettings(w, r, tenant.ID)
}

var (
	e164Pattern     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	sidPattern      = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)
	hostnamePattern = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$`)
	topicARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
)

func validateSettings(s *store.Settings) invoice.FieldErrors {
	fe := invoice.FieldErrors{}
	optEmail := func(field, v string) {
		if v != "" {
			if err := invoice.CheckEmail(v); err != nil {
				fe[field] = err.Error()
			}
		}
	}
	text := func(field, v string, max int) {
		if err := invoice.CheckText(v, max, false); err != nil {
			fe[field] = err.Error()
		}
	}
	b := s.Branding
	text("branding.name", b.Name, 200)
	text("branding.vatId", b.VATID, 64)
	text("branding.registrationNumber", b.RegistrationNumber, 64)
	optEmail("branding.email", b.Email)
	text("branding.contactName", b.ContactName, 200)
	if b.Endpoint != nil {
		for k, v := range invoice.CheckEndpoint(b.Endpoint) {
			fe["branding.endpoint."+k] = v
		}
	}
	for field, err := range map[string]error{
		"branding.logo":        pdf.CheckLogo(b.Logo),
		"branding.accentColor": pdf.CheckAccent(b.AccentColor),
		"branding.paperSize":   pdf.CheckPaper(b.PaperSize),
	} {
		if err != nil {
			fe[field] = err.Error()
		}
	}
	text("bank.iban", s.Bank.IBAN, 64)
	text("bank.bic", s.Bank.BIC, 16)

	validateEmailSettings(fe, &s.Email, optEmail, text)
	validateSMSSettings(fe, &s.SMS)
	validatePaymentSettings(fe, &s.Payments)

	d := s.Defaults
	if d.Language != "" && !invoice.ValidLanguage(d.Language) {
		fe["defaults.language"] = "must be a language code like en or ro"
	}
	if d.GracePeriod != "" {
		g, err := time.ParseDuration(d.GracePeriod)
		switch {
		case err != nil:
			fe["defaults.gracePeriod"] = "must be a duration like 1h, 30m or 90s"
		case g < time.Second || g > 30*24*time.Hour:
			fe["defaults.gracePeriod"] = "must be between 1s and 720h"
		}
	}
	if d.EmailsPerHour < 0 {
		fe["defaults.emailsPerHour"] = "must not be negative"
	}
	if n := d.RetentionDays; n != 0 && (n < store.MinRetentionDays || n > store.MaxRetentionDays) {
		fe["defaults.retentionDays"] = fmt.Sprintf("must be between %d and %d days", store.MinRetentionDays, store.MaxRetentionDays)
	}
	if d.EinvoiceProfile != "" && !invoice.ValidProfile(d.EinvoiceProfile) {
		fe["defaults.einvoiceProfile"] = "must be one of " + strings.Join(invoice.Profiles, ", ")
	}
	validateReminders(fe, &s.Reminders)
	for lang, t := range s.Templates {
		if !invoice.ValidLanguage(lang) {
			fe["templates."+lang] = "must be keyed by a language code like en"
		}
		text("templates."+lang+".subject", t.Subject, maxSubjectLen)
		text("templates."+lang+".reminderSubject", t.ReminderSubject, maxSubjectLen)
		text("templates."+lang+".overdueSubject", t.OverdueSubject, maxSubjectLen)
	}
	return fe
}

// maxReminders bounds the reminders of one invoice.
const maxReminders = 6

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func validateReminders(fe invoice.FieldErrors, r *store.Reminders) {
	if len(r.Days) > maxReminders {
		fe["reminders.days"] = fmt.Sprintf("may hold at most %d reminders", maxReminders)
	}
	seen := map[int]bool{}
	for _, d := range r.Days {
		switch {
		case d < -60 || d > 365:
			fe["reminders.days"] = "each must be from -60 (days before the due date) to 365 (days after it)"
		case seen[d]:
			fe["reminders.days"] = fmt.Sprintf("holds %d twice", d)
		}
		seen[d] = true
	}
	if r.Time != "" && !clockPattern.MatchString(r.Time) {
		fe["reminders.time"] = "must be a time of day like 09:00"
	}
	if r.TimeZone != "" {
		if _, err := time.LoadLocation(r.TimeZone); err != nil || strings.EqualFold(r.TimeZone, "local") {
			fe["reminders.timeZone"] = "must be an IANA time zone like Europe/Bucharest"
		}
	}
}

func validateEmailSettings(fe invoice.FieldErrors, e *store.EmailSettings, optEmail func(string, string), text func(string, string, int)) {
	switch e.Provider {
	case "", store.ProviderOutbox:
	case store.ProviderSMTP:
		if e.SMTP == nil || e.SMTP.Host == "" {
			fe["email.smtp.host"] = "is required when provider is smtp"
		}
	case store.ProviderSES:
		if e.SES == nil || e.SES.Region == "" {
			fe["email.ses.region"] = "is required when provider is ses"
		}
	default:
		fe["email.provider"] = fmt.Sprintf("%q is not one of outbox, smtp, ses", e.Provider)
	}
	if (e.Provider == store.ProviderSMTP || e.Provider == store.ProviderSES) && e.FromEmail == "" {
		fe["email.fromEmail"] = "is required when provider is " + e.Provider
	}
	optEmail("email.fromEmail", e.FromEmail)
	optEmail("email.replyTo", e.ReplyTo)
	text("email.fromName", e.FromName, 200)
	if e.MaxPerSecond < 0 {
		fe["email.maxPerSecond"] = "must not be negative"
	}
	if sm := e.SMTP; sm != nil {
		text("email.smtp.host", sm.Host, 253)
		if _, err := netip.ParseAddr(sm.Host); sm.Host != "" && err != nil && !hostnamePattern.MatchString(sm.Host) {
			fe["email.smtp.host"] = "must be a host name like smtp.example.com or an IP address, without a port (set port) or brackets"
		}
		if sm.Port < 0 || sm.Port > 65535 {
			fe["email.smtp.port"] = "must be between 1 and 65535"
		}
		switch sm.TLS {
		case "", "starttls", "opportunistic", "tls", "none":
		default:
			fe["email.smtp.tls"] = fmt.Sprintf("%q is not one of starttls, opportunistic, tls, none", sm.TLS)
		}
		if sm.CACert != "" {
			if problem := checkCACert(sm.CACert); problem != "" {
				fe["email.smtp.caCert"] = problem
			}
		}
	}
	if ses := e.SES; ses != nil {
		text("email.ses.region", ses.Region, 32)
		for i, arn := range ses.EventTopicARNs {
			if !topicARNPattern.MatchString(arn) {
				fe[fmt.Sprintf("email.ses.eventTopicArns[%d]", i)] = "must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:ses-events"
			}
		}
		if (ses.AccessKeyID == "") != (ses.SecretAccessKey == "") {
			fe["email.ses.secretAccessKey"] = "accessKeyId and secretAccessKey go together"
		}
	}
}

// maxCACert bounds email.smtp.caCert: a few certificates' worth.
const maxCACert = 64 << 10

// checkCACert accepts one or more PEM certificates and nothing else.
func checkCACert(s string) string {
	const want = "must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)"
	if len(s) > maxCACert {
		return fmt.Sprintf("must be at most %d KiB", maxCACert>>10)
	}
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return want + ", not " + block.Type
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return want + ": " + err.Error()
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return want
	}
	return ""
}

// sesNotLent is the problem with ses settings that carry no access key on
// a deployment that does not lend its AWS credentials.
const sesNotLent = "this deployment does not lend its AWS credentials; set your own accessKeyId and secretAccessKey"

// checkDeploymentSES answers 403 sender_not_allowed when e would send
// through SES with the deployment's AWS credentials and may not: the
// deployment does not lend them, or the operator did not grant tenant
// e.FromEmail or its domain (store.Tenant.MaySendAsSES). The deployment's
// SES account verifies identities for every tenant it lends to, so its
// verification cannot tell one tenant's sender from another's; the
// operator's grant does. Settings with the tenant's own access key, and
// other providers, pass.
func (a *API) checkDeploymentSES(tenant store.Tenant, e store.EmailSettings) *Error {
	if e.Provider != store.ProviderSES || e.SES == nil || e.SES.OwnCredentials() {
		return nil
	}
	if !a.cfg.SESSharedCredentials {
		return &Error{Status: http.StatusForbidden, Code: CodeSenderNotAllowed, Message: sesNotLent + " in settings.email.ses"}
	}
	if !tenant.MaySendAsSES(e.FromEmail) {
		return &Error{Status: http.StatusForbidden, Code: CodeSenderNotAllowed, Message: fmt.Sprintf(
			"%s is not an identity this deployment lets you send as with its AWS credentials; ask the operator to grant it, or set your own settings.email.ses.accessKeyId and secretAccessKey",
			e.FromEmail)}
	}
	return nil
}

func validateSMSSettings(fe invoice.FieldErrors, s *store.SMSSettings) {
	switch s.Provider {
	case "", store.SMSProviderOutbox:
	case store.SMSProviderTwilio:
		t := s.Twilio
		if t == nil {
			fe["sms.twilio"] = "is required when provider is twilio"
			break
		}
		if !sidPattern.MatchString(t.AccountSID) || t.AccountSID[:2] != "AC" {
			fe["sms.twilio.accountSid"] = "must be a Twilio account SID like AC followed by 32 hex digits"
		}
		if t.AuthToken == "" {
			fe["sms.twilio.authToken"] = "is required"
		}
		switch {
		case (t.From == "") == (t.MessagingServiceSID == ""):
			fe["sms.twilio.from"] = "set exactly one of from and messagingServiceSid"
		case t.From != "" && !e164Pattern.MatchString(t.From):
			fe["sms.twilio.from"] = "must be an E.164 number like +40712345678"
		case t.MessagingServiceSID != "" && (!sidPattern.MatchString(t.MessagingServiceSID) || t.MessagingServiceSID[:2] != "MG"):
			fe["sms.twilio.messagingServiceSid"] = "must be a messaging service SID like MG followed by 32 hex digits"
		}
	default:
		fe["sms.provider"] = fmt.Sprintf("%q is not one of outbox, twilio", s.Provider)
	}
	if s.MaxSegments < 0 || s.MaxSegments > 10 {
		fe["sms.maxSegments"] = "must be between 1 and 10"
	}
	if s.MaxPerSecond < 0 {
		fe["sms.maxPerSecond"] = "must not be negative"
	}
}

type verifyRequest struct {
	Code string `json:"code"`
}

// verifySender handles POST /api/v1/settings/email/verify. Without a code
// it mails a fresh code to the from address through the tenant's SMTP
// server (202); with one it confirms the address (200). Only the smtp
// provider needs this: SES verifies identities itself and the outbox
// delivers nowhere.
func (a *API) verifySender(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenant := tenantFrom(ctx)
	var req verifyRequest
	if err := decodeJSON(bodyOf(r), &req, true); err != nil {
		return err
	}
	st, err := a.st.Settings(ctx, tenant.ID)
	if err != nil {
		return errInternal(err)
	}
	if st.Email.Provider != store.ProviderSMTP {
		return &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: "sender verification by code is for the smtp provider; SES identities are verified in SES, and the outbox needs none"}
	}
	identity := store.SenderIdentity(st.Email)
	if req.Code != "" {
		err := a.st.ConfirmVerification(ctx, tenant.ID, identity, req.Code)
		if errors.Is(err, store.ErrVerificationFailed) {
			return errField("code", "is wrong or has expired; request a new one")
		}
		if err != nil {
			return errInternal(err)
		}
		return a.writeSettings(w, r, tenant.ID)
	}
	task, err := tasks.NewVerifySenderTask(tasks.VerifySenderPayload{TenantID: tenant.ID, Identity: identity})
	if err == nil {
		_, err = a.cfg.Enqueuer.EnqueueContext(ctx, task)
	}
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the verification email could not be queued; retry", cause: err}
	}
	writeData(w, http.StatusAccepted, map[string]any{
		"fromEmail": st.Email.FromEmail,
		"status":    "code_sent",
		"message":   fmt.Sprintf("a code was mailed to %s; POST it back as {\"code\":\"…\"} within %s", st.Email.FromEmail, store.VerificationTTL),
	})
	return nil
}

func validatePaymentSettings(fe invoice.FieldErrors, p *store.PaymentSettings) {
	switch p.Gateway {
	case "":
	case store.GatewayStripe:
		if p.Stripe == nil || p.Stripe.SecretKey == "" {
			fe["payments.stripe.secretKey"] = "is required when gateway is stripe"
		} else if !strings.HasPrefix(p.Stripe.SecretKey, "sk_") && !strings.HasPrefix(p.Stripe.SecretKey, "rk_") {
			fe["payments.stripe.secretKey"] = "must be a Stripe secret or restricted key (sk_… or rk_…)"
		}
	case store.GatewayRazorpay:
		if p.Razorpay == nil || p.Razorpay.KeyID == "" || p.Razorpay.KeySecret == "" {
			fe["payments.razorpay"] = "keyId and keySecret are required when gateway is razorpay"
		}
	case store.GatewayStatic:
		if p.Static == nil || p.Static.URLTemplate == "" {
			fe["payments.static.urlTemplate"] = "is required when gateway is static"
		} else if u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(p.Static.URLTemplate)); err != nil ||
			(u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe["payments.static.urlTemplate"] = "must be an absolute https:// URL with {invoiceId}, {number}, {amount}, {currency} or {tenantId}"
		}
	default:
		fe["payments.gateway"] = fmt.Sprintf("%q is not one of stripe, razorpay, static", p.Gateway)
	}
}
