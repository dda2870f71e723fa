package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route Handler serves (OpenAPI 3.0). The
// end-to-end tests hold each request and answer they make to it.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPIDocument returns the API's OpenAPI 3.0 document, as served at
// GET /openapi.yaml.
func OpenAPIDocument() []byte { return openAPIDocument }

// openAPI handles GET /openapi.yaml. It is public, like any API reference.
func openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
}
