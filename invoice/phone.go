package invoice

import (
	"errors"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone parses a phone number as a customer would write it and
// returns it in E.164 form ("+40712345678"). A number without a country
// prefix is read in country, the customer's ISO 3166-1 alpha-2 country; with
// no country, it must start with "+".
func NormalizePhone(phone, country string) (string, error) {
	if phone == "" {
		return "", errors.New("is empty")
	}
	n, err := phonenumbers.Parse(phone, country)
	if err != nil {
		if country == "" {
			return "", errors.New("not a valid phone number; use the international form, e.g. +40712345678")
		}
		return "", errors.New("not a valid phone number")
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", errors.New("not a valid phone number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
