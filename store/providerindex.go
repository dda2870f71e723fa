package store

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Provider callbacks (SES events, Twilio status posts) name a message by
// the provider's id and carry no tenant, so these indexes are global keys
// outside any tenant's hash slot.

func providerMessageKey(provider, providerID string) string {
	return keyPrefix + "provider-msg:" + provider + ":" + providerID
}

// IndexProviderMessage remembers which delivery a provider's message id
// belongs to, for as long as events are kept.
func (s *Store) IndexProviderMessage(ctx context.Context, provider, providerID, tenantID, deliveryID string) error {
	return s.rdb.Set(ctx, providerMessageKey(provider, providerID), tenantID+"/"+deliveryID, EventTTL).Err()
}

// DeliveryByProviderMessage finds the delivery a provider's message id
// belongs to, or ErrNotFound.
func (s *Store) DeliveryByProviderMessage(ctx context.Context, provider, providerID string) (*Delivery, error) {
	v, err := s.rdb.Get(ctx, providerMessageKey(provider, providerID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	tenantID, deliveryID, _ := strings.Cut(v, "/")
	return s.Delivery(ctx, tenantID, deliveryID)
}

const snsTopicsKey = keyPrefix + "sns-topics"

// indexTopics records which tenant allowed each SNS topic, so a
// subscription confirmation (which names no message) finds its tenant.
func (s *Store) indexTopics(ctx context.Context, tenantID string, arns []string) error {
	if len(arns) == 0 {
		return nil
	}
	vals := make([]any, 0, 2*len(arns))
	for _, a := range arns {
		vals = append(vals, a, tenantID)
	}
	return s.rdb.HSet(ctx, snsTopicsKey, vals...).Err()
}

// TenantForTopic returns the tenant whose settings allow the SNS topic
// arn, or ErrNotFound. The index may be stale, so the tenant's current
// settings are checked.
func (s *Store) TenantForTopic(ctx context.Context, arn string) (string, error) {
	tenantID, err := s.rdb.HGet(ctx, snsTopicsKey, arn).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if !st.Email.AllowsTopic(arn) {
		return "", ErrNotFound
	}
	return tenantID, nil
}
