package wiring

import (
	"context"
	"errors"
	"testing"

	"github.com/invoiced/invoiced/store"
)

// TestSESSendersLendOnlyWhenShared: no SES client on the deployment's AWS
// credentials is built unless the deployment lends them, for sending and
// for identity checks alike.
func TestSESSendersLendOnlyWhenShared(t *testing.T) {
	t.Parallel()
	regionOnly := store.SESSettings{Region: "eu-west-1"}
	own := store.SESSettings{Region: "eu-west-1", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "example-secret"}

	notLent := NewSESSenders("http://127.0.0.1:1", false)
	if _, err := notLent.EmailSender(regionOnly); !errors.Is(err, ErrSESCredentialsNotLent) {
		t.Errorf("EmailSender(region only) err = %v, want ErrSESCredentialsNotLent", err)
	}
	if _, err := notLent.Verified(context.Background(), regionOnly, "billing@acme.test"); !errors.Is(err, ErrSESCredentialsNotLent) {
		t.Errorf("Verified(region only) err = %v, want ErrSESCredentialsNotLent", err)
	}
	if s, err := notLent.EmailSender(own); err != nil || s == nil {
		t.Errorf("EmailSender(own credentials) = %v, %v", s, err)
	}

	lent := NewSESSenders("http://127.0.0.1:1", true)
	if s, err := lent.EmailSender(regionOnly); err != nil || s == nil {
		t.Errorf("lent: EmailSender(region only) = %v, %v", s, err)
	}
}
