package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// readBody reads the whole request body, at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *Error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Message: fmt.Sprintf("request body is larger than the limit of %d bytes", limit)}
	}
	if err != nil {
		return nil, errValidation("could not read the request body", nil)
	}
	return b, nil
}

// emptyObject reports whether body is the JSON {} with no more than JSON's
// own white space around it and inside.
func emptyObject(body []byte) bool {
	braces := 0 // 1 after the {, 2 after the }
	for _, c := range body {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '{' && braces == 0, c == '}' && braces == 1:
			braces++
		default:
			return false
		}
	}
	return braces == 2
}

// decodesEmptyObject reports whether decoding {} into v leaves v as it is,
// which it does for a pointer to a struct that decodes itself with the
// json package: its fields are all left out.
func decodesEmptyObject(v any) bool {
	if _, ok := v.(json.Unmarshaler); ok {
		return false
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct
}

// decodeJSON decodes body into v, refusing unknown fields, trailing data
// and values of the wrong type, with messages that name the field. An empty
// body is an error unless optional.
func decodeJSON(body []byte, v any, optional bool) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "the request body must be a JSON object"}
	}
	if emptyObject(body) && decodesEmptyObject(v) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "unexpected data after the JSON object"}
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON,
			Message: fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "malformed JSON: the body ends too early"}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "the request body must be a JSON object"}
		}
		return errField(field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errValidation(fmt.Sprintf("unknown field %q", name), map[string]string{name: "unknown field"})
	}
	var fieldErr *Error
	if errors.As(err, &fieldErr) {
		return fieldErr
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "malformed JSON: " + err.Error()}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a value"
	}
	return "a number"
}
