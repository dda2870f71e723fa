package ubl

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The official validators, vendored in testdata/validators (see its
// README.md): the UBL 2.5 schemas, run by xmllint, and the Schematron
// rules of EN 16931 and of each CIUS compiled to XSLT, run by Saxon-HE.

// validatorDir holds the vendored validators.
const validatorDir = "testdata/validators"

// saxonJar is where Debian's libsaxonhe-java puts Saxon-HE.
const saxonJar = "/usr/share/java/Saxon-HE.jar"

// The Schematron XSLTs, by what they check.
const (
	xsltEN16931  = "EN16931-UBL-validation.xslt"
	xsltPeppol   = "PEPPOL-EN16931-UBL.xslt"
	xsltXRechung = "XRechnung-UBL-validation.xslt"
	xsltCIUSRO   = "RO16931-rules.xslt"
)

// finding is one failed assert or successful report of a Schematron run.
type finding struct {
	ID, Flag, Location, Text string
}

// fatal reports whether f makes a document invalid: flag fatal, or error
// (as XRechnung marks some of its rules).
func (f finding) fatal() bool { return f.Flag == "fatal" || f.Flag == "error" }

func (f finding) String() string {
	return fmt.Sprintf("%s [%s] at %s: %s", f.ID, f.Flag, f.Location, f.Text)
}

// needTools skips the test when java, Saxon-HE or xmllint is missing,
// naming the tool, or fails it with CI=true, where they must be installed.
func needTools(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java (default-jre-headless)")
	}
	if _, err := os.Stat(saxonJar); err != nil {
		missing = append(missing, saxonJar+" (libsaxonhe-java)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		missing = append(missing, "xmllint (libxml2-utils)")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the official validators need %s", strings.Join(missing, ", "))
	}
	t.Skipf("the official validators need %s", strings.Join(missing, ", "))
}

// runSchematron runs the Schematron XSLT xslt over every file of dir in one
// Saxon run and returns the findings per file name.
func runSchematron(t *testing.T, xslt, dir string) map[string][]finding {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("java", "-jar", saxonJar, "-s:"+dir, "-o:"+out, "-xsl:"+filepath.Join(validatorDir, xslt))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("saxon %s: %v\n%s", xslt, err, stderr.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string][]finding{}
	for _, e := range entries {
		svrl, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatalf("saxon %s wrote no report for %s: %v", xslt, e.Name(), err)
		}
		fs, err := parseSVRL(svrl)
		if err != nil {
			t.Fatalf("%s report of %s: %v", xslt, e.Name(), err)
		}
		results[e.Name()] = fs
	}
	return results
}

// parseSVRL reads the failed asserts and successful reports of an SVRL
// document.
func parseSVRL(b []byte) ([]finding, error) {
	const nsSVRL = "http://purl.oclc.org/dsdl/svrl"
	d := xml.NewDecoder(bytes.NewReader(b))
	var out []finding
	var cur *finding
	var inText bool
	for {
		tok, err := d.Token()
		if err == io.EOF {
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
				cur = &finding{}
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

// xmllintFile matches the lines xmllint writes about one file.
var xmllintFile = regexp.MustCompile(`^(\S+?):\d+: `)

// runXSD validates files (paths) against the UBL 2.5 schema of their root,
// one xmllint run per schema, and returns the schema errors per file name.
func runXSD(t *testing.T, files []string) map[string][]string {
	t.Helper()
	bySchema := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		schema := "UBL-Invoice-2.5.xsd"
		if bytes.Contains(b[:min(len(b), 300)], []byte("<CreditNote")) {
			schema = "UBL-CreditNote-2.5.xsd"
		}
		bySchema[schema] = append(bySchema[schema], f)
	}
	results := map[string][]string{}
	for schema, fs := range bySchema {
		args := append([]string{"--noout", "--schema", filepath.Join(validatorDir, "ubl-xsd", "maindoc", schema)}, fs...)
		cmd := exec.Command("xmllint", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		valid := 0
		for _, line := range strings.Split(stderr.String(), "\n") {
			switch {
			case strings.HasSuffix(line, " validates"):
				valid++
			case strings.HasSuffix(line, " fails to validate"), line == "":
			default:
				m := xmllintFile.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("xmllint %s: %s", schema, line)
				}
				name := filepath.Base(m[1])
				results[name] = append(results[name], line)
			}
		}
		if err != nil && len(results) == 0 {
			t.Fatalf("xmllint %s: %v\n%s", schema, err, stderr.String())
		}
		if valid+len(results) < len(fs) && len(results) == 0 {
			t.Fatalf("xmllint %s: %d of %d files reported\n%s", schema, valid, len(fs), stderr.String())
		}
	}
	return results
}

// TestParseSVRL holds the SVRL reading to a report of each kind.
func TestParseSVRL(t *testing.T) {
	t.Parallel()
	svrl := `<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
		<svrl:fired-rule context="/"/>
		<svrl:failed-assert test="x" id="BR-01" flag="fatal" location="/Invoice"><svrl:text>[BR-01]-An
		Invoice shall have a Specification identifier.</svrl:text></svrl:failed-assert>
		<svrl:successful-report test="y" id="BR-DE-TMP-32" flag="information" location="/Invoice"><svrl:text>period</svrl:text></svrl:successful-report>
		<svrl:failed-assert test="z" id="BR-DE-1" flag="error" location="/Invoice"><svrl:text>payment</svrl:text></svrl:failed-assert>
		<svrl:failed-assert test="w" id="PEPPOL-EN16931-R002" flag="warning" location="/Invoice"><svrl:text>notes</svrl:text></svrl:failed-assert>
	</svrl:schematron-output>`
	got, err := parseSVRL([]byte(svrl))
	if err != nil {
		t.Fatal(err)
	}
	want := []finding{
		{"BR-01", "fatal", "/Invoice", "[BR-01]-An Invoice shall have a Specification identifier."},
		{"BR-DE-TMP-32", "information", "/Invoice", "period"},
		{"BR-DE-1", "error", "/Invoice", "payment"},
		{"PEPPOL-EN16931-R002", "warning", "/Invoice", "notes"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseSVRL =\n%v\nwant\n%v", got, want)
	}
	var fatal []string
	for _, f := range got {
		if f.fatal() {
			fatal = append(fatal, f.ID)
		}
	}
	if strings.Join(fatal, " ") != "BR-01 BR-DE-1" {
		t.Errorf("fatal findings = %v, want BR-01 BR-DE-1", fatal)
	}
}
