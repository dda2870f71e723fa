package webhook_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/invoiced/invoiced/providers/webhook"
)

// A receiver checks a delivery against the raw body it read, before
// parsing it, with the endpoint's secret.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	received := time.Unix(1614265330, 0).Add(30 * time.Second)
	fmt.Println(webhook.Verify(secret, h, body, received, 5*time.Minute))
	fmt.Println(webhook.Verify(secret, h, []byte(`{"test": 1}`), received, 5*time.Minute))
	// Output:
	// <nil>
	// invalid webhook signature: no matching v1 signature
}
