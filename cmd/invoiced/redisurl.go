package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// parseRedisURL reads INVOICED_REDIS_URL. asynq's ParseRedisURI handles
// redis://, rediss:// and redis-socket://; Sentinel is parsed by
// parseSentinelURL. A Redis Cluster is
//
//	redis-cluster://[user:password@]host1:port1,host2:port2,…[?option=value&…]
//
// or rediss-cluster:// for TLS. The hosts are seed nodes: any reachable one
// tells the client the rest. The options are go-redis's ClusterOptions in
// snake case (dial_timeout=5s, read_timeout, pool_size, max_redirects,
// route_by_latency, …; see redis.ParseClusterURL); an unknown one is an
// error. A cluster has only database 0, so a path other than / or /0 is
// refused.
//
// Errors never repeat the URL, which may hold a password.
func parseRedisURL(raw string) (asynq.RedisConnOpt, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("not a valid URL: %w", err)
	}
	switch u.Scheme {
	case "redis-cluster", "rediss-cluster":
		return parseClusterURL(u)
	case "redis-sentinel", "rediss-sentinel":
		return parseSentinelURL(u)
	case "redis", "rediss", "redis-socket":
		opt, err := asynq.ParseRedisURI(raw)
		if err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "asynq: "))
		}
		return opt, nil
	default:
		return nil, fmt.Errorf("scheme %q: want redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster://", u.Scheme)
	}
}

// parseClusterURL turns the redis-cluster:// form into the one go-redis
// parses (redis://first?addr=second&addr=third), so the options and their
// checks are go-redis's own.
func parseClusterURL(u *url.URL) (asynq.RedisConnOpt, error) {
	if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
		return nil, fmt.Errorf("redis-cluster: database %q: a Redis Cluster has only database 0", p)
	}
	hosts, err := hostList(u)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, errors.New("redis-cluster: no host: want redis-cluster://host1:port1,host2:port2,…")
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	g := url.URL{Scheme: strings.TrimSuffix(u.Scheme, "-cluster"), User: u.User, Host: hosts[0], RawQuery: q.Encode()}
	opts, err := redis.ParseClusterURL(g.String())
	if err != nil {
		return nil, fmt.Errorf("redis-cluster: %s", strings.TrimPrefix(err.Error(), "redis: "))
	}
	return clusterOpt{opts}, nil
}

// hostList splits the comma-separated host:port list of a Cluster or
// Sentinel URL, each with its port.
func hostList(u *url.URL) ([]string, error) {
	var hosts []string
	for h := range strings.SplitSeq(u.Host, ",") {
		if h == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return nil, fmt.Errorf("%s: %q: want host:port", u.Scheme, h)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// parseSentinelURL reads the Sentinel form
//
//	redis-sentinel://[user:password@]host1:port1,host2:port2,…[/db]?master=NAME[&option=value…]
//
// or rediss-sentinel:// for TLS to the Sentinels and the master. The
// hosts are Sentinels; the user and password log in to the master and,
// unless sentinel_username or sentinel_password say otherwise (an empty
// sentinel_password= for Sentinels without one), to the Sentinels too.
// asynq's own parser gave the password to the Sentinels only, so a
// master with requirepass refused every command. The other options are
// go-redis's FailoverOptions in snake case (dial_timeout, pool_size,
// replica_only, …; see redis.ParseFailoverURL); an unknown one is an
// error. The form is turned into the one go-redis parses
// (redis://first?addr=second&master_name=…), so the options and their
// checks are go-redis's own.
func parseSentinelURL(u *url.URL) (asynq.RedisConnOpt, error) {
	scheme := strings.TrimSuffix(u.Scheme, "-sentinel")
	hosts, err := hostList(u)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s: no Sentinel: want %s://host1:26379,host2:26379,…?master=NAME", u.Scheme, u.Scheme)
	}
	q := u.Query()
	master := q.Get("master")
	if master == "" {
		master = q.Get("master_name")
	}
	if master == "" {
		return nil, fmt.Errorf("%s: no master name: add ?master=NAME, the name the Sentinels monitor", u.Scheme)
	}
	q.Del("master")
	q.Set("master_name", master)
	user := u.User.Username()
	password, _ := u.User.Password()
	if user != "" {
		q.Set("username", user)
	}
	if password != "" {
		q.Set("password", password)
	}
	sentinelUser, sentinelPassword := user, password
	if q.Has("sentinel_username") {
		sentinelUser = q.Get("sentinel_username")
		q.Del("sentinel_username")
	}
	if q.Has("sentinel_password") {
		sentinelPassword = q.Get("sentinel_password")
		q.Del("sentinel_password")
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	g := url.URL{Scheme: scheme, Host: hosts[0], Path: u.Path, RawQuery: q.Encode()}
	if sentinelUser != "" || sentinelPassword != "" {
		g.User = url.UserPassword(sentinelUser, sentinelPassword)
	}
	opts, err := redis.ParseFailoverURL(g.String())
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: %s", u.Scheme, strings.TrimPrefix(err.Error(), "redis: "))
	}
	if opts.TLSConfig != nil {
		// go-redis names every server after the first Sentinel; each
		// Sentinel and the master it points to is checked against its
		// own host name instead (tls.Dialer fills an empty ServerName).
		opts.TLSConfig.ServerName = ""
	}
	return failoverOpt{opts}, nil
}

// failoverOpt connects asynq and the store through Redis Sentinel with
// every option go-redis parsed; asynq's RedisFailoverClientOpt carries
// only some of them.
type failoverOpt struct{ opts *redis.FailoverOptions }

// MakeRedisClient returns a *redis.Client that asks the Sentinels for the
// master and follows a failover. Each call gets its own copy of the
// options, which go-redis fills with defaults in place.
func (o failoverOpt) MakeRedisClient() any {
	opts := *o.opts
	if o.opts.TLSConfig != nil {
		opts.TLSConfig = o.opts.TLSConfig.Clone()
	}
	return redis.NewFailoverClient(&opts)
}

// clusterOpt connects asynq and the store to a Redis Cluster with every
// option go-redis parsed; asynq's own RedisClusterClientOpt carries only
// some of them.
type clusterOpt struct{ opts *redis.ClusterOptions }

// clusterStateReloadInterval bounds how long a client may route by a stale
// slot map when no command fails to tell it (go-redis's default is 60 s).
const clusterStateReloadInterval = 10 * time.Second

// MakeRedisClient returns a *redis.ClusterClient that reloads the slot map
// when a node fails (see reloadOnNodeError). Each call gets its own copy
// of the options, which go-redis fills with defaults in place.
func (o clusterOpt) MakeRedisClient() any {
	opts := *o.opts
	if opts.ClusterStateReloadInterval == 0 {
		opts.ClusterStateReloadInterval = clusterStateReloadInterval
	}
	c := redis.NewClusterClient(&opts)
	c.OnNewNode(func(node *redis.Client) { node.AddHook(reloadOnNodeError{c}) })
	return c
}

// reloadOnNodeError, hooked into each node's client, makes the cluster
// client reload the slot map as soon as a node fails a command: the
// connection was refused, reset or timed out, or the node answered
// CLUSTERDOWN. go-redis reloads it on MOVED and ASK answers, which a dead
// master never gives, and otherwise only every ClusterStateReloadInterval;
// until then every command for the dead master's slots fails, although
// its replica has taken over (redis/go-redis#3979). Reloads run in the
// background, one at a time.
type reloadOnNodeError struct{ c *redis.ClusterClient }

func (h reloadOnNodeError) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnNodeError) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if nodeFailed(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadOnNodeError) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if nodeFailed(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

// nodeFailed tells a failure of the node or the link to it from an answer
// (a missing key, a failed WATCH, a script's error, MOVED) and from the
// caller giving up. A deadline counts as a failure: a node that does not
// answer in time may be gone, and a needless reload costs one CLUSTER
// SLOTS.
func nodeFailed(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.TxFailedErr) ||
		errors.Is(err, context.Canceled) {
		return false
	}
	var answer redis.Error
	if errors.As(err, &answer) {
		return strings.HasPrefix(answer.Error(), "CLUSTERDOWN")
	}
	return true
}
