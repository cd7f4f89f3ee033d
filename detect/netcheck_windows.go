package detect

import (
	"context"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// systemDNS lists the DNS servers of the adapters that are up (GetAdaptersAddresses).
func systemDNS(context.Context) ([]string, error) {
	size := uint32(15 << 10)
	var buf []byte
	var err error
	for i := 0; i < 3; i++ {
		buf = make([]byte, size)
		err = windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_SKIP_ANYCAST|windows.GAA_FLAG_SKIP_MULTICAST, 0,
			(*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])), &size)
		if err != windows.ERROR_BUFFER_OVERFLOW {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := []string{}
	for a := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])); a != nil; a = a.Next {
		if a.OperStatus != windows.IfOperStatusUp {
			continue
		}
		for d := a.FirstDnsServerAddress; d != nil; d = d.Next {
			sa, err := d.Address.Sockaddr.Sockaddr()
			if err != nil {
				continue
			}
			var ip net.IP
			switch s := sa.(type) {
			case *syscall.SockaddrInet4:
				ip = net.IP(s.Addr[:])
			case *syscall.SockaddrInet6:
				ip = net.IP(s.Addr[:])
			}
			if ip != nil && !seen[ip.String()] {
				seen[ip.String()] = true
				out = append(out, ip.String())
			}
		}
	}
	return out, nil
}

// defaultGateway is not read on Windows yet.
func defaultGateway() string { return "" }
