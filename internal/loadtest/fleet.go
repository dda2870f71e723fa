package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// fleet is the processes a run starts, each logging to a file in dir.
type fleet struct {
	dir string

	mu    sync.Mutex
	procs []*proc
}

// proc is one started process.
type proc struct {
	name     string
	cmd      *exec.Cmd
	logPath  string
	done     chan struct{}
	waitErr  error
	stopping atomic.Bool
}

// start runs path with args and env (nil: this process's environment).
func (f *fleet) start(name, path string, args, env []string) (*proc, error) {
	logPath := filepath.Join(f.dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	f.mu.Lock()
	f.procs = append(f.procs, p)
	f.mu.Unlock()
	return p, nil
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop asks the process to finish with SIGTERM and kills it after timeout.
func (p *proc) stop(timeout time.Duration) {
	p.stopping.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// check returns an error naming the first process that exited without
// being asked to, with the end of its log.
func (f *fleet) check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.procs {
		select {
		case <-p.done:
			if !p.stopping.Load() {
				return fmt.Errorf("%s exited (%v); the end of its log:\n%s", p.name, p.waitErr, logTail(p.logPath, 20))
			}
		default:
		}
	}
	return nil
}

// stopAll stops every process still running, the latest started first.
func (f *fleet) stopAll() {
	f.mu.Lock()
	procs := append([]*proc(nil), f.procs...)
	f.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop(10 * time.Second)
	}
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startRedis runs a redis-server from PATH on a free loopback port, with
// persistence off, and returns its URL.
func (f *fleet) startRedis(ctx context.Context) (string, *proc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("redis-server is not on PATH: install it (Debian: apt-get install redis-server) or pass -redis-url")
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Join(f.dir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no"}
	p, err := f.start("redis-server", bin, args, nil)
	if err != nil {
		return "", nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", nil, fmt.Errorf("redis-server on %s did not answer; its log:\n%s", addr, logTail(p.logPath, 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "redis://" + addr + "/0", p, nil
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is this process's environment without any INVOICED_ variable,
// plus vars: the roles see only the configuration the run sets, so that
// runs on different shells compare.
func childEnv(vars ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INVOICED_") {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

// rssSampler records the largest resident set size of watched processes,
// read from /proc every interval. Where /proc is missing it records
// nothing.
type rssSampler struct {
	mu    sync.Mutex
	pids  map[int]string // pid → group
	peaks map[string]int64
	stop  chan struct{}
	done  chan struct{}
}

func newRSSSampler(interval time.Duration) *rssSampler {
	s := &rssSampler{pids: map[int]string{}, peaks: map[string]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// watch adds pid to group, e.g. "worker".
func (s *rssSampler) watch(pid int, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids[pid] = group
}

// unwatch stops sampling pid.
func (s *rssSampler) unwatch(pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pids, pid)
}

func (s *rssSampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, group := range s.pids {
		if rss, ok := readRSS(pid); ok && rss > s.peaks[group] {
			s.peaks[group] = rss
		}
	}
}

// take returns the largest RSS of any one process of each group since
// the last take, in bytes, and starts over.
func (s *rssSampler) take() map[string]int64 {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.peaks
	s.peaks = map[string]int64{}
	return out
}

func (s *rssSampler) close() {
	close(s.stop)
	<-s.done
}

// readRSS reads VmRSS from /proc/pid/status, in bytes.
func readRSS(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// loadAverage is the one-minute load average from /proc/loadavg, or -1.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// cpuTime is the CPU time, user and system, that process pid has used,
// read from /proc/pid/stat at the usual 100 ticks per second.
func cpuTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces; the fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}
