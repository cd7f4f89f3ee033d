package detect

import (
	"context"
	"os/exec"
	"strings"
)

// systemDNS asks scutil --dns for the resolvers in use.
func systemDNS(ctx context.Context) ([]string, error) {
	out, err := exec.CommandContext(ctx, "scutil", "--dns").Output()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	servers := []string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.HasPrefix(k, "nameserver[") {
			v = strings.TrimSpace(v)
			if !seen[v] {
				seen[v] = true
				servers = append(servers, v)
			}
		}
	}
	return servers, nil
}

// defaultGateway is not read on macOS yet.
func defaultGateway() string { return "" }
