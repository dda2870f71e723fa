package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/invoiced/invoiced/api"
)

// docServer is the server URL the OpenAPI document names; requests are
// matched against it whatever address a test's API listens on.
const docServer = "http://localhost:8080"

var openAPI struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// openAPIRouter loads and checks the API's OpenAPI document once.
func openAPIRouter(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	openAPI.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument())
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err == nil {
			openAPI.router, err = gorillamux.NewRouter(doc)
		}
		openAPI.doc, openAPI.err = doc, err
	})
	if openAPI.err != nil {
		t.Fatalf("the OpenAPI document: %v", openAPI.err)
	}
	return openAPI.doc, openAPI.router
}

// checkOpenAPI holds one exchange the tests made to the OpenAPI document:
// the answer must be one the document describes for its route and
// status, and a request the API accepted (2xx) must be one the document
// accepts. A route the document lacks is an error unless the API
// answered 404, as it does for paths it does not serve.
func checkOpenAPI(t testing.TB, method, path string, reqHeader http.Header, reqBody []byte, status int, respHeader http.Header, respBody []byte) {
	t.Helper()
	_, router := openAPIRouter(t)
	u, err := url.Parse(docServer + path)
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Method: method, URL: u, Header: reqHeader.Clone(), Host: u.Host,
		Body: io.NopCloser(bytes.NewReader(reqBody)), ContentLength: int64(len(reqBody))}
	if len(reqBody) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("OpenAPI: %s %s (answered %d) is not in the document: %v", method, path, status, err)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if status >= 200 && status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("OpenAPI: the API accepted %s %s (%d), which the document refuses: %v\nbody: %s", method, path, status, err, reqBody)
		}
	}
	ct := respHeader.Get("Content-Type")
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: respHeader,
		Body: io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			ExcludeResponseBody: !strings.HasPrefix(ct, "application/json")}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("OpenAPI: the answer to %s %s (%d) is not what the document describes: %v\nbody: %s", method, path, status, err, respBody)
	}
}

// TestOpenAPIDocumentCoversRoutes checks that the document describes
// every route the API serves, and nothing else, and that the API serves
// it at /openapi.yaml.
func TestOpenAPIDocumentCoversRoutes(t *testing.T) {
	t.Parallel()
	doc, _ := openAPIRouter(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	h := setup(t, func(o *options) { o.noWorker = true })
	var served []string
	for _, p := range h.API.Routes() {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			continue // a whole subtree, such as the /monitoring/ dashboard
		}
		served = append(served, method+" "+path)
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in the OpenAPI document", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in the OpenAPI document but not served", r)
		}
	}

	r := h.do("GET", "/openapi.yaml", "", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") || !bytes.Equal(r.Raw, api.OpenAPIDocument()) {
		t.Fatalf("GET /openapi.yaml = %d %s, %d bytes", r.Status, r.Header.Get("Content-Type"), len(r.Raw))
	}
}
