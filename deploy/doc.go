// Package deploy holds what runs invoiced as a fleet: the container image
// (Dockerfile), a compose file for one Docker host, and Kubernetes manifests
// (k8s/). It has no code; its tests read those files and check what the
// binary and Redis need of them: roles, probes, grace periods, non-root
// users, persistence, and that every variable they set is one invoiced reads.
package deploy
