package deploy

import (
	"bufio"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type composeService struct {
	Image string
	Build *struct {
		Context    string
		Dockerfile string
	}
	Command     []string
	Environment map[string]string
	EnvFile     string `yaml:"env_file"`
	Ports       []string
	Volumes     []string
	Deploy      struct{ Replicas *int }
	Healthcheck *struct{ Test []string }
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	StopGrace   string                                `yaml:"stop_grace_period"`
	ReadOnly    bool                                  `yaml:"read_only"`
	CapDrop     []string                              `yaml:"cap_drop"`
	Profiles    []string
}

// mounts reports whether the service mounts a volume at target, writable.
func (s composeService) mounts(target string) bool {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target && (len(parts) == 2 || parts[2] != "ro") {
			return true
		}
	}
	return false
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	docs := decodeYAML(t, "compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("compose.yaml has %d documents", len(docs))
	}
	var f struct{ Services map[string]composeService }
	if err := docs[0].Decode(&f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return f.Services
}

// redisArgs reads redis-server's --name value pairs.
func redisArgs(cmd []string) map[string]string {
	args := map[string]string{}
	for i := 0; i+1 < len(cmd); i++ {
		if name, ok := strings.CutPrefix(cmd[i], "--"); ok {
			args[name] = cmd[i+1]
		}
	}
	return args
}

func TestCompose(t *testing.T) {
	t.Parallel()
	services := loadCompose(t)
	known := configVars(t)
	bin := entrypoint(t)
	outboxDir := imageEnv(t)["INVOICED_OUTBOX_DIR"]

	redis, ok := services["redis"]
	if !ok {
		t.Fatal("no redis service")
	}
	args := redisArgs(redis.Command)
	for name, want := range map[string]string{"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction"} {
		if args[name] != want {
			t.Errorf("redis-server --%s is %q, want %q", name, args[name], want)
		}
	}
	if !redis.mounts("/data") {
		t.Error("redis keeps its AOF in /data, and no volume is mounted there")
	}
	if redis.Healthcheck == nil {
		t.Error("redis has no healthcheck for the roles to wait on")
	}

	for _, tt := range []struct {
		role     string
		replicas int
		health   string // the address the healthcheck must ask; empty: none
	}{
		{"api", 1, ":8080"},
		{"worker", 3, ""},
		{"scheduler", 1, ""},
	} {
		t.Run(tt.role, func(t *testing.T) {
			s, ok := services[tt.role]
			if !ok {
				t.Fatalf("no %s service", tt.role)
			}
			if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" {
				t.Error("the image is not built from deploy/Dockerfile")
			} else if _, err := os.Stat(filepath.Join(s.Build.Context, "go.mod")); err != nil {
				t.Errorf("build context %q is not the repository root", s.Build.Context)
			}
			if !slices.Equal(s.Command, []string{tt.role}) {
				t.Errorf("command %q, want [%s]", s.Command, tt.role)
			}
			replicas := 1
			if s.Deploy.Replicas != nil {
				replicas = *s.Deploy.Replicas
			}
			if replicas != tt.replicas {
				t.Errorf("%d replicas, want %d", replicas, tt.replicas)
			}
			if s.DependsOn["redis"].Condition != "service_healthy" {
				t.Error("does not wait for a healthy redis")
			}
			if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
				t.Error("want read_only: true and cap_drop: [ALL]")
			}

			env := map[string]string{}
			if s.EnvFile != "" {
				env = readEnvFile(t, s.EnvFile+".example")
			}
			for k, v := range s.Environment {
				env[k] = v
			}
			for k := range env {
				checkVar(t, known, "compose service "+tt.role, k, false)
			}
			for _, v := range []string{"INVOICED_SECRET_KEY", "INVOICED_ADMIN_TOKEN"} {
				if _, ok := s.Environment[v]; ok {
					t.Errorf("%s is written into compose.yaml; it belongs in the env file", v)
				}
				if _, ok := env[v]; !ok {
					t.Errorf("%s comes from neither the environment nor %s.example", v, s.EnvFile)
				}
			}
			// A 202 promises a send that survives a power loss: the roles
			// refuse a Redis that could lose it.
			if env["INVOICED_REDIS_REQUIRE_FSYNC"] != "true" {
				t.Errorf("INVOICED_REDIS_REQUIRE_FSYNC=%q, want true", env["INVOICED_REDIS_REQUIRE_FSYNC"])
			}
			if u, err := url.Parse(env["INVOICED_REDIS_URL"]); err != nil || u.Hostname() != "redis" {
				t.Errorf("INVOICED_REDIS_URL=%q does not reach the redis service", env["INVOICED_REDIS_URL"])
			}

			shutdown := defaultShutdownTimeout(t)
			if v := env["INVOICED_SHUTDOWN_TIMEOUT"]; v != "" {
				shutdown, _ = time.ParseDuration(v)
			}
			if g, err := time.ParseDuration(s.StopGrace); err != nil || g <= shutdown {
				t.Errorf("stop_grace_period %q must be over INVOICED_SHUTDOWN_TIMEOUT %s (Docker's default is 10s)", s.StopGrace, shutdown)
			}

			health := tt.health
			if tt.role == "worker" {
				health = env["INVOICED_METRICS_ADDR"]
			}
			if health == "" {
				return
			}
			hc := s.Healthcheck
			if hc == nil || len(hc.Test) != 4 || hc.Test[0] != "CMD" || hc.Test[1] != bin || hc.Test[2] != "healthcheck" {
				t.Fatalf("healthcheck %v, want [CMD %s healthcheck URL]: the image has no shell or curl", hc, bin)
			}
			u, err := url.Parse(hc.Test[3])
			if err != nil || u.Port() != strings.TrimPrefix(health, ":") || (u.Path != "/healthz" && u.Path != "/readyz") {
				t.Errorf("healthcheck asks %s; want /healthz or /readyz on the role's listener %s", hc.Test[3], health)
			}
		})
	}

	if w := services["worker"]; !w.mounts(outboxDir) {
		t.Errorf("the workers' root filesystem is read-only and no volume is mounted at their outbox %q", outboxDir)
	}
	if api := services["api"]; !slices.ContainsFunc(api.Ports, func(p string) bool { return strings.HasSuffix(p, ":8080") }) {
		t.Errorf("the api publishes %v, not its port 8080", api.Ports)
	}

	mon, ok := services["asynqmon"]
	if !ok {
		t.Fatal("no asynqmon service")
	}
	if !slices.Equal(mon.Profiles, []string{"monitoring"}) {
		t.Errorf("asynqmon profiles %v, want [monitoring] so it runs only when asked", mon.Profiles)
	}
	if !strings.HasPrefix(mon.Image, "hibiken/asynqmon:") {
		t.Errorf("asynqmon image %q, want a pinned hibiken/asynqmon", mon.Image)
	}
	if !slices.Contains(mon.Command, "--redis-url="+services["api"].Environment["INVOICED_REDIS_URL"]) {
		t.Errorf("asynqmon %v does not watch the Redis the roles use", mon.Command)
	}
	for _, p := range mon.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("asynqmon, which has no login, is published on %s beyond the host's loopback", p)
		}
	}
}

// readEnvFile reads KEY=value lines, skipping comments.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not KEY=value", path, line)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestEnvExample checks that the env file example holds no secret values.
func TestEnvExample(t *testing.T) {
	t.Parallel()
	known := configVars(t)
	env := readEnvFile(t, ".env.example")
	for k, v := range env {
		checkVar(t, known, ".env.example", k, false)
		if (k == "INVOICED_SECRET_KEY" || k == "INVOICED_ADMIN_TOKEN" || k == "INVOICED_DEFAULT_SMTP_URL") && !isPlaceholder(v) {
			t.Errorf(".env.example gives %s a value; leave secrets empty", k)
		}
	}
	if _, ok := env["INVOICED_SECRET_KEY"]; !ok {
		t.Error(".env.example lacks INVOICED_SECRET_KEY, which every role requires")
	}
}
