package deploy

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"go.yaml.in/yaml/v3"
)

type objectMeta struct {
	Name   string
	Labels map[string]string
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// matches reports whether the selector picks pods labeled labels.
func (s labelSelector) matches(labels map[string]string) bool {
	if len(s.MatchLabels) == 0 {
		return false
	}
	for k, v := range s.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

type probe struct {
	HTTPGet *struct {
		Path string
		Port string
	} `yaml:"httpGet"`
	TCPSocket *struct{ Port string } `yaml:"tcpSocket"`
	Exec      *struct{ Command []string }
}

type container struct {
	Name  string
	Image string
	Args  []string
	Ports []struct {
		Name          string
		ContainerPort int `yaml:"containerPort"`
	}
	EnvFrom []struct {
		ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
		SecretRef    *struct{ Name string } `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name  string
		Value string
	}
	Resources struct {
		Requests map[string]string
		Limits   map[string]string
	}
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Lifecycle      struct {
		PreStop struct {
			Sleep struct{ Seconds int }
		} `yaml:"preStop"`
	}
	VolumeMounts []struct {
		Name      string
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
	SecurityContext struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct{ Drop []string }
	} `yaml:"securityContext"`
}

// env returns the value the container gives name, through env or the
// ConfigMaps it loads, and whether it sets it at all.
func (c container) env(m *manifests, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			if v, ok := m.configMaps[ef.ConfigMapRef.Name][name]; ok {
				return v, true
			}
		}
	}
	return "", false
}

func (c container) port(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

type deployment struct {
	Metadata objectMeta
	Spec     struct {
		Replicas *int
		Selector labelSelector
		Template struct {
			Metadata objectMeta
			Spec     struct {
				TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot *bool  `yaml:"runAsNonRoot"`
					RunAsUser    *int64 `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []container
				Volumes    []struct {
					Name     string
					EmptyDir *struct{} `yaml:"emptyDir"`
				}
			}
		}
	}
}

type service struct {
	Spec struct {
		Selector map[string]string
		Ports    []struct {
			Port       int
			TargetPort string `yaml:"targetPort"`
		}
	}
}

type disruptionBudget struct {
	Spec struct {
		Selector       labelSelector
		MinAvailable   string `yaml:"minAvailable"`
		MaxUnavailable string `yaml:"maxUnavailable"`
	}
}

type autoscaler struct {
	APIVersion string `yaml:"apiVersion"`
	Spec       struct {
		ScaleTargetRef struct {
			Kind string
			Name string
		} `yaml:"scaleTargetRef"`
		MinReplicas int `yaml:"minReplicas"`
		MaxReplicas int `yaml:"maxReplicas"`
		Metrics     []struct {
			Type     string
			Resource struct {
				Name   string
				Target struct {
					Type               string
					AverageUtilization int `yaml:"averageUtilization"`
				}
			}
		}
	}
}

// manifests is everything kustomization.yaml lists, by kind and name.
type manifests struct {
	images      []string // the image names kustomization.yaml rewrites
	deployments map[string]deployment
	configMaps  map[string]map[string]string
	secrets     map[string]map[string]string
	services    map[string]service
	pdbs        map[string]disruptionBudget
	hpas        map[string]autoscaler
}

// loadManifests reads k8s/kustomization.yaml and every file it lists, and
// checks that it lists every manifest in the folder.
func loadManifests(t *testing.T) *manifests {
	t.Helper()
	var kust struct {
		Resources []string
		Images    []struct {
			Name string
		}
	}
	docs := decodeYAML(t, "k8s/kustomization.yaml")
	if len(docs) != 1 {
		t.Fatalf("k8s/kustomization.yaml has %d documents", len(docs))
	}
	if err := docs[0].Decode(&kust); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("k8s/*.yaml")
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(kust.Resources, base) {
			t.Errorf("k8s/kustomization.yaml does not list %s", base)
		}
	}
	m := &manifests{
		deployments: map[string]deployment{}, configMaps: map[string]map[string]string{},
		secrets: map[string]map[string]string{}, services: map[string]service{},
		pdbs: map[string]disruptionBudget{}, hpas: map[string]autoscaler{},
	}
	for _, img := range kust.Images {
		m.images = append(m.images, img.Name)
	}
	for _, name := range kust.Resources {
		path := filepath.Join("k8s", name)
		for _, doc := range decodeYAML(t, path) {
			var head struct {
				Kind     string
				Metadata objectMeta
			}
			if err := doc.Decode(&head); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if head.Metadata.Name == "" {
				t.Fatalf("%s: a %s without a name", path, head.Kind)
			}
			var err error
			switch head.Kind {
			case "Deployment":
				err = decodeInto(doc, head.Metadata.Name, m.deployments)
			case "ConfigMap":
				var cm struct{ Data map[string]string }
				err = doc.Decode(&cm)
				m.configMaps[head.Metadata.Name] = cm.Data
			case "Secret":
				var s struct {
					StringData map[string]string `yaml:"stringData"`
					Data       map[string]string
				}
				err = doc.Decode(&s)
				data := map[string]string{}
				for k, v := range s.Data {
					data[k] = v // base64, so never an obvious placeholder unless empty
				}
				for k, v := range s.StringData {
					data[k] = v
				}
				m.secrets[head.Metadata.Name] = data
			case "Service":
				err = decodeInto(doc, head.Metadata.Name, m.services)
			case "PodDisruptionBudget":
				err = decodeInto(doc, head.Metadata.Name, m.pdbs)
			case "HorizontalPodAutoscaler":
				err = decodeInto(doc, head.Metadata.Name, m.hpas)
			default:
				t.Errorf("%s: unexpected kind %s", path, head.Kind)
			}
			if err != nil {
				t.Fatalf("%s: %s %s: %v", path, head.Kind, head.Metadata.Name, err)
			}
		}
	}
	return m
}

// decodeInto decodes doc into into[name].
func decodeInto[T any](doc *yaml.Node, name string, into map[string]T) error {
	var v T
	if err := doc.Decode(&v); err != nil {
		return err
	}
	into[name] = v
	return nil
}

// roles are the Deployments and what each must have: the role argument,
// the container port its probes ask, and the variable that sets it.
var roles = []struct {
	deployment, role, probePort, portVar string
}{
	{"invoiced-api", "api", "http", "INVOICED_ADDR"},
	{"invoiced-worker", "worker", "metrics", "INVOICED_METRICS_ADDR"},
	{"invoiced-scheduler", "scheduler", "metrics", "INVOICED_METRICS_ADDR"},
}

func TestDeployments(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	known := configVars(t)
	outboxDir := imageEnv(t)["INVOICED_OUTBOX_DIR"]
	if len(m.deployments) != len(roles) {
		t.Errorf("%d Deployments (%v), want one per role", len(m.deployments), keys(m.deployments))
	}
	for _, r := range roles {
		t.Run(r.role, func(t *testing.T) {
			t.Parallel()
			d, ok := m.deployments[r.deployment]
			if !ok {
				t.Fatalf("no Deployment %s", r.deployment)
			}
			pod := d.Spec.Template.Spec
			if !d.Spec.Selector.matches(d.Spec.Template.Metadata.Labels) {
				t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels)
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]
			if !slices.Contains(m.images, c.Image) {
				t.Errorf("image %q is not one kustomization.yaml sets (%v)", c.Image, m.images)
			}
			if !slices.Equal(c.Args, []string{r.role}) {
				t.Errorf("args %q, want [%s]", c.Args, r.role)
			}

			// Non-root, read-only, no capabilities.
			if sc := pod.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
				t.Error("the pod must set runAsNonRoot: true and a non-zero runAsUser")
			}
			sc := c.SecurityContext
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("readOnlyRootFilesystem must be true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("allowPrivilegeEscalation must be false")
			}
			if !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("capabilities drop %v, want ALL", sc.Capabilities.Drop)
			}

			// Resources: requests within limits; the runtime's soft limit under the hard one.
			for _, res := range []string{"cpu", "memory"} {
				req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
				if req == "" || lim == "" {
					t.Errorf("%s request %q and limit %q must both be set", res, req, lim)
					continue
				}
				if quantity(t, req) > quantity(t, lim) {
					t.Errorf("%s request %s is above its limit %s", res, req, lim)
				}
			}
			if v, ok := c.env(m, "GOMEMLIMIT"); ok && c.Resources.Limits["memory"] != "" {
				if goMemLimit(t, v) >= quantity(t, c.Resources.Limits["memory"]) {
					t.Errorf("GOMEMLIMIT %s is not below the memory limit %s", v, c.Resources.Limits["memory"])
				}
			}

			// Every variable is one invoiced reads, from a ConfigMap and Secret that exist.
			for _, e := range c.Env {
				checkVar(t, known, r.deployment, e.Name, true)
			}
			for _, ef := range c.EnvFrom {
				switch {
				case ef.ConfigMapRef != nil:
					if _, ok := m.configMaps[ef.ConfigMapRef.Name]; !ok {
						t.Errorf("envFrom names ConfigMap %s, which the manifests do not have", ef.ConfigMapRef.Name)
					}
				case ef.SecretRef != nil:
					if _, ok := m.secrets[ef.SecretRef.Name]; !ok {
						t.Errorf("envFrom names Secret %s, which the manifests do not have", ef.SecretRef.Name)
					}
				}
			}
			if _, ok := c.env(m, "INVOICED_REDIS_URL"); !ok {
				t.Error("INVOICED_REDIS_URL is not set")
			}

			// SIGTERM gets its full INVOICED_SHUTDOWN_TIMEOUT after the preStop hook.
			shutdown := defaultShutdownTimeout(t)
			if v, ok := c.env(m, "INVOICED_SHUTDOWN_TIMEOUT"); ok {
				var err error
				if shutdown, err = time.ParseDuration(v); err != nil {
					t.Fatalf("INVOICED_SHUTDOWN_TIMEOUT=%q: %v", v, err)
				}
			}
			need := shutdown + time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second
			if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= need {
				t.Errorf("terminationGracePeriodSeconds must be over %s (preStop %ds + INVOICED_SHUTDOWN_TIMEOUT %s)",
					need, c.Lifecycle.PreStop.Sleep.Seconds, shutdown)
			}

			// Probes ask the role's own listener.
			if r.probePort == "" {
				if c.LivenessProbe != nil || c.ReadinessProbe != nil {
					t.Errorf("%s serves no HTTP, yet has probes", r.role)
				}
			} else {
				for _, p := range []struct {
					name, path string
					probe      *probe
				}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
					if p.probe == nil || p.probe.HTTPGet == nil {
						t.Errorf("no HTTP %s probe", p.name)
						continue
					}
					if g := p.probe.HTTPGet; g.Path != p.path || g.Port != r.probePort {
						t.Errorf("%s probe asks %s on port %q, want %s on %q", p.name, g.Path, g.Port, p.path, r.probePort)
					}
				}
				port := c.port(r.probePort)
				if port == 0 {
					t.Fatalf("no container port named %q", r.probePort)
				}
				addr, ok := c.env(m, r.portVar)
				if !ok && r.portVar == "INVOICED_ADDR" {
					addr, ok = ":8080", true // the README's default
				}
				if !ok {
					t.Errorf("%s is not set, so nothing listens on port %s", r.portVar, r.probePort)
				} else if got := listenPort(t, addr); got != port {
					t.Errorf("%s=%q listens on %d, but port %q is %d", r.portVar, addr, got, r.probePort, port)
				}
			}

			// The worker creates its outbox folder at start, so it must be writable.
			if r.role == "worker" {
				dir := outboxDir
				if v, ok := c.env(m, "INVOICED_OUTBOX_DIR"); ok {
					dir = v
				}
				writable := false
				for _, vm := range c.VolumeMounts {
					if vm.MountPath == dir && !vm.ReadOnly {
						writable = true
					}
				}
				if dir == "" || !writable {
					t.Errorf("the root filesystem is read-only and no writable volume is mounted at the outbox folder %q", dir)
				}
			}
		})
	}
}

// TestScaling checks the Service, the disruption budgets and the autoscaler
// against the Deployments they are meant for.
func TestScaling(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	selected := func(sel labelSelector) []string {
		var names []string
		for name, d := range m.deployments {
			if sel.matches(d.Spec.Template.Metadata.Labels) {
				names = append(names, name)
			}
		}
		return names
	}

	api := m.deployments["invoiced-api"]
	svc, ok := m.services["invoiced-api"]
	if !ok {
		t.Error("no Service invoiced-api")
	}
	if got := selected(labelSelector{MatchLabels: svc.Spec.Selector}); !slices.Equal(got, []string{"invoiced-api"}) {
		t.Errorf("Service invoiced-api selects %v, want the api only", got)
	}
	for _, p := range svc.Spec.Ports {
		if len(api.Spec.Template.Spec.Containers) > 0 && api.Spec.Template.Spec.Containers[0].port(p.TargetPort) == 0 {
			t.Errorf("Service port %d targets %q, which is no named port of the api", p.Port, p.TargetPort)
		}
	}

	covered := map[string]bool{}
	for name, pdb := range m.pdbs {
		got := selected(pdb.Spec.Selector)
		if len(got) != 1 {
			t.Errorf("PodDisruptionBudget %s selects %v, want exactly one Deployment", name, got)
			continue
		}
		if (pdb.Spec.MinAvailable == "") == (pdb.Spec.MaxUnavailable == "") {
			t.Errorf("PodDisruptionBudget %s must set exactly one of minAvailable and maxUnavailable", name)
		}
		covered[got[0]] = true
	}
	for _, d := range []string{"invoiced-api", "invoiced-worker"} {
		if !covered[d] {
			t.Errorf("no PodDisruptionBudget covers %s", d)
		}
	}

	hpa, ok := m.hpas["invoiced-worker"]
	if !ok {
		t.Fatal("no HorizontalPodAutoscaler invoiced-worker")
	}
	if hpa.APIVersion != "autoscaling/v2" {
		t.Errorf("the autoscaler is %s, want autoscaling/v2", hpa.APIVersion)
	}
	ref := hpa.Spec.ScaleTargetRef
	target, ok := m.deployments[ref.Name]
	if ref.Kind != "Deployment" || !ok || ref.Name != "invoiced-worker" {
		t.Fatalf("the autoscaler scales %s %s, want Deployment invoiced-worker", ref.Kind, ref.Name)
	}
	if hpa.Spec.MinReplicas < 3 || hpa.Spec.MaxReplicas < hpa.Spec.MinReplicas {
		t.Errorf("autoscaler range %d..%d, want at least 3 workers", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	cpu := false
	for _, mt := range hpa.Spec.Metrics {
		if mt.Type == "Resource" && mt.Resource.Name == "cpu" && mt.Resource.Target.Type == "Utilization" &&
			mt.Resource.Target.AverageUtilization > 0 && mt.Resource.Target.AverageUtilization <= 100 {
			cpu = true
		}
	}
	if !cpu {
		t.Error("the autoscaler has no CPU utilization target")
	}
	if target.Spec.Replicas != nil {
		t.Error("invoiced-worker sets replicas, which every apply would reset under the autoscaler")
	}
	for _, c := range target.Spec.Template.Spec.Containers {
		if c.Resources.Requests["cpu"] == "" {
			t.Error("the autoscaler measures CPU against requests, and the worker requests none")
		}
	}
}

// TestConfigAndSecret checks the variables the ConfigMap and Secret set,
// that the Secret holds placeholders only, and that Redis is reached
// through Sentinel.
func TestConfigAndSecret(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	known := configVars(t)
	secretVars := []string{"INVOICED_SECRET_KEY", "INVOICED_ADMIN_TOKEN", "INVOICED_DEFAULT_SMTP_URL"}
	for name, data := range m.configMaps {
		for k := range data {
			checkVar(t, known, "ConfigMap "+name, k, false)
			if slices.Contains(secretVars, k) {
				t.Errorf("ConfigMap %s holds %s, which belongs in a Secret", name, k)
			}
		}
	}
	if len(m.secrets) == 0 {
		t.Fatal("no example Secret")
	}
	for name, data := range m.secrets {
		for k, v := range data {
			checkVar(t, known, "Secret "+name, k, false)
			if !isPlaceholder(v) {
				t.Errorf("Secret %s: %s is not an obvious placeholder (empty or REPLACE_ME…)", name, k)
			}
		}
		if v, ok := data["INVOICED_SECRET_KEY"]; !ok {
			t.Errorf("Secret %s lacks INVOICED_SECRET_KEY, which every role requires", name)
		} else if parseKeyLike(v) {
			t.Errorf("Secret %s: the placeholder INVOICED_SECRET_KEY is a valid key; a deployment that forgot it would run with it", name)
		}
	}

	// The Sentinels' Redis is the operator's: every role refuses one that
	// could lose an acknowledged send in a machine crash.
	if v := m.configMaps["invoiced-config"]["INVOICED_REDIS_REQUIRE_FSYNC"]; v != "true" {
		t.Errorf("INVOICED_REDIS_REQUIRE_FSYNC=%q, want true", v)
	}
	url := m.configMaps["invoiced-config"]["INVOICED_REDIS_URL"]
	if !strings.HasPrefix(url, "redis-sentinel://") {
		t.Fatalf("INVOICED_REDIS_URL=%q, want a redis-sentinel:// URL", url)
	}
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		t.Fatalf("INVOICED_REDIS_URL: %v", err)
	}
	fo, ok := opt.(asynq.RedisFailoverClientOpt)
	if !ok {
		t.Fatalf("INVOICED_REDIS_URL parses to %T, want Sentinel failover options", opt)
	}
	if fo.MasterName == "" || len(fo.SentinelAddrs) < 3 {
		t.Errorf("Sentinel URL names master %q and %d Sentinels; want a master and at least 3 Sentinels", fo.MasterName, len(fo.SentinelAddrs))
	}
	for _, a := range fo.SentinelAddrs {
		if listenPort(t, a) == 0 {
			t.Errorf("Sentinel address %q has no port", a)
		}
	}
	if fo.SentinelPassword != "" {
		t.Error("the ConfigMap's Redis URL carries a password; put such a URL in the Secret")
	}
}
