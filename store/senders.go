package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sender verification: a tenant sending through its own SMTP server proves
// it controls the from address by receiving a code there.

// VerificationTTL is how long a sender verification code is valid.
const VerificationTTL = 30 * time.Minute

// maxVerificationTries bounds guesses per code.
const maxVerificationTries = 5

// ErrVerificationFailed is returned for a wrong, expired or exhausted code.
var ErrVerificationFailed = errors.New("the verification code is wrong or has expired")

func verifiedKey(tenantID string) string     { return tenantKey(tenantID, "sender", "verified") }
func verificationKey(tenantID string) string { return tenantKey(tenantID, "sender", "code") }

// SenderIdentity names what a verification vouches for: the from address
// at the SMTP server it is sent through. Changing either needs a new one.
func SenderIdentity(e EmailSettings) string {
	host := ""
	if e.SMTP != nil {
		host = strings.ToLower(e.SMTP.Host)
	}
	return e.Provider + ":" + strings.ToLower(e.FromEmail) + "@" + host
}

// StartVerification stores a hash of code for identity, replacing any
// earlier code.
func (s *Store) StartVerification(ctx context.Context, tenantID, identity, code string) error {
	return s.rdb.HSet(ctx, verificationKey(tenantID), map[string]any{
		"identity": identity, "code": s.codeHash(code), "tries": 0,
	}).Err()
}

// ExpireVerification starts the code's TTL; called once the code is mailed.
func (s *Store) ExpireVerification(ctx context.Context, tenantID string) error {
	return s.rdb.Expire(ctx, verificationKey(tenantID), VerificationTTL).Err()
}

// ConfirmVerification checks code against the pending verification of
// identity and, if it matches, records identity as verified.
func (s *Store) ConfirmVerification(ctx context.Context, tenantID, identity, code string) error {
	key := verificationKey(tenantID)
	tries, err := s.rdb.HIncrBy(ctx, key, "tries", 1).Result()
	if err != nil {
		return fmt.Errorf("verification: %w", err)
	}
	v, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("verification: %w", err)
	}
	if v["identity"] != identity || v["code"] == "" || tries > maxVerificationTries ||
		!hmac.Equal([]byte(v["code"]), []byte(s.codeHash(code))) {
		if v["code"] == "" {
			s.rdb.Del(ctx, key) // HIncrBy made a stray hash
		}
		return ErrVerificationFailed
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, verifiedKey(tenantID), identity)
		p.Del(ctx, key)
		return nil
	})
	return err
}

// SenderVerified reports whether identity was verified.
func (s *Store) SenderVerified(ctx context.Context, tenantID, identity string) (bool, error) {
	return s.rdb.SIsMember(ctx, verifiedKey(tenantID), identity).Result()
}

// codeHash keys the code with the store's secret so a leaked database does
// not reveal pending codes.
func (s *Store) codeHash(code string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}
