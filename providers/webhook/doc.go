// Package webhook delivers signed events to tenants' HTTP endpoints, per
// Standard Webhooks (https://www.standardwebhooks.com).
//
// Each delivery is a POST of a JSON body with three headers:
//
//	webhook-id:        the event's id, the same on every retry (receivers dedupe on it)
//	webhook-timestamp: unix seconds of the attempt's signing time
//	webhook-signature: v1,<base64 HMAC-SHA256(secret, id + "." + timestamp + "." + body)>
//
// where the secret is "whsec_" followed by base64 of 24 to 64 random bytes
// (NewSecret makes 32), and the HMAC is keyed with those decoded bytes. A
// receiver recomputes the signature over the raw body it received, compares
// in constant time, and rejects timestamps more than a few minutes away;
// Verify does exactly that.
//
// Endpoint URLs are chosen by tenants, so the client from NewClient refuses
// to connect anywhere but the public internet: the check runs on every
// address at dial time, after DNS resolution, so a name that resolves, or
// later re-resolves, to an internal address fails too. It ignores proxy
// environment variables and follows no redirects. CheckURL gives the same
// verdict early, for settings validation, on what can be known without DNS.
//
// Errors follow the providers classes: a 410 Gone (ErrGone), a forbidden
// address (ErrForbiddenAddress) and a malformed URL, event id or secret are
// permanent; 429 and 503 with Retry-After are providers.RetryAfter;
// everything else is transient and retried on Schedule (see NextAttempt).
package webhook
