// Package ses delivers email through Amazon SES with the v2 API.
//
// Each SendEmail builds the complete MIME message with providers.Email.Msg
// and hands it to SES as raw content, so the message SES sends is the one
// the SMTP and outbox providers would send too: same headers, same
// attachments, Bcc recipients only in the envelope.
//
// Errors are classified here and nowhere else (see classify): what SES
// rejects for good is providers.Permanent, throttling is
// providers.RetryAfter, and everything else, unknown codes included, is
// transient. The SDK's own retries are turned off: the worker's queue does
// the retrying, so every attempt shows in the delivery's history and none
// hides inside one call.
package ses

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/singleflight"

	"github.com/invoiced/invoiced/providers"
)

const (
	// DefaultTimeout bounds one SES API call when Config.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxMessageBytes is SES v2's limit on a raw message, headers
	// and base64-encoded attachments included.
	DefaultMaxMessageBytes int64 = 40 << 20
	// DefaultIdentityCacheTTL is how long IdentityVerified trusts an answer
	// when Config.IdentityCacheTTL is zero.
	DefaultIdentityCacheTTL = 5 * time.Minute

	// maxRecipients is SES's limit on To, Cc and Bcc addresses together in
	// one message. Checking it here gives a clear permanent error instead
	// of whatever SES answers.
	maxRecipients = 50
)

// Throttling delays, read by the worker through providers.RetryDelay.
const (
	// throttleDelay answers the per-second sending rate limit
	// (TooManyRequestsException, Throttling): the next second usually has
	// room again.
	throttleDelay = time.Second
	// limitDelay answers LimitExceededException that does not name the
	// daily quota: an account-level limit that does not clear within a
	// second, so retrying every second would only burn attempts.
	limitDelay = time.Minute
	// dailyQuotaDelay answers an exhausted 24-hour sending quota. The quota
	// is a rolling window, so capacity comes back gradually; an hour keeps
	// a backlog from hammering SES (at most 24 attempts a day per
	// delivery) while still draining it the same day.
	dailyQuotaDelay = time.Hour
)

// Config configures a Sender.
type Config struct {
	// Region is the AWS region whose SES endpoint is used, e.g.
	// "eu-west-1". Required.
	Region string
	// AccessKeyID and SecretAccessKey are static credentials, set both or
	// neither; SessionToken is optional with them. Left empty, the default
	// AWS credential chain is used (environment, shared config files, web
	// identity, ECS or EC2 instance roles).
	AccessKeyID, SecretAccessKey, SessionToken string
	// ConfigurationSet is sent as ConfigurationSetName with every message,
	// so SES publishes its events (delivery, bounce, complaint, open,
	// click) to the set's destinations. Empty sends none.
	ConfigurationSet string
	// Endpoint overrides SES's endpoint with an absolute http or https URL,
	// e.g. a local emulator. Empty uses the region's AWS endpoint.
	Endpoint string
	// Timeout bounds each SES API call, connecting and reading the answer
	// included; it is set on the SDK's HTTP client. Defaults to 30s.
	Timeout time.Duration
	// MaxMessageBytes refuses, without calling SES, a message whose raw MIME
	// form (attachments base64-encoded) is larger. Defaults to 40 MiB, SES
	// v2's own limit; a higher value only leaves the refusal to SES.
	MaxMessageBytes int64
	// IdentityCacheTTL is how long IdentityVerified keeps an answer, a
	// verified identity and an unverified or missing one alike. Defaults to
	// 5 minutes.
	IdentityCacheTTL time.Duration
}

// sesAPI is the part of the SES v2 client a Sender uses; tests swap it.
type sesAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
	GetEmailIdentity(ctx context.Context, in *sesv2.GetEmailIdentityInput, optFns ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error)
}

var _ sesAPI = (*sesv2.Client)(nil)

// Sender sends email through Amazon SES. It is safe for concurrent use.
type Sender struct {
	cfg     Config
	api     sesAPI
	nowFunc func() time.Time

	lookups singleflight.Group
	mu      sync.Mutex
	idents  map[string]identity // by identity name, see identity.go
}

// New returns a Sender for cfg after filling in the documented defaults and
// loading the AWS configuration (credentials are resolved lazily, at the
// first call). It rejects a missing or malformed region, only one of
// AccessKeyID and SecretAccessKey, a SessionToken without them, an
// Endpoint that is not an absolute http or https URL, and negative
// durations or sizes.
func New(ctx context.Context, cfg Config) (*Sender, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(cfg.Timeout)),
		// One attempt per call: the SDK would otherwise retry throttling
		// and 5xx answers itself, up to three times with backoff, inside
		// one delivery attempt.
		awsconfig.WithRetryMaxAttempts(1),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("ses: load AWS configuration: %w", err)
	}
	client := sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) {
		o.RetryMaxAttempts = 1
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return newSender(cfg, client), nil
}

// newSender returns a Sender calling api; cfg must have its defaults.
func newSender(cfg Config, api sesAPI) *Sender {
	return &Sender{cfg: cfg, api: api, nowFunc: time.Now, idents: map[string]identity{}}
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Region == "" {
		return cfg, errors.New("ses: Region is required")
	}
	if strings.Trim(cfg.Region, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return cfg, fmt.Errorf("ses: Region %q is not a region name like eu-west-1", cfg.Region)
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return cfg, errors.New("ses: set both AccessKeyID and SecretAccessKey, or neither for the default credential chain")
	}
	if cfg.SessionToken != "" && cfg.AccessKeyID == "" {
		return cfg, errors.New("ses: SessionToken needs AccessKeyID and SecretAccessKey")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("ses: Endpoint %q is not an absolute http or https URL", cfg.Endpoint)
		}
	}
	switch {
	case cfg.Timeout < 0:
		return cfg, fmt.Errorf("ses: Timeout %s is negative", cfg.Timeout)
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxMessageBytes < 0:
		return cfg, fmt.Errorf("ses: MaxMessageBytes %d is negative", cfg.MaxMessageBytes)
	case cfg.MaxMessageBytes == 0:
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	switch {
	case cfg.IdentityCacheTTL < 0:
		return cfg, fmt.Errorf("ses: IdentityCacheTTL %s is negative", cfg.IdentityCacheTTL)
	case cfg.IdentityCacheTTL == 0:
		cfg.IdentityCacheTTL = DefaultIdentityCacheTTL
	}
	return cfg, nil
}

// SendEmail delivers e as a raw MIME message and returns the MessageId SES
// assigned, which SES's event notifications carry.
//
// Errors from building the message are returned as they are (they are
// already permanent). A message larger than MaxMessageBytes is permanent
// "message_too_large" and one with more than 50 recipients is permanent
// "too_many_recipients"; neither reaches SES. SES's answers keep their
// code: MessageRejected, MailFromDomainNotVerifiedException,
// AccountSuspendedException, SendingPausedException, NotFoundException,
// BadRequestException and rejected credentials are permanent; throttling
// (TooManyRequestsException, Throttling, ThrottlingException,
// LimitExceededException) is providers.RetryAfter, for 1s, 1m for
// LimitExceededException, 1h when SES names the daily quota; anything
// else, network errors and timeouts included, is transient.
//
// The Destination names every recipient, Bcc included; the message's
// headers name only To and Cc. SES has no idempotency key: a call that
// times out after SES accepted the message is sent again by the retry.
func (s *Sender) SendEmail(ctx context.Context, e *providers.Email) (string, error) {
	m, err := e.Msg()
	if err != nil {
		return "", err
	}
	var raw bytes.Buffer
	raw.Grow(e.Size())
	if _, err := m.WriteTo(&raw); err != nil {
		return "", fmt.Errorf("ses: write message %s: %w", e.MessageID, err)
	}
	if size := int64(raw.Len()); size > s.cfg.MaxMessageBytes {
		return "", providers.Permanent("message_too_large", fmt.Errorf(
			"ses: message %s is %s (%d bytes, attachments base64-encoded), over the limit of %s (%d bytes)",
			e.MessageID, mib(size), size, mib(s.cfg.MaxMessageBytes), s.cfg.MaxMessageBytes))
	}

	dest := &types.Destination{
		ToAddresses:  addresses(m.GetTo()),
		CcAddresses:  addresses(m.GetCc()),
		BccAddresses: addresses(m.GetBcc()),
	}
	if n := len(dest.ToAddresses) + len(dest.CcAddresses) + len(dest.BccAddresses); n > maxRecipients {
		return "", providers.Permanent("too_many_recipients", fmt.Errorf(
			"ses: message %s has %d recipients (To, Cc and Bcc); SES accepts at most %d", e.MessageID, n, maxRecipients))
	}
	in := &sesv2.SendEmailInput{
		Content:     &types.EmailContent{Raw: &types.RawMessage{Data: raw.Bytes()}},
		Destination: dest,
		// Msg parsed FromEmail, so there is exactly one From address.
		FromEmailAddress: aws.String(m.GetFrom()[0].Address),
	}
	if s.cfg.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.cfg.ConfigurationSet)
	}
	out, err := s.api.SendEmail(ctx, in)
	if err != nil {
		return "", classify("send "+e.MessageID, err)
	}
	return aws.ToString(out.MessageId), nil
}

// classify turns an error from the SES client into a providers error,
// keeping err in the chain (so errors.As still finds the smithy.APIError
// and its code) and naming the code in the message.
//
//   - Permanent, with SES's code: MessageRejected,
//     MailFromDomainNotVerifiedException, AccountSuspendedException,
//     SendingPausedException, NotFoundException (e.g. the configuration
//     set does not exist), BadRequestException, and the credential
//     rejections AccessDeniedException, UnrecognizedClientException and
//     InvalidClientTokenId: none of them changes until someone changes
//     the account or the tenant's settings.
//   - RetryAfter: TooManyRequestsException, Throttling and
//     ThrottlingException after 1s; LimitExceededException after 1m;
//     either after 1h when SES's message names the daily quota.
//   - Transient, anything else: 5xx and InternalFailure, unknown codes,
//     network errors, timeouts, a canceled ctx, credentials that could
//     not be loaded.
func classify(op string, err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("ses: %s: %w", op, err)
	}
	code := apiErr.ErrorCode()
	switch code {
	case "MessageRejected", "MailFromDomainNotVerifiedException", "AccountSuspendedException",
		"SendingPausedException", "NotFoundException", "BadRequestException",
		"AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId":
		return providers.Permanent(code, fmt.Errorf("ses: %s: %w", op, err))
	case "TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException":
		d := throttleDelay
		if code == "LimitExceededException" {
			d = limitDelay
		}
		if strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "daily") {
			d = dailyQuotaDelay
		}
		return providers.RetryAfter(d, fmt.Errorf("ses: %s: throttled (%s): %w", op, code, err))
	default:
		return fmt.Errorf("ses: %s: transient (%s): %w", op, code, err)
	}
}

func addresses(list []*netmail.Address) []string {
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, a.Address)
	}
	return out
}

// mib formats n bytes as MiB with one decimal.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
