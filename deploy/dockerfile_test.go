package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
}

type stage struct {
	from, name string
	body       []instruction
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// env is the stage's ENV instructions as a map (KEY=value forms).
func (s stage) env() map[string]string {
	env := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}

// parseDockerfile reads deploy/Dockerfile into stages, joining continued
// lines and dropping comments as Docker does.
func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{from: f[len(f)-1]}
			if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				s = stage{from: f[len(f)-3], name: f[len(f)-1]}
			}
			stages = append(stages, s)
			return
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", in.cmd)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if l, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

// imageEnv is the ENV of the image's final stage.
func imageEnv(t *testing.T) map[string]string {
	t.Helper()
	stages := parseDockerfile(t)
	return stages[len(stages)-1].env()
}

// entrypoint is the path of the binary the image runs.
func entrypoint(t *testing.T) string {
	t.Helper()
	stages := parseDockerfile(t)
	eps := stages[len(stages)-1].all("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("the final stage has %d ENTRYPOINTs, want 1", len(eps))
	}
	var argv []string
	if err := json.Unmarshal([]byte(eps[0]), &argv); err != nil || len(argv) != 1 {
		t.Fatalf("ENTRYPOINT %s: want the exec form with the binary alone, the role coming as the argument", eps[0])
	}
	return argv[0]
}

// goVersion is the toolchain go.mod asks for.
func goVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^toolchain go(\S+)`).FindSubmatch(b); m != nil {
		return string(m[1])
	}
	m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("%d stages; want a build stage and a separate final stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	want := goVersion(t)
	ref, _, _ := strings.Cut(build.from, "@") // a digest may pin the tag
	repo, tag, _ := strings.Cut(ref, ":")
	if repo != "golang" || (tag != want && !strings.HasPrefix(tag, want+"-")) {
		t.Errorf("build stage FROM %s, want golang:%s (go.mod's version)", build.from, want)
	}
	var goBuild string
	for _, s := range stages[:len(stages)-1] {
		for _, run := range s.all("RUN") {
			if strings.Contains(run, "go build") {
				goBuild = run
				if s.env()["CGO_ENABLED"] == "0" {
					goBuild += " CGO_ENABLED=0"
				}
			}
		}
	}
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "./cmd/invoiced"} {
		if !strings.Contains(goBuild, flag) {
			t.Errorf("the go build step lacks %s: %q", flag, goBuild)
		}
	}

	// The final stage: a base with CA certificates, the binary, a non-root user.
	switch {
	case strings.HasPrefix(final.from, "gcr.io/distroless/static"), strings.HasPrefix(final.from, "gcr.io/distroless/base"):
	case final.from == "scratch":
		certs := false
		for _, c := range final.all("COPY") {
			certs = certs || strings.Contains(c, "ca-certificates.crt")
		}
		if !certs {
			t.Error("FROM scratch without CA certificates copied in: TLS to SMTP, SES, Twilio and Stripe would fail")
		}
	default:
		t.Errorf("final stage FROM %s; want distroless static or scratch", final.from)
	}
	if runs := final.all("RUN"); len(runs) > 0 {
		t.Errorf("the final stage runs %q; it should only copy the binary in", runs)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Fatal("the final stage sets no USER")
	}
	uid, _, _ := strings.Cut(users[len(users)-1], ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %s: want a numeric non-root uid, which Kubernetes' runAsNonRoot can verify", users[len(users)-1])
	}
	bin := entrypoint(t)
	copied := false
	for _, c := range final.all("COPY") {
		f := strings.Fields(c)
		copied = copied || (strings.HasPrefix(c, "--from=") && f[len(f)-1] == bin)
	}
	if !copied {
		t.Errorf("the final stage does not copy a built binary to the ENTRYPOINT %s", bin)
	}
	known := configVars(t)
	for k := range final.env() {
		checkVar(t, known, "the Dockerfile", k, false)
	}
}
