// Package einvoicetest judges the UBL documents invoiced writes with the
// official e-invoice validators, for tests of any package: the UBL 2.5
// schemas, run by xmllint, and the Schematron rules of EN 16931 and of
// each profile's CIUS compiled to XSLT, run by Saxon-HE. The validators
// are vendored in testdata/validators, whose README.md names their
// versions.
package einvoicetest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/invoiced/invoiced/invoice"
)

// EN16931 is the key of the EN 16931 rules in Result.Findings; a
// profile's own rules are under the profile's name, such as
// invoice.ProfilePeppol.
const EN16931 = "EN16931"

// SaxonJar is where Debian's libsaxonhe-java puts Saxon-HE.
const SaxonJar = "/usr/share/java/Saxon-HE.jar"

// The Schematron XSLTs.
const (
	xsltEN16931   = "EN16931-UBL-validation.xslt"
	xsltPeppol    = "PEPPOL-EN16931-UBL.xslt"
	xsltXRechnung = "XRechnung-UBL-validation.xslt"
	xsltCIUSRO    = "RO16931-rules.xslt"
)

// profileXSLT is each profile's own Schematron; en16931 has none beyond
// the EN 16931 rules every profile runs.
var profileXSLT = map[string]string{
	invoice.ProfileEN16931:   "",
	invoice.ProfilePeppol:    xsltPeppol,
	invoice.ProfileXRechnung: xsltXRechnung,
	invoice.ProfileCIUSRO:    xsltCIUSRO,
}

// Finding is one failed assert or successful report of a Schematron run.
type Finding struct {
	ID, Flag, Location, Text string
}

// Fatal reports whether f makes a document invalid: flag fatal, or error
// (as XRechnung marks some of its rules). Warnings and information do not.
func (f Finding) Fatal() bool { return f.Flag == "fatal" || f.Flag == "error" }

func (f Finding) String() string {
	return fmt.Sprintf("%s [%s] at %s: %s", f.ID, f.Flag, f.Location, f.Text)
}

// Result is what the validators found in one document.
type Result struct {
	// Schema holds the UBL schema's errors, as xmllint writes them.
	Schema []string
	// Findings holds the Schematron findings by validator: EN16931, and
	// the profile's own rules under its name (none for en16931). A
	// validator that found nothing has an empty entry.
	Findings map[string][]Finding
}

// Fatal returns the findings that make the document invalid, each
// prefixed by its validator, EN 16931 first.
func (r Result) Fatal() []string { return r.filter(true) }

// Warnings returns the findings that do not make the document invalid,
// each prefixed by its validator, EN 16931 first.
func (r Result) Warnings() []string { return r.filter(false) }

// Valid reports whether the document has no schema error and no fatal
// finding.
func (r Result) Valid() bool { return len(r.Schema) == 0 && len(r.Fatal()) == 0 }

func (r Result) filter(fatal bool) []string {
	validators := make([]string, 0, len(r.Findings))
	for v := range r.Findings {
		validators = append(validators, v)
	}
	sort.Slice(validators, func(i, j int) bool {
		return validators[i] == EN16931 || (validators[j] != EN16931 && validators[i] < validators[j])
	})
	var out []string
	for _, v := range validators {
		for _, f := range r.Findings[v] {
			if f.Fatal() == fatal {
				out = append(out, v+": "+f.String())
			}
		}
	}
	return out
}

// RequireTools skips the test when java, Saxon-HE or xmllint is missing,
// naming what is, or fails it with CI=true, where they must be installed.
func RequireTools(t testing.TB) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java (default-jre-headless)")
	}
	if _, err := os.Stat(SaxonJar); err != nil {
		missing = append(missing, SaxonJar+" (libsaxonhe-java)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		missing = append(missing, "xmllint (libxml2-utils)")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the official e-invoice validators need %s", strings.Join(missing, ", "))
	}
	t.Skipf("the official e-invoice validators need %s", strings.Join(missing, ", "))
}

// Validate judges docs, UBL Invoices and CreditNotes by file name, in
// profile: the UBL schema of each root, the EN 16931 rules, and the
// profile's own. Each validator runs once over all of docs. It returns a
// Result per name; t fails on a name that is not a plain file name
// (letters, digits, '.', '-', '_'), on an unknown profile, and when a
// validator cannot run. It skips or fails as RequireTools does without
// the tools.
func Validate(t testing.TB, profile string, docs map[string][]byte) map[string]Result {
	t.Helper()
	return ValidateProfiles(t, map[string]map[string][]byte{profile: docs})[profile]
}

// ValidateProfiles is Validate for documents of several profiles, by
// profile then file name: the schema and the EN 16931 rules run once
// over all of them, each profile's rules once over its own.
func ValidateProfiles(t testing.TB, docs map[string]map[string][]byte) map[string]map[string]Result {
	t.Helper()
	RequireTools(t)
	dir := Dir(t)
	all := t.TempDir()
	type doc struct{ profile, name, file string }
	var list []doc
	own := map[string]string{}    // profile → directory of its documents
	notXML := map[string]string{} // file → why it is not XML
	for profile, byName := range docs {
		xslt, ok := profileXSLT[profile]
		if !ok {
			t.Fatalf("einvoicetest: %q is not an e-invoice profile: use one of %s", profile, strings.Join(invoice.Profiles, ", "))
		}
		if xslt != "" {
			own[profile] = t.TempDir()
		}
		for name, b := range byName {
			if !plainName.MatchString(name) {
				t.Fatalf("einvoicetest: %q is not a plain file name", name)
			}
			if err := wellFormed(b); err != nil {
				// Saxon would stop at it, judging none of the others.
				notXML[profile+"--"+name] = "not well-formed XML: " + err.Error()
				continue
			}
			d := doc{profile, name, profile + "--" + name}
			if err := os.WriteFile(filepath.Join(all, d.file), b, 0o600); err != nil {
				t.Fatal(err)
			}
			if xslt != "" {
				if err := os.WriteFile(filepath.Join(own[profile], name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			list = append(list, d)
		}
	}
	out := map[string]map[string]Result{}
	for profile, byName := range docs {
		out[profile] = map[string]Result{}
		for name := range byName {
			if why, ok := notXML[profile+"--"+name]; ok {
				out[profile][name] = Result{Schema: []string{why}, Findings: map[string][]Finding{}}
			}
		}
	}
	if len(list) == 0 {
		return out
	}
	files := make([]string, len(list))
	for i, d := range list {
		files[i] = filepath.Join(all, d.file)
	}
	schema, err := runXSD(filepath.Join(dir, "ubl-xsd", "maindoc"), files)
	if err != nil {
		t.Fatal(err)
	}
	en, err := runSchematron(filepath.Join(dir, xsltEN16931), all, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	byProfile := map[string]map[string][]Finding{}
	for profile, d := range own {
		if byProfile[profile], err = runSchematron(filepath.Join(dir, profileXSLT[profile]), d, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range list {
		r := Result{Schema: schema[d.file], Findings: map[string][]Finding{EN16931: en[d.file]}}
		if fs, ok := byProfile[d.profile]; ok {
			r.Findings[d.profile] = fs[d.name]
		}
		out[d.profile][d.name] = r
	}
	return out
}

// wellFormed returns why b is not well-formed XML, or nil.
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	// Characters are the validators' to judge, not the structure's.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// plainName is a file name Validate accepts: one that xmllint's and
// Saxon's output quote unchanged.
var plainName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// Dir returns the directory of the vendored validators. It is found
// beside this package's source, else under the module root, the first
// directory holding go.mod upwards from the working directory, so the
// tests of any package of the module reach it.
func Dir(t testing.TB) string {
	t.Helper()
	const rel = "testdata/validators"
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Join(filepath.Dir(file), rel)
		if _, err := os.Stat(filepath.Join(d, xsltEN16931)); err == nil {
			return d
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "internal", "einvoicetest", rel)
		}
		if filepath.Dir(d) == d {
			t.Fatalf("einvoicetest: no go.mod above %s", wd)
		}
	}
}

// runSchematron runs the Schematron XSLT xslt over every file of dir in
// one Saxon run, writing the reports to out, and returns the findings per
// file name.
func runSchematron(xslt, dir, out string) (map[string][]Finding, error) {
	cmd := exec.Command("java", "-jar", SaxonJar, "-s:"+dir, "-o:"+out, "-xsl:"+xslt)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("saxon %s: %w\n%s", filepath.Base(xslt), err, stderr.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	results := map[string][]Finding{}
	if len(entries) == 0 {
		return results, nil
	}
	for _, e := range entries {
		svrl, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("saxon %s wrote no report for %s: %w", filepath.Base(xslt), e.Name(), err)
		}
		fs, err := parseSVRL(svrl)
		if err != nil {
			return nil, fmt.Errorf("%s report of %s: %w", filepath.Base(xslt), e.Name(), err)
		}
		results[e.Name()] = fs
	}
	return results, nil
}

// parseSVRL reads the failed asserts and successful reports of an SVRL
// document.
func parseSVRL(b []byte) ([]Finding, error) {
	const nsSVRL = "http://purl.oclc.org/dsdl/svrl"
	d := xml.NewDecoder(bytes.NewReader(b))
	var out []Finding
	var cur *Finding
	var inText bool
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if tk.Name.Space != nsSVRL {
				continue
			}
			switch tk.Name.Local {
			case "failed-assert", "successful-report":
				cur = &Finding{}
				for _, a := range tk.Attr {
					switch a.Name.Local {
					case "id":
						cur.ID = a.Value
					case "flag":
						cur.Flag = a.Value
					case "location":
						cur.Location = a.Value
					}
				}
			case "text":
				inText = cur != nil
			}
		case xml.CharData:
			if inText {
				cur.Text += string(tk)
			}
		case xml.EndElement:
			switch tk.Name.Local {
			case "text":
				inText = false
			case "failed-assert", "successful-report":
				if cur != nil {
					cur.Text = strings.Join(strings.Fields(cur.Text), " ")
					out = append(out, *cur)
					cur = nil
				}
			}
		}
	}
	return out, nil
}

// xmllintFile matches the lines xmllint writes about a place in one file.
var xmllintFile = regexp.MustCompile(`^(\S+?):\d+: `)

// runXSD validates files (paths) against the UBL schema of their root,
// found in maindoc, one xmllint run per schema, and returns the schema
// errors per file name. A file that is not well-formed has its parser
// errors among them. It fails when xmllint says nothing of a file.
func runXSD(maindoc string, files []string) (map[string][]string, error) {
	bySchema := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		schema := "UBL-Invoice-2.5.xsd"
		if bytes.Contains(b[:min(len(b), 300)], []byte("<CreditNote")) {
			schema = "UBL-CreditNote-2.5.xsd"
		}
		bySchema[schema] = append(bySchema[schema], f)
	}
	results := map[string][]string{}
	for schema, fs := range bySchema {
		cmd := exec.Command("xmllint", append([]string{"--noout", "--schema", filepath.Join(maindoc, schema)}, fs...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		verdicts := map[string]bool{} // file name → validates
		last := ""                    // the file the previous line was about
		for _, line := range strings.Split(stderr.String(), "\n") {
			switch {
			case line == "":
			case strings.HasSuffix(line, " validates"):
				verdicts[filepath.Base(strings.TrimSuffix(line, " validates"))] = true
			case strings.HasSuffix(line, " fails to validate"):
				verdicts[filepath.Base(strings.TrimSuffix(line, " fails to validate"))] = false
			default:
				if m := xmllintFile.FindStringSubmatch(line); m != nil {
					last = filepath.Base(m[1])
				} else if last == "" {
					return nil, fmt.Errorf("xmllint %s: %s\n%s", schema, line, stderr.String())
				}
				// A parser error's quoted source line and caret follow
				// it: they belong to the same file.
				results[last] = append(results[last], line)
			}
		}
		for _, f := range fs {
			if _, ok := verdicts[filepath.Base(f)]; !ok && len(results[filepath.Base(f)]) == 0 {
				return nil, fmt.Errorf("xmllint %s says nothing of %s (%v)\n%s", schema, filepath.Base(f), err, stderr.String())
			}
		}
	}
	return results, nil
}
