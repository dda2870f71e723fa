package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/invoiced/invoiced/invoice"
	"github.com/invoiced/invoiced/store"
)

// smtpView is the SMTP settings as the API shows them: the password is
// write-only, so only whether one is set comes back.
type smtpView struct {
	Host        string `json:"host"`
	Port        int    `json:"port,omitempty"`
	Username    string `json:"username,omitempty"`
	TLS         string `json:"tls,omitempty"`
	PasswordSet bool   `json:"passwordSet"`
}

func settingsView(st store.Settings) map[string]any {
	email := map[string]any{
		"provider":  st.Email.Provider,
		"fromEmail": st.Email.FromEmail,
		"fromName":  st.Email.FromName,
		"replyTo":   st.Email.ReplyTo,
	}
	if s := st.Email.SMTP; s != nil {
		email["smtp"] = smtpView{Host: s.Host, Port: s.Port, Username: s.Username, TLS: s.TLS, PasswordSet: s.Password != ""}
	}
	d := st.Defaults
	return map[string]any{
		"branding": st.Branding,
		"bank":     st.Bank,
		"email":    email,
		"defaults": map[string]any{
			"language":            d.Lang(),
			"gracePeriod":         gracePeriod(d),
			"autoEmailOnFinalize": d.AutoEmail(),
			"emailsPerHour":       emailsPerHour(d),
		},
		"templates": st.Templates,
		"updatedAt": st.UpdatedAt,
	}
}

// gracePeriod shows the grace period as the tenant wrote it ("1h"), or the
// default.
func gracePeriod(d store.Defaults) string {
	if d.GracePeriod != "" {
		return d.GracePeriod
	}
	return "1h"
}

func emailsPerHour(d store.Defaults) int {
	if d.EmailsPerHour == 0 {
		return store.DefaultEmailsPerHour
	}
	return d.EmailsPerHour
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) *Error {
	st, err := a.st.Settings(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, settingsView(st))
	return nil
}

// putSettings replaces the tenant's settings. A secret left out of the
// request (the SMTP password) keeps its stored value, so a client can
// round-trip what GET returned without knowing the secret.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request) *Error {
	ctx := r.Context()
	tenant := tenantFrom(ctx)
	var req store.Settings
	if err := decodeJSON(bodyOf(r), &req, false); err != nil {
		return err
	}
	req.UpdatedAt = nil
	if fe := validateSettings(&req); len(fe) > 0 {
		return errValidation("the settings have invalid fields", fe)
	}
	old, err := a.st.Settings(ctx, tenant.ID)
	if err != nil {
		return errInternal(err)
	}
	if req.Email.SMTP != nil && req.Email.SMTP.Password == "" && old.Email.SMTP != nil {
		req.Email.SMTP.Password = old.Email.SMTP.Password
	}
	if err := a.st.SaveSettings(ctx, tenant.ID, req); err != nil {
		return errInternal(err)
	}
	saved, err := a.st.Settings(ctx, tenant.ID)
	if err != nil {
		return errInternal(err)
	}
	writeData(w, http.StatusOK, settingsView(saved))
	return nil
}

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
	text("bank.iban", s.Bank.IBAN, 64)
	text("bank.bic", s.Bank.BIC, 16)

	e := &s.Email
	switch e.Provider {
	case "", store.ProviderOutbox:
	case store.ProviderSMTP:
		if e.SMTP == nil || e.SMTP.Host == "" {
			fe["email.smtp.host"] = "is required when provider is smtp"
		}
		if e.FromEmail == "" {
			fe["email.fromEmail"] = "is required when provider is smtp"
		}
	default:
		fe["email.provider"] = fmt.Sprintf("%q is not one of outbox, smtp", e.Provider)
	}
	optEmail("email.fromEmail", e.FromEmail)
	optEmail("email.replyTo", e.ReplyTo)
	text("email.fromName", e.FromName, 200)
	if sm := e.SMTP; sm != nil {
		text("email.smtp.host", sm.Host, 253)
		if sm.Port < 0 || sm.Port > 65535 {
			fe["email.smtp.port"] = "must be between 1 and 65535"
		}
		switch sm.TLS {
		case "", "starttls", "opportunistic", "tls", "none":
		default:
			fe["email.smtp.tls"] = fmt.Sprintf("%q is not one of starttls, opportunistic, tls, none", sm.TLS)
		}
	}

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
	for lang, t := range s.Templates {
		if !invoice.ValidLanguage(lang) {
			fe["templates."+lang] = "must be keyed by a language code like en"
		}
		text("templates."+lang+".subject", t.Subject, 998)
	}
	return fe
}
